; Syscall context accesses must be aligned.
; log_level: 2
; expect: reject
; msg: invalid bpf_context access off=4 size=8
; prog_type: syscall
r2 = *(u64 *)(r1 +4)
r0 = 0
exit
