; A bpf_loop callback must return 0 or 1.
; expect: reject
; msg: At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]
; log_level: 2
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
r0 = 2
exit
