; Stack access through a copy of the frame pointer with an offset.
; log_level: 2
; expect: accept
r2 = r10
r2 += -32
*(u64 *)(r2 +8) = 7
r0 = *(u64 *)(r10 -24)
exit
