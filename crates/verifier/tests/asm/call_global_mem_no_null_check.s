; A global function must check its nullable memory argument.
; expect: reject
; msg: R1 invalid mem access 'mem_or_null'
; func: main global int ctx
; func: g global int int*
r1 = 0
*(u32 *)(r10 -4) = r1
r1 = r10
r1 += -4
call g
exit
g:
r0 = *(u32 *)(r1 +0)
exit
