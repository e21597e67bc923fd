; XDP: metadata checked against data.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +8)
r3 = *(u32 *)(r1 +0)
r4 = r2
r4 += 4
if r4 > r3 goto out
r0 = *(u32 *)(r2 +0)
out: r0 = 2
exit
