; Writing the frame pointer.
; log_level: 2
; expect: reject
; msg: frame pointer is read only
r10 = 0
r0 = 0
exit
