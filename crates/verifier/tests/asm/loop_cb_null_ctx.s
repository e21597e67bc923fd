; A callback dereferencing its NULL context.
; expect: reject
; msg: R2 invalid mem access 'scalar'
; func: main global int ctx
; func: cb static int u64 void*
r1 = 2
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = *(u64 *)(r2 +0)
r0 = 0
exit
