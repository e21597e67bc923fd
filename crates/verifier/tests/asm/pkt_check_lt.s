; XDP: the range holds on the taken side of 'if data + 8 < data_end'.
; log_level: 2
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 8
if r4 < r3 goto ok
r0 = 1
exit
ok: r0 = *(u64 *)(r2 +0)
r0 = 2
exit
