; A scalar minus a pointer.
; log_level: 2
; expect: reject
; msg: R0 tried to subtract pointer from scalar
r0 = 4
r0 -= r10
exit
