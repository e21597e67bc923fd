; A byte swap of 24 bits.
; log_level: 2
; expect: reject
; msg: BPF_END uses reserved fields
r0 = 0
.raw 0xd4 0 0 0 24
exit
