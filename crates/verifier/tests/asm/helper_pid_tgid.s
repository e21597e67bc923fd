; bpf_get_current_pid_tgid in a kprobe.
; expect: accept
; prog_type: kprobe
call bpf_get_current_pid_tgid#14
r0 >>= 32
exit
