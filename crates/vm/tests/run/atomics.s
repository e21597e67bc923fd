; Atomics on the stack, 32 and 64 bit: add/or/and/xor with and without fetch, xchg, cmpxchg.
; ctx: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
; result: 0x0
; ctx-after: fa 00 00 00 00 00 00 00 69 00 00 00 00 00 00 00 fb 00 00 00 00 00 00 00 6b 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 a5 00 00 00 00 00 00 00
r2 = 100
*(u64 *)(r10 -8) = r2
*(u32 *)(r10 -16) = r2
r3 = 5
lock *(u64 *)(r10 -8) += r3
lock *(u32 *)(r10 -16) += r3
r3 = 0xf0
lock *(u64 *)(r10 -8) |= r3
r3 = 0x1ff
lock *(u64 *)(r10 -8) &= r3
r3 = 3
lock *(u64 *)(r10 -8) ^= r3
r4 = 1
r4 = atomic64_fetch_add((u64 *)(r10 -8), r4)
*(u64 *)(r1 +0) = r4
r4 = 2
r4 = atomic_fetch_or((u32 *)(r10 -16), r4)
*(u64 *)(r1 +8) = r4
r4 = 7
r4 = atomic64_fetch_and((u64 *)(r10 -8), r4)
r5 = 9
r5 = atomic_fetch_xor((u32 *)(r10 -16), r5)
*(u64 *)(r1 +16) = r4
*(u64 *)(r1 +24) = r5
r6 = 77
r6 = atomic64_xchg((u64 *)(r10 -8), r6)
r0 = 77
r7 = 88
r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r7)
*(u64 *)(r1 +32) = r6
r2 = *(u64 *)(r10 -8)
r2 += r0
*(u64 *)(r1 +40) = r2
r0 = 0
exit
