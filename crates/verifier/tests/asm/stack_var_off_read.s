; A read through a stack pointer with a variable offset.
; log_level: 2
; expect: accept
r0 = 0
*(u64 *)(r10 -8) = r0
*(u64 *)(r10 -16) = r0
r2 = *(u32 *)(r1 +0)
r2 &= 8
r3 = r10
r3 += -16
r3 += r2
r0 = *(u64 *)(r3 +0)
exit
