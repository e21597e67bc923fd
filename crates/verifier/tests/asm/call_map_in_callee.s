; A callee with a map lookup.
; log_level: 2
; expect: accept
; map: hash 4 8 16
call f
exit
f: *(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r0 = *(u64 *)(r0 +0)
out: r0 = 0
exit
