; Arithmetic on a pointer that may be NULL.
; log_level: 2
; expect: reject
; msg: R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
; map: hash 4 8 16
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
r0 += 4
r0 = 0
exit
