; Sign-extending a pointer.
; log_level: 2
; expect: accept
r0 = (s8)r10
exit
