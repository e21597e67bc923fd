; bpf_map_lookup_elem on a ring buffer.
; log_level: 2
; expect: reject
; msg: invalid zero-sized read
; map: ringbuf 0 0 4096
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
r0 = 0
exit
