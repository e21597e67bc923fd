; ALU32: results zero-extended, shifts masked, signed division, modulo by zero keeps dst (32 bits).
; ctx: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
; result: 0x0
; ctx-after: 00 00 00 00 00 00 00 00 fe ff ff ff 00 00 00 00 fd ff ff 7f 00 00 00 00 ff ff ff ff 00 00 00 00 a9 ff ff ff 00 00 00 00 f9 ff ff ff 00 00 00 00
r2 = -1
w2 += 1
*(u64 *)(r1 +0) = r2
r3 = -1
w3 = -5
w3 s/= 2
*(u64 *)(r1 +8) = r3
r4 = 0x7fffffff
w4 *= 3
w4 -= w2
*(u64 *)(r1 +16) = r4
r5 = -1
r6 = 0
w5 %= w6
*(u64 *)(r1 +24) = r5
w7 = -8
w7 s>>= 1
w7 ^= 0x55
*(u64 *)(r1 +32) = r7
w8 = 1
w8 <<= 31
w8 >>= 3
w8 |= 7
w8 &= 0xfff00f
w8 = -w8
*(u64 *)(r1 +40) = r8
w0 = 0
exit
