; A loop counter kept on the stack.
; log_level: 2
; expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
l: r1 = *(u64 *)(r10 -8)
r1 += 1
*(u64 *)(r10 -8) = r1
if r1 < 5 goto l
r0 = 0
exit
