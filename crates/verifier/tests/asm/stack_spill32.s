; A 32-bit spill of a bounded scalar keeps its range.
; log_level: 2
; expect: accept
r2 = *(u32 *)(r1 +0)
r2 &= 15
*(u32 *)(r10 -8) = r2
r3 = *(u32 *)(r10 -8)
if r3 > 15 goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
