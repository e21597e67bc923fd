; A shift by a negative immediate.
; log_level: 1
; expect: reject
; msg: invalid shift -1
r0 = 1
r0 >>= -1
exit
