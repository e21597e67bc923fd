; A shift by a negative immediate.
; expect: reject
; msg: invalid shift -1
r0 = 1
r0 >>= -1
exit
