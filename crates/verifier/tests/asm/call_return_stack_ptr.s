; A callee returning its own stack pointer.
; expect: reject
; msg: cannot return stack pointer to the caller
call f
r0 = 0
exit
f: r0 = r10
exit
