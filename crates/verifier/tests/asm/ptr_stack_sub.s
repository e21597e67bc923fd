; Subtracting from the stack pointer.
; log_level: 2
; expect: reject
; msg: R2 subtraction from stack pointer prohibited
r2 = r10
r3 = 8
r2 -= r3
r0 = 0
exit
