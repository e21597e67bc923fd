; An ALU instruction with a non-zero offset field.
; log_level: 2
; expect: reject
; msg: BPF_ALU uses reserved fields
r0 = 0
.raw 0x07 0 0 3 1
exit
