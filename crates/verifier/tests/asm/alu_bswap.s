; Byte swaps keep constants.
; log_level: 2
; expect: accept
r0 = 0x1234
r0 = be16 r0
if r0 != 0x3412 goto bad
r0 = bswap32 r0
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
