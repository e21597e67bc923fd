; Exit without setting r0.
; expect: reject
; msg: R0 !read_ok
exit
