; Reserve, write and submit a ring buffer record.
; log_level: 2
; expect: accept
; map: ringbuf 0 0 4096
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r1 = 7
*(u64 *)(r0 +8) = r1
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
out: r0 = 0
exit
