; bpf_spin_lock on a map created without BTF.
; expect: reject
; msg: map '' has to have BTF in order to use bpf_spin_lock
; map: array 4 64 1
; log_level: 2
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto out
r1 = r0
call bpf_spin_lock#93
out: r0 = 0
exit
