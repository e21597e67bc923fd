; Narrow reads of __sk_buff fields.
; log_level: 2
; expect: accept
r0 = *(u8 *)(r1 +8)
r2 = *(u16 *)(r1 +10)
exit
