; skb->sk is a socket pointer that may be NULL.
; log_level: 2
; expect: accept
r0 = *(u64 *)(r1 +168)
r0 = 0
exit
