; Atomically adding a pointer into memory is allowed to a privileged loader.
; log_level: 2
; expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
lock *(u64 *)(r10 -8) += r10
r0 = 0
exit
