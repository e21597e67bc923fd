; A 32-bit arithmetic shift by 32.
; log_level: 2
; expect: reject
; msg: invalid shift 32
r0 = 1
w0 s>>= 32
exit
