; A map value pointer stored into the map by a privileged loader.
; log_level: 1
; expect: accept
; map: hash 4 8 16
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
*(u64 *)(r0 +0) = r0
out: r0 = 0
exit
