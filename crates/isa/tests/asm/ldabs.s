; load: socket
; Legacy packet loads (BPF_ABS, BPF_IND); they need the context in r6.
r6 = r1
r7 = 2
r0 = *(u8 *)skb[0]
r0 = *(u16 *)skb[12]
r0 = *(u32 *)skb[14]
r0 = *(u8 *)skb[r7 + 0]
r0 = *(u16 *)skb[r7 + 10]
r0 = *(u32 *)skb[r7 + -2]
r0 = 0
exit
