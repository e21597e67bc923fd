; 32-bit modulo by the constant zero.
; log_level: 2
; expect: reject
; msg: div by zero
r0 = 7
w0 %= 0
exit
