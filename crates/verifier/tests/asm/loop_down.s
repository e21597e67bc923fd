; A loop counting down.
; log_level: 1
; expect: accept
r0 = 10
l: r0 -= 1
if r0 != 0 goto l
exit
