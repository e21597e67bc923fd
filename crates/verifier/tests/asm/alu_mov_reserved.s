; r0 = imm with a source register.
; log_level: 1
; expect: reject
; msg: BPF_MOV uses reserved fields
.raw 0xb7 0 1 0 0
exit
