; bpf_loop with a stack context the callback increments: the iteration converges by widening.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: cb static int u64 void*
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = 10
r2 = subprog[cb]
r3 = r10
r3 += -8
r4 = 0
call bpf_loop#181
r0 = *(u64 *)(r10 -8)
r0 = 0
exit
cb:
r3 = *(u64 *)(r2 +0)
r3 += 1
*(u64 *)(r2 +0) = r3
r0 = 0
exit
