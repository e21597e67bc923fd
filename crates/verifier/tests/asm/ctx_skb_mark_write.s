; A socket filter may not write skb->mark.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=8 size=4
r0 = 0
*(u32 *)(r1 +8) = r0
exit
