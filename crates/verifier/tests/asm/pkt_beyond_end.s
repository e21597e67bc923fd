; XDP: after 'if data > data_end' the second comparison is decided.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
if r2 > r3 goto gt
r0 = 2
exit
gt: if r2 >= r3 goto ge
r0 = *(u64 *)(r10 +8)
ge: r0 = 1
exit
