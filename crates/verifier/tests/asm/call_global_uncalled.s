; A global function no path calls is not verified.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: g global int int
r0 = 0
if r0 != 0 goto skip
exit
skip:
r1 = 1
call g
exit
g:
r0 = *(u64 *)(r10 +8)
exit
