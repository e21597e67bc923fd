; XDP: a bounded variable offset into the packet.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r5 = *(u32 *)(r1 +12)
r5 &= 15
r2 += r5
r4 = r2
r4 += 4
if r4 > r3 goto out
r0 = *(u32 *)(r2 +0)
out: r0 = 2
exit
