; LD_ABS in a subprogram needs BTF.
; expect: reject
; msg: LD_ABS is not allowed in subprogs without BTF
r6 = r1
call f
exit
f:
r0 = *(u8 *)skb[0]
exit
