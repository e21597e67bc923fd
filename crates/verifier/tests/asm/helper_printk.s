; bpf_trace_printk with a format on the stack.
; log_level: 2
; expect: accept
; prog_type: kprobe
r1 = 0x0a6425
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
r2 = 4
r3 = 42
call bpf_trace_printk#6
r0 = 0
exit
