; A helper id past the last one.
; log_level: 2
; expect: reject
; msg: invalid func unknown#999
call 999
r0 = 0
exit
