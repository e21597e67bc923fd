; An immediate store is tracked as a constant spill.
; log_level: 2
; expect: accept
*(u64 *)(r10 -8) = 42
r0 = *(u64 *)(r10 -8)
if r0 != 42 goto bad
exit
bad: r0 = *(u64 *)(r10 +8)
exit
