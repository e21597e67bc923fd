; A socket filter reads skb->len.
; log_level: 2
; expect: accept
r0 = *(u32 *)(r1 +0)
exit
