; A call to a destination outside the program.
; log_level: 2
; expect: reject
; msg: call to invalid destination
call pc+5
r0 = 0
exit
