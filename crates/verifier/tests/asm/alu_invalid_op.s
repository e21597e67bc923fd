; An ALU opcode above BPF_END.
; log_level: 2
; expect: reject
; msg: unknown opcode e7
r0 = 0
.raw 0xe7 0 0 0 0
exit
