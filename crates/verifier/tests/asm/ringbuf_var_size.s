; Reserving a size that is not a known constant.
; log_level: 2
; expect: reject
; msg: R2 is not a known constant'
; map: ringbuf 0 0 4096
r2 = *(u32 *)(r1 +0)
r1 = map[idx:0]
r3 = 0
call bpf_ringbuf_reserve#131
r0 = 0
exit
