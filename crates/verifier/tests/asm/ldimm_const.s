; A 64-bit constant.
; log_level: 2
; expect: accept
r0 = 0x123456789 ll
r0 >>= 32
if r0 != 1 goto bad
exit
bad: r0 = *(u64 *)(r10 +8)
exit
