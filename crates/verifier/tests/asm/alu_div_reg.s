; Division by a register is tracked as unknown.
; log_level: 2
; expect: accept
r0 = 100
r1 = *(u32 *)(r1 +0)
r0 /= r1
exit
