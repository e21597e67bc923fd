; A kprobe reads pt_regs.
; log_level: 2
; expect: accept
; prog_type: kprobe
r0 = *(u64 *)(r1 +112)
r0 = *(u64 *)(r1 +160)
r0 = 0
exit
