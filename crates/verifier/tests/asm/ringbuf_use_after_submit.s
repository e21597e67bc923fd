; A write after submitting the record.
; log_level: 2
; expect: reject
; msg: R6 invalid mem access 'scalar'
; map: ringbuf 0 0 4096
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r6 = r0
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
r1 = 7
*(u64 *)(r6 +0) = r1
out: r0 = 0
exit
