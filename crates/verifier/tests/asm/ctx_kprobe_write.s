; A kprobe may not write pt_regs.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=112 size=8
; prog_type: kprobe
r0 = 0
*(u64 *)(r1 +112) = r0
exit
