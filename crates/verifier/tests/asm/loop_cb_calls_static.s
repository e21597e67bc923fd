; A callback calling a static subprogram.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: cb static int u64 void*
; func: f static int int
r1 = 2
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r1 = 0
call f
exit
f:
r0 = r1
exit
