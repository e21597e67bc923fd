; A tracepoint cannot read the common fields.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=0 size=8
; prog_type: tracepoint
r0 = *(u64 *)(r1 +0)
exit
