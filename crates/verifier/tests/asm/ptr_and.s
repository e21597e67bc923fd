; A bitwise operation on a pointer.
; log_level: 2
; expect: reject
; msg: R2 bitwise operator &= on pointer prohibited
r2 = r10
r2 &= -8
r0 = 0
exit
