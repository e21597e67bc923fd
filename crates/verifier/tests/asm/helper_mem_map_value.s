; A map value as a helper's memory argument.
; log_level: 2
; expect: accept
; prog_type: kprobe
; map: array 4 32 1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = r0
r2 = 32
r3 = 0
call bpf_probe_read_kernel#113
out: r0 = 0
exit
