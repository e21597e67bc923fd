; The same subprogram called from two sites.
; log_level: 1
; expect: accept
r1 = 1
call f
r6 = r0
r1 = 2
call f
r0 += r6
exit
f: r0 = r1
exit
