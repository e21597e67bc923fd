; Negating a pointer makes it a scalar for a privileged loader.
; expect: accept
r2 = r10
r2 = -r2
r0 = r2
exit
