; bpf_probe_read_kernel with an unbounded size.
; log_level: 2
; expect: reject
; msg: R2 unbounded memory access, use 'var &= const' or 'if (var < const)'
; prog_type: kprobe
r2 = *(u64 *)(r1 +104)
r2 >>= 1
r1 = r10
r1 += -32
r3 = 0
call bpf_probe_read_kernel#113
r0 = 0
exit
