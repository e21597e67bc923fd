; bpf_ringbuf_reserve on an array map.
; log_level: 2
; expect: reject
; msg: cannot pass map_type 2 into func bpf_ringbuf_reserve#131
; map: array 4 8 1
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
r0 = 0
exit
