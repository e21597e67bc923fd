; A callee that returns without setting r0.
; log_level: 2
; expect: reject
; msg: R0 !read_ok
call f
exit
f: r1 = 0
exit
