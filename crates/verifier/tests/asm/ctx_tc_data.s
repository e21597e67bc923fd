; A TC program gets packet pointers.
; log_level: 2
; expect: accept
; prog_type: sched_cls
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 8
if r4 > r3 goto out
r0 = *(u64 *)(r2 +0)
out: r0 = 0
exit
