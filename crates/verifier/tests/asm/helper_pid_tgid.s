; bpf_get_current_pid_tgid in a kprobe.
; log_level: 2
; expect: accept
; prog_type: kprobe
call bpf_get_current_pid_tgid#14
r0 >>= 32
exit
