; exit with an immediate.
; log_level: 2
; expect: reject
; msg: BPF_EXIT uses reserved fields
r0 = 0
.raw 0x95 0 0 0 1
