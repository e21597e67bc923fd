; A scalar minus a pointer.
; expect: reject
; msg: R0 tried to subtract pointer from scalar
r0 = 4
r0 -= r10
exit
