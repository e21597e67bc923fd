; XDP: a packet read without a bounds check.
; log_level: 2
; expect: reject
; msg: R2 offset is outside of the packet
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r0 = *(u8 *)(r2 +0)
r0 = 2
exit
