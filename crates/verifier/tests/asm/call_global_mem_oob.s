; A global function reading past its memory argument.
; expect: reject
; msg: R1 min value is outside of the allowed memory range
; func: main global int ctx
; func: g global int nonnull:int*
r1 = 0
*(u32 *)(r10 -4) = r1
r1 = r10
r1 += -4
call g
exit
g:
r0 = *(u32 *)(r1 +4)
exit
