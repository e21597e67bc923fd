; XDP: arithmetic on data_end.
; log_level: 2
; expect: reject
; msg: R3 pointer arithmetic on pkt_end prohibited
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r3 += 1
r0 = 2
exit
