; A static subprogram with BTF is verified in its caller's context.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: f static int int
r1 = 3
call f
exit
f:
r0 = r1
exit
