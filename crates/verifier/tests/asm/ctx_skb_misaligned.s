; A misaligned read of an __sk_buff field.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=2 size=4
r0 = *(u32 *)(r1 +2)
exit
