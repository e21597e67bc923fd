; XDP: a packet read on the side where the check failed.
; log_level: 2
; expect: reject
; msg: R2 offset is outside of the packet
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 14
if r4 > r3 goto bad
r0 = 2
exit
bad: r0 = *(u8 *)(r2 +0)
exit
