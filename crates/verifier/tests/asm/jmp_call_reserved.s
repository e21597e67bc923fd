; A helper call with an offset.
; log_level: 2
; expect: reject
; msg: BPF_CALL uses reserved fields
.raw 0x85 0 0 1 7
exit
