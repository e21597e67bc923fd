; goto with an immediate.
; log_level: 2
; expect: reject
; msg: BPF_JA uses reserved fields
r0 = 0
.raw 0x05 0 0 0 1
exit
