; A NULL check on one copy validates the other.
; log_level: 2
; expect: accept
; map: hash 4 8 16
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
r6 = r0
if r0 == 0x0 goto out
r0 = *(u64 *)(r6 +0)
out: r0 = 0
exit
