; Sign-extending loads of packet pointers.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=76 size=4
; prog_type: sched_cls
r2 = *(s32 *)(r1 +76)
r0 = 0
exit
