; XDP: a packet read after 'if data + 14 > data_end'.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 14
if r4 > r3 goto out
r0 = *(u16 *)(r2 +12)
out: r0 = 2
exit
