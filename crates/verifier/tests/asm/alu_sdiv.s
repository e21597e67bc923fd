; Signed division is not tracked.
; log_level: 2
; expect: accept
r0 = -8
r0 s/= 2
exit
