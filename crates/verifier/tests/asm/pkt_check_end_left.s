; XDP: 'if data_end > data + 4' with pkt_end on the left.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 4
if r3 > r4 goto ok
r0 = 1
exit
ok: r0 = *(u32 *)(r2 +0)
r0 = 2
exit
