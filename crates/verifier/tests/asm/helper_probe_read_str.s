; bpf_probe_read_kernel_str's return value is bounded by the size.
; log_level: 2
; expect: accept
; prog_type: kprobe
r1 = r10
r1 += -16
r2 = 16
r3 = 0
call bpf_probe_read_kernel_str#115
if r0 s> 16 goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
