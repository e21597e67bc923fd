; BPF_NEG with an immediate.
; expect: reject
; msg: BPF_NEG uses reserved fields
r0 = 0
.raw 0x87 0 0 0 1
exit
