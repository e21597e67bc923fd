; bpf_trace_printk with a format read from uninitialised stack.
; log_level: 2
; expect: accept
; prog_type: kprobe
r1 = r10
r1 += -8
r2 = 4
call bpf_trace_printk#6
r0 = 0
exit
