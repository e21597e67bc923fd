; lddw of a subprogram needs BTF func_info.
; log_level: 2
; expect: reject
; msg: missing btf func_info
r1 = subprog[+3]
r0 = 0
exit
r0 = 0
exit
