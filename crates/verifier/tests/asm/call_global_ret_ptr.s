; A global function must return a scalar.
; expect: reject
; msg: At subprogram exit the register R0 is not a scalar value (fp)
; func: main global int ctx
; func: g global int int
r1 = 1
call g
exit
g:
r0 = r10
exit
