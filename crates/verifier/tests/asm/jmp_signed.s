; Signed comparisons.
; log_level: 2
; expect: accept
r0 = *(u32 *)(r1 +0)
r0 = (s8)r0
if r0 s< -128 goto bad
if r0 s> 127 goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
