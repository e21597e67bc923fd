; Subtracting two pointers gives a scalar to a privileged loader.
; log_level: 2
; expect: accept
r2 = r10
r2 -= r1
r0 = r2
exit
