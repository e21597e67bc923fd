; Submitting before the NULL check.
; log_level: 2
; expect: reject
; msg: R1 type=ringbuf_mem_or_null expected=ringbuf_mem
; map: ringbuf 0 0 4096
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
r0 = 0
exit
