; A scalar as the key argument.
; log_level: 2
; expect: reject
; msg: R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
; map: hash 4 8 16
r1 = map[idx:0]
r2 = 0
call bpf_map_delete_elem#3
r0 = 0
exit
