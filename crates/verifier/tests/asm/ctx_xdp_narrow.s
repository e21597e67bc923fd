; XDP reads xdp_md fields only whole.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=12 size=2
; prog_type: xdp
r0 = *(u16 *)(r1 +12)
r0 = 2
exit
