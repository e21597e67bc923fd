; Multiplying a pointer.
; expect: reject
; msg: R1 pointer arithmetic with *= operator prohibited
r1 *= 2
r0 = 0
exit
