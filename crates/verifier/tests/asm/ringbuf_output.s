; bpf_ringbuf_output of stack memory.
; log_level: 2
; expect: accept
; map: ringbuf 0 0 4096
*(u64 *)(r10 -8) = 1
r1 = map[idx:0]
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call bpf_ringbuf_output#130
r0 = 0
exit
