; A map value as the key of another lookup.
; log_level: 2
; expect: accept
; map: hash 8 8 16
*(u64 *)(r10 -8) = 0
r2 = r10
r2 += -8
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r2 = r0
r1 = map[idx:0]
call bpf_map_lookup_elem#1
out: r0 = 0
exit
