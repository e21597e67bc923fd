; bpf_ktime_get_ns.
; log_level: 2
; expect: accept
call bpf_ktime_get_ns#5
r0 = 0
exit
