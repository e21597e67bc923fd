; r0 += imm with a non-zero source register field.
; log_level: 2
; expect: reject
; msg: BPF_ALU uses reserved fields
r0 = 0
.raw 0x07 0 2 0 1
exit
