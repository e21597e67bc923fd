; A bound on r6 bounds r7 = r6 + 4.
; log_level: 1
; expect: accept
; map: hash 4 64 16
r6 = *(u32 *)(r1 +0)
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r7 = r6
r7 += 4
if r6 > 59 goto out
r0 += r7
r0 = *(u8 *)(r0 +0)
out: r0 = 0
exit
