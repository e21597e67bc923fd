; A read past the end of pt_regs.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=168 size=8
; prog_type: kprobe
r0 = *(u64 *)(r1 +168)
exit
