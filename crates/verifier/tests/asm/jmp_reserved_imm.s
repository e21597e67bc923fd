; A register comparison with an immediate set.
; log_level: 2
; expect: reject
; msg: BPF_JMP/JMP32 uses reserved fields
r0 = 0
.raw 0x1d 0 1 0 5
exit
