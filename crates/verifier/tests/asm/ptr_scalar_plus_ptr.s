; scalar += pointer gives a pointer.
; log_level: 2
; expect: accept
r2 = -8
r2 += r10
*(u64 *)(r2 +0) = 1
r0 = *(u64 *)(r10 -8)
exit
