; A 32-bit move of a pointer gives a scalar to a privileged loader.
; log_level: 2
; expect: accept
w0 = w10
exit
