; A spilled pointer comes back as a pointer.
; log_level: 2
; expect: accept
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r10 -8)
r0 = *(u32 *)(r2 +0)
exit
