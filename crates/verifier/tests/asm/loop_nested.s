; bpf_loop inside a bpf_loop callback.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: outer static int u64 void*
; func: inner static int u64 void*
r1 = 2
r2 = subprog[outer]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
outer:
r1 = 2
r2 = subprog[inner]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
inner:
r0 = 0
exit
