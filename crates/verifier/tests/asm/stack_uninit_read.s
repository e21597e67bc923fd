; A privileged loader may read uninitialised stack.
; log_level: 2
; expect: accept
r0 = *(u64 *)(r10 -64)
exit
