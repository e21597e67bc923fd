; A callee returning its own stack pointer.
; log_level: 2
; expect: reject
; msg: cannot return stack pointer to the caller
call f
r0 = 0
exit
f: r0 = r10
exit
