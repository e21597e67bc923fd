; Adding a huge constant to a stack pointer.
; log_level: 2
; expect: reject
; msg: math between fp pointer and 536870912 is not allowed
r3 = r10
r3 += 0x20000000
r0 = 0
exit
