; A socket filter reads skb->len.
; expect: accept
r0 = *(u32 *)(r1 +0)
exit
