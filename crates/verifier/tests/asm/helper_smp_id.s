; bpf_get_smp_processor_id is bounded by the number of CPUs.
; log_level: 1
; expect: accept
call bpf_get_smp_processor_id#8
if r0 > 100 goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
