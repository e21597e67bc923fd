; A callee returning the caller's stack pointer.
; log_level: 2
; expect: reject
; msg: cannot return stack pointer to the caller
r1 = r10
r1 += -8
call f
r0 = 0
exit
f: r0 = r1
exit
