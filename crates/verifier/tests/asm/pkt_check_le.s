; XDP: 'if data + 4 <= data_end' taken.
; log_level: 1
; expect: accept
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 4
if r4 <= r3 goto ok
r0 = 1
exit
ok: r0 = *(u32 *)(r2 +0)
r0 = 2
exit
