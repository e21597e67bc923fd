; bpf_probe_read_kernel into the stack with a bounded size.
; log_level: 2
; expect: accept
; prog_type: kprobe
r6 = *(u64 *)(r1 +112)
r2 = *(u64 *)(r1 +104)
r2 &= 31
r1 = r10
r1 += -32
r3 = r6
call bpf_probe_read_kernel#113
r0 = 0
exit
