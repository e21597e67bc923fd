; lddw of the value of a one-element array.
; log_level: 1
; expect: accept
; map: array 4 16 1 data
r1 = map[idx:0][0]+8
r0 = *(u64 *)(r1 +0)
exit
