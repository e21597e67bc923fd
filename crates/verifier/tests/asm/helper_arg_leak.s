; A pointer passed as a scalar argument by a privileged loader.
; log_level: 2
; expect: accept
; prog_type: kprobe
r1 = r10
r1 += -16
r2 = 8
r3 = r10
call bpf_probe_read_kernel#113
r0 = 0
exit
