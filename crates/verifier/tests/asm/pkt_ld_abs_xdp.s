; XDP cannot use legacy packet loads.
; log_level: 2
; expect: reject
; msg: BPF_LD_[ABS|IND] instructions not allowed for this program type
; prog_type: xdp
r6 = r1
r0 = *(u8 *)skb[12]
r0 = 2
exit
