; A global function is verified on its own, for any scalar argument.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: g global int int
r1 = 5
call g
exit
g:
r0 = r1
r0 &= 7
exit
