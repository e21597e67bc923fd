; Submitting a pointer into the middle of the record.
; log_level: 1
; expect: reject
; msg: R1 must have zero offset when passed to release func or trusted arg to kfunc
; map: ringbuf 0 0 4096
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r0 += 8
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
out: r0 = 0
exit
