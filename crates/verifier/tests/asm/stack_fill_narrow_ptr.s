; Filling half of a spilled pointer.
; log_level: 2
; expect: reject
; msg: invalid size of register fill
*(u64 *)(r10 -8) = r1
r2 = *(u32 *)(r10 -8)
r0 = 0
exit
