; A loop bounded by may_goto.
; log_level: 2
; expect: accept
; processed: 18
r8 = *(u32 *)(r1 +4)
r0 = 0
l: may_goto out
r8 += 1
goto l
out: r0 = 0
exit
