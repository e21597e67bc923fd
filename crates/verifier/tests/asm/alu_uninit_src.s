; Reading a register nothing wrote.
; log_level: 2
; expect: reject
; msg: R3 !read_ok
r0 = 1
r0 += r3
exit
