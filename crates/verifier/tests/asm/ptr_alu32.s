; 32-bit arithmetic on a pointer.
; log_level: 2
; expect: reject
; msg: R1 32-bit pointer arithmetic prohibited
w1 += 4
r0 = 0
exit
