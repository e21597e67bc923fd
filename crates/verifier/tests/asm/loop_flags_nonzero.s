; bpf_loop with nonzero flags is not inlined (stack depth stays).
; expect: accept
; log_level: 4
; func: main global int ctx
; func: cb static int u64 void*
r1 = 2
r2 = subprog[cb]
r3 = 0
r4 = 1
call bpf_loop#181
r0 = 0
exit
cb:
r0 = 0
exit
