; 32-bit comparisons refine the low half.
; log_level: 2
; expect: accept
r0 = *(u32 *)(r1 +0)
if w0 > 10 goto out
if w0 > 20 goto bad
out: r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
