; A TC program's legacy packet load.
; log_level: 2
; expect: accept
; prog_type: sched_cls
r6 = r1
r0 = *(u8 *)skb[12]
r0 = 0
exit
