; An array lookup with a constant key in range cannot return NULL.
; log_level: 2
; expect: reject
; msg: R0 invalid mem access 'map_value_or_null'
; map: array 4 8 4
*(u32 *)(r10 -4) = 3
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
r0 = *(u64 *)(r0 +0)
exit
