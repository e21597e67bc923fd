; load: socket
; A callback's address (lddw with BPF_PSEUDO_FUNC). Linux refuses it without BTF func_info, but
; prints the instruction first, with the relative offset as its value.
r1 = 3
r2 = subprog[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = 0
exit
