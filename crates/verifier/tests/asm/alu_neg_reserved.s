; BPF_NEG with an immediate.
; log_level: 2
; expect: reject
; msg: BPF_NEG uses reserved fields
r0 = 0
.raw 0x87 0 0 0 1
exit
