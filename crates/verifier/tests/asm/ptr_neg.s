; Negating a pointer makes it a scalar for a privileged loader.
; log_level: 1
; expect: accept
r2 = r10
r2 = -r2
r0 = r2
exit
