; A bounded loop.
; log_level: 2
; expect: accept
; processed: 27
r0 = 0
r1 = 0
l: r0 += r1
r1 += 1
if r1 < 8 goto l
exit
