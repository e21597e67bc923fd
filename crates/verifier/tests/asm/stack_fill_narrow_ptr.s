; Filling half of a spilled pointer.
; expect: reject
; msg: invalid size of register fill
*(u64 *)(r10 -8) = r1
r2 = *(u32 *)(r10 -8)
r0 = 0
exit
