; A TC program may not write skb->len.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=0 size=4
; prog_type: sched_cls
r0 = 1
*(u32 *)(r1 +0) = r0
r0 = 0
exit
