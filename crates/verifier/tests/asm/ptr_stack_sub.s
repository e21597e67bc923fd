; Subtracting from the stack pointer.
; expect: reject
; msg: R2 subtraction from stack pointer prohibited
r2 = r10
r3 = 8
r2 -= r3
r0 = 0
exit
