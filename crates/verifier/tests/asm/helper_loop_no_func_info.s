; bpf_loop's callback is a BPF_PSEUDO_FUNC lddw: without the program's BTF func_info the kernel refuses it.
; expect: reject
; msg: missing btf func_info
; log_level: 2
r1 = 4
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = 0
exit
