; XDP may not write xdp_md.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=12 size=4
; prog_type: xdp
r0 = 0
*(u32 *)(r1 +12) = r0
r0 = 2
exit
