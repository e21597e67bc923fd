; Exit without setting r0.
; log_level: 2
; expect: reject
; msg: R0 !read_ok
exit
