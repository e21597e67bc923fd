; A callee spills and fills its own stack.
; log_level: 2
; expect: accept
r1 = 5
call f
exit
f: *(u64 *)(r10 -8) = r1
r0 = *(u64 *)(r10 -8)
exit
