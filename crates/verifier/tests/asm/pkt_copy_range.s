; XDP: a copy of a checked packet pointer shares its range.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r6 = r2
r4 = r2
r4 += 8
if r4 > r3 goto out
r0 = *(u64 *)(r6 +0)
out: r0 = 2
exit
