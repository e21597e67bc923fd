; A TC program may write skb->mark.
; log_level: 2
; expect: accept
; prog_type: sched_cls
r0 = 1
*(u32 *)(r1 +8) = r0
r0 = 0
exit
