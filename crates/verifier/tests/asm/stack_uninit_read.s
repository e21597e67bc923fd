; A privileged loader may read uninitialised stack.
; expect: accept
r0 = *(u64 *)(r10 -64)
exit
