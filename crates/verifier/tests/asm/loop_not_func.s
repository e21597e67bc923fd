; bpf_loop's callback argument must be a function pointer.
; expect: reject
; msg: R2 type=scalar expected=func
; func: main global int ctx
r1 = 2
r2 = 0
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
