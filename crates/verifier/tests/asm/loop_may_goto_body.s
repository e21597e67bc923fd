; A may_goto loop with a map lookup in its body.
; log_level: 2
; expect: accept
; map: array 4 8 4
r6 = 0
l: may_goto out
*(u32 *)(r10 -4) = 1
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r6 += 1
goto l
out: r0 = 0
exit
