; A jump decided by a known range.
; log_level: 1
; expect: accept
r0 = *(u32 *)(r1 +0)
r0 &= 0xff
if r0 > 255 goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
