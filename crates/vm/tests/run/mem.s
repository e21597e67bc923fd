; LDX/ST/STX at every size, sign-extending loads (MEMSX), and lddw.
; ctx: f1 f2 f3 f4 f5 f6 f7 f8 81 82 83 84 85 86 87 88 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
; result: 0x11223344
; ctx-after: f1 f2 f3 f4 f5 f6 f7 f8 81 82 83 84 85 86 87 88 58 6e 7b 7c 85 86 87 88 89 0a 87 88 ff ff ff ff aa 00 cc bb fe ff ff ff fd ff ff ff ff ff ff ff
r2 = *(u8 *)(r1 +0)
r3 = *(u16 *)(r1 +2)
r4 = *(u32 *)(r1 +4)
r5 = *(u64 *)(r1 +8)
r6 = *(s8 *)(r1 +8)
r7 = *(s16 *)(r1 +10)
r8 = *(s32 *)(r1 +12)
r2 += r3
r2 += r4
r2 ^= r5
*(u64 *)(r1 +16) = r2
r6 += r7
r6 += r8
*(u64 *)(r1 +24) = r6
*(u8 *)(r1 +32) = 0xaa
*(u16 *)(r1 +34) = 0xbbcc
*(u32 *)(r1 +36) = -2
*(u64 *)(r10 -8) = -3
r9 = *(u64 *)(r10 -8)
*(u64 *)(r1 +40) = r9
r0 = 0x1122334455667788 ll
r0 >>= 32
exit
