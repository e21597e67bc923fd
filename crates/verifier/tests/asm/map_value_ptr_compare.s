; Comparing two map value pointers.
; log_level: 2
; expect: accept
; map: hash 4 8 16
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = r0
r1 += 4
if r1 > r0 goto out
out: r0 = 0
exit
