; A privileged socket filter may return a pointer.
; log_level: 2
; expect: accept
r0 = r10
exit
