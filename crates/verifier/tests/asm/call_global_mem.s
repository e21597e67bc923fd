; A global function taking int *: nullable memory of 4 bytes.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: g global int int*
r1 = 0
*(u32 *)(r10 -4) = r1
r1 = r10
r1 += -4
call g
exit
g:
r0 = 0
if r1 == 0 goto out
r0 = *(u32 *)(r1 +0)
out:
exit
