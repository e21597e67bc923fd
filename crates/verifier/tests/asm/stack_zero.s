; Stores of zero make the slot known zero.
; log_level: 2
; expect: reject
; msg: invalid read from stack R10 off=8 size=8
r2 = 0
*(u32 *)(r10 -4) = r2
*(u32 *)(r10 -8) = 0
r0 = *(u64 *)(r10 -8)
if r0 != 0 goto bad
exit
bad: r0 = *(u64 *)(r10 +8)
exit
