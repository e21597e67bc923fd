; A size read from a map value must be bounded.
; log_level: 2
; expect: accept
; prog_type: kprobe
; map: array 4 8 1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r2 = *(u64 *)(r0 +0)
if r2 > 16 goto out
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel#113
out: r0 = 0
exit
