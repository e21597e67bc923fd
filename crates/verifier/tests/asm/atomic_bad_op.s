; An atomic opcode that does not exist.
; log_level: 2
; expect: reject
; msg: BPF_ATOMIC uses invalid atomic opcode 70
r2 = 1
.raw 0xdb 10 2 -8 0x70
r0 = 0
exit
