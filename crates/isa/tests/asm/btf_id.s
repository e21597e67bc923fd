; Not loaded: this kernel has no kallsyms address for per-CPU variables, so Linux refuses it.
; A kernel variable's address by BTF id (lddw with BPF_PSEUDO_BTF_ID). 13786 was
; `bpf_prog_active` in the BTF of the kernel the logs were captured on.
r1 = btf_id[13786]
r0 = 0
exit
