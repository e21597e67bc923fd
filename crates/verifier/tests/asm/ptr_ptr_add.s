; Adding two pointers.
; log_level: 2
; expect: reject
; msg: R1 pointer += pointer prohibited
r1 += r10
r0 = 0
exit
