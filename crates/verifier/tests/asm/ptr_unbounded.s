; Adding an unbounded scalar to a stack pointer.
; log_level: 2
; expect: reject
; msg: value -2147483648 makes fp pointer be out of bounds
r2 = *(u32 *)(r1 +0)
r3 = r10
r2 = (s32)r2
r3 += r2
r0 = 0
exit
