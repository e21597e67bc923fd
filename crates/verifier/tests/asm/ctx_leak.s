; Storing a pointer into the context.
; log_level: 2
; expect: accept
*(u64 *)(r1 +48) = r10
r0 = 0
exit
