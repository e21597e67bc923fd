; A socket filter may not write skb->mark.
; expect: reject
; msg: invalid bpf_context access off=8 size=4
r0 = 0
*(u32 *)(r1 +8) = r0
exit
