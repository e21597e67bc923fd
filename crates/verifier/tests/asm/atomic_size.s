; An 8-bit atomic add.
; log_level: 1
; expect: reject
; msg: invalid atomic operand size
r2 = 1
.raw 0xd3 10 2 -8 0
r0 = 0
exit
