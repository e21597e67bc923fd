; 32-bit subtraction of a pointer gives a scalar to a privileged loader.
; expect: accept
r2 = r10
w2 -= w1
r0 = 0
exit
