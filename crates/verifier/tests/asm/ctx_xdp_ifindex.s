; XDP reads ingress_ifindex.
; log_level: 1
; expect: accept
; prog_type: xdp
r0 = *(u32 *)(r1 +12)
r0 = 2
exit
