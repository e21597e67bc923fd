; An atomic add on uninitialised stack by a privileged loader.
; log_level: 2
; expect: accept
r2 = 1
lock *(u64 *)(r10 -8) += r2
r0 = 0
exit
