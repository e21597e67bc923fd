; bpf_loop with zero flags is inlined: 24 bytes more stack in the statistics.
; expect: accept
; log_level: 4
; func: main global int ctx
; func: cb static int u64 void*
r1 = 2
*(u32 *)(r10 -4) = r1
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = 0
exit
