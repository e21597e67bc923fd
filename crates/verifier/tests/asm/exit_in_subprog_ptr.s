; A subprogram must return a scalar.
; log_level: 2
; expect: accept
call f
r0 = 0
exit
f: r0 = r1
exit
