; A subprogram must return a scalar.
; expect: accept
call f
r0 = 0
exit
f: r0 = r1
exit
