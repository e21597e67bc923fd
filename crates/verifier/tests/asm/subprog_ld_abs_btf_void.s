; LD_ABS in a subprogram that returns void.
; expect: reject
; msg: LD_ABS is only allowed in functions that return 'int'.
; func: main global int ctx
; func: f static void
r6 = r1
call f
exit
f:
r0 = *(u8 *)skb[0]
exit
