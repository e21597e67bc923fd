; Narrow reads of __sk_buff fields.
; expect: accept
r0 = *(u8 *)(r1 +8)
r2 = *(u16 *)(r1 +10)
exit
