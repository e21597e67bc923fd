; Atomics on the context are not allowed.
; log_level: 2
; expect: reject
; msg: BPF_ATOMIC stores into R1 ctx is not allowed
r2 = 1
lock *(u32 *)(r1 +48) += r2
r0 = 0
exit
