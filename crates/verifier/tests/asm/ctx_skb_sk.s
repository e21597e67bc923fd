; skb->sk is a socket pointer that may be NULL.
; expect: accept
r0 = *(u64 *)(r1 +168)
r0 = 0
exit
