; Storing a pointer into the context.
; expect: accept
*(u64 *)(r1 +48) = r10
r0 = 0
exit
