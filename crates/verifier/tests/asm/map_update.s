; bpf_map_update_elem with key and value on the stack.
; log_level: 2
; expect: accept
; map: hash 4 8 16
*(u32 *)(r10 -4) = 1
*(u64 *)(r10 -16) = 2
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r1 = map[idx:0]
r4 = 0
call bpf_map_update_elem#2
r0 = 0
exit
