; Multiplying a pointer.
; log_level: 2
; expect: reject
; msg: R1 pointer arithmetic with *= operator prohibited
r1 *= 2
r0 = 0
exit
