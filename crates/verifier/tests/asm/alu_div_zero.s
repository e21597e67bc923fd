; Division by the constant zero.
; expect: reject
; msg: div by zero
r0 = 7
r0 /= 0
exit
