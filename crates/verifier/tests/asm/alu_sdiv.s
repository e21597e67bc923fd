; Signed division is not tracked.
; expect: accept
r0 = -8
r0 s/= 2
exit
