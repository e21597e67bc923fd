; A global main taking void *: the BTF message is logged, the program still verifies.
; expect: accept
; log_level: 2
; func: main global int void*
r0 = 0
exit
