; Reading a register nothing wrote.
; expect: reject
; msg: R3 !read_ok
r0 = 1
r0 += r3
exit
