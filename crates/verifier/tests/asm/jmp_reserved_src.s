; An immediate comparison with a source register set.
; log_level: 2
; expect: reject
; msg: BPF_JMP/JMP32 uses reserved fields
r0 = 0
.raw 0x15 0 1 0 5
exit
