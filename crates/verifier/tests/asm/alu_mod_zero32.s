; 32-bit modulo by the constant zero.
; expect: reject
; msg: div by zero
r0 = 7
w0 %= 0
exit
