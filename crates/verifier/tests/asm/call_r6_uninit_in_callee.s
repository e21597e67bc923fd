; The callee cannot read the caller's r6.
; log_level: 2
; expect: reject
; msg: R6 !read_ok
r6 = 3
call f
exit
f: r0 = r6
exit
