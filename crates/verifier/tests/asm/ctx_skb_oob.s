; A read past the end of __sk_buff.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=192 size=4
r0 = *(u32 *)(r1 +192)
exit
