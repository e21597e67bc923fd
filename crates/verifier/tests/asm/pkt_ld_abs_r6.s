; A legacy packet load needs the context in r6.
; log_level: 2
; expect: reject
; msg: at the time of BPF_LD_ABS|IND R6 != pointer to skb
r6 = 0
r0 = *(u16 *)skb[12]
r0 = 0
exit
