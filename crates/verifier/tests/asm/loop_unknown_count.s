; bpf_loop with an iteration count from the context: the callback is visited until states converge.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: cb static int u64 void*
r1 = *(u32 *)(r1 +0)
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = r1
r0 &= 1
exit
