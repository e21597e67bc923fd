; lddw with an offset.
; log_level: 2
; expect: reject
; msg: BPF_LD_IMM64 uses reserved fields
.raw 0x18 0 0 1 0
.raw 0 0 0 0 0
r0 = 0
exit
