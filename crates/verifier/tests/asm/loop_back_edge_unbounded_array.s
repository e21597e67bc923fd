; A loop walking a map value by index.
; expect: accept
; map: array 4 64 1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = 0
l: r2 = r0
r2 += r1
r3 = *(u8 *)(r2 +0)
r1 += 1
if r1 < 64 goto l
out: r0 = 0
exit
