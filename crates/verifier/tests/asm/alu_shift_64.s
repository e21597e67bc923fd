; A 64-bit shift by 64.
; log_level: 2
; expect: reject
; msg: invalid shift 64
r0 = 1
r0 <<= 64
exit
