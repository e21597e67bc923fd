; A bpf_loop callback returning a pointer.
; expect: reject
; msg: cannot return stack pointer to the caller
; func: main global int ctx
; func: cb static int u64 void*
r1 = 3
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = r10
exit
