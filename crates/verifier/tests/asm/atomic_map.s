; An atomic add into a map value.
; log_level: 2
; expect: accept
; map: array 4 8 1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = 1
lock *(u32 *)(r0 +0) += r1
out: r0 = 0
exit
