; A callback must be a static function.
; expect: reject
; msg: callback function not static
; func: main global int ctx
; func: cb global int u64 void*
r1 = 2
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = 0
exit
