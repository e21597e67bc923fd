; A socket filter cannot read skb->data.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=76 size=4
r0 = *(u32 *)(r1 +76)
exit
