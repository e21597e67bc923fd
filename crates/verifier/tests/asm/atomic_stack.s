; Atomic operations on a stack slot: add, fetch_or, xchg, cmpxchg.
; log_level: 2
; expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
r2 = 5
lock *(u64 *)(r10 -8) += r2
r2 = atomic64_fetch_or((u64 *)(r10 -8), r2)
r3 = 7
r3 = atomic64_xchg((u64 *)(r10 -8), r3)
r0 = 1
r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r3)
r0 = 0
exit
