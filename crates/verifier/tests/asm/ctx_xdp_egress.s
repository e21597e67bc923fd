; XDP reads egress_ifindex only when attached to a devmap.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=20 size=4
; prog_type: xdp
r0 = *(u32 *)(r1 +20)
r0 = 2
exit
