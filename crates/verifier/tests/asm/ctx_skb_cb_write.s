; A socket filter may write skb->cb[].
; log_level: 1
; expect: accept
r0 = 0
*(u32 *)(r1 +48) = r0
*(u64 *)(r1 +56) = r0
exit
