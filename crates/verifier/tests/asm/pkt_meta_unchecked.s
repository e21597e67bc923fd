; XDP: metadata read without a check.
; log_level: 1
; expect: reject
; msg: R2 offset is outside of the packet
; prog_type: xdp
r2 = *(u32 *)(r1 +8)
r0 = *(u32 *)(r2 +0)
r0 = 2
exit
