; A non-NULL pointer compared with zero.
; log_level: 2
; expect: reject
; msg: invalid read from stack R10 off=8 size=8
r0 = 0
if r10 != 0 goto ok
r0 = *(u64 *)(r10 +8)
ok: exit
