; lddw of a subprogram needs BTF func_info.
; expect: reject
; msg: missing btf func_info
r1 = subprog[+3]
r0 = 0
exit
r0 = 0
exit
