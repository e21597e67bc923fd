; callx (BPF_JMP | BPF_CALL | BPF_X): Linux refuses the opcode (`unknown opcode 8d`) before it prints
; anything; print_bpf_insn would print it as `call bpf_unspec#0`.
r1 = 1
callx r1
r0 = 0
exit
