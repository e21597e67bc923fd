; A load-acquire from the stack.
; log_level: 2
; expect: accept
r1 = 3
*(u64 *)(r10 -8) = r1
r0 = load_acquire((u64 *)(r10 -8))
exit
