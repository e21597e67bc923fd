; A helper call with an offset.
; expect: reject
; msg: BPF_CALL uses reserved fields
.raw 0x85 0 0 1 7
exit
