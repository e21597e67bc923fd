; func_info must have one record per subprogram.
; expect: reject
; msg: number of funcs in func_info doesn't match number of subprogs
; func: main global int ctx
call f
exit
f:
r0 = 0
exit
