; load: socket
; Every atomic operation, on the stack.
r1 = 1
r0 = 0
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -16) = r1
lock *(u64 *)(r10 -8) += r1
lock *(u64 *)(r10 -8) &= r1
lock *(u64 *)(r10 -8) |= r1
lock *(u64 *)(r10 -8) ^= r1
r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)
r1 = atomic64_fetch_and((u64 *)(r10 -8), r1)
r1 = atomic64_fetch_or((u64 *)(r10 -8), r1)
r1 = atomic64_fetch_xor((u64 *)(r10 -8), r1)
r1 = atomic64_xchg((u64 *)(r10 -8), r1)
r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)
lock *(u32 *)(r10 -16) += r1
lock *(u32 *)(r10 -16) &= r1
lock *(u32 *)(r10 -16) |= r1
lock *(u32 *)(r10 -16) ^= r1
r1 = atomic_fetch_add((u32 *)(r10 -16), r1)
r1 = atomic_fetch_and((u32 *)(r10 -16), r1)
r1 = atomic_fetch_or((u32 *)(r10 -16), r1)
r1 = atomic_fetch_xor((u32 *)(r10 -16), r1)
r1 = atomic_xchg((u32 *)(r10 -16), r1)
r0 = atomic_cmpxchg((u32 *)(r10 -16), r0, r1)
r3 = load_acquire((u8 *)(r10 -8))
store_release((u8 *)(r10 -8), r3)
r3 = load_acquire((u16 *)(r10 -8))
store_release((u16 *)(r10 -8), r3)
r3 = load_acquire((u32 *)(r10 -8))
store_release((u32 *)(r10 -8), r3)
r3 = load_acquire((u64 *)(r10 -8))
store_release((u64 *)(r10 -8), r3)
r0 = 0
exit
