; 32-bit subtraction of a pointer gives a scalar to a privileged loader.
; log_level: 1
; expect: accept
r2 = r10
w2 -= w1
r0 = 0
exit
