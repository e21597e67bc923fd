; A narrow fill of a wide spilled scalar clears the id and delta.
; expect: accept
; log_level: 2
r8 = *(u32 *)(r1 +4)
r8 <<= 40
r9 = r8
r8 += 9
*(u64 *)(r10 -8) = r8
r8 = *(u32 *)(r10 -8)
r7 = r8
r7 += 3
if r8 > 0x1c goto l
r8 = r7
l: r0 = 0
exit
