; XDP: reading through data_end.
; log_level: 2
; expect: reject
; msg: R3 invalid mem access 'pkt_end'
; prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r0 = *(u8 *)(r3 +0)
r0 = 2
exit
