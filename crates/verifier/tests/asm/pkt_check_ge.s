; XDP: 'if data + 14 >= data_end' proves 13 bytes.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 14
if r4 >= r3 goto out
r0 = *(u8 *)(r2 +13)
out: r0 = 2
exit
