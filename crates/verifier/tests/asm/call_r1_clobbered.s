; r1-r5 are not readable after a call.
; log_level: 2
; expect: reject
; msg: R1 !read_ok
r1 = 1
call f
r0 = r1
exit
f: r0 = 0
exit
