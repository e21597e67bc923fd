; A store above the frame pointer.
; log_level: 2
; expect: reject
; msg: invalid write to stack R10 off=0 size=8
r0 = 0
*(u64 *)(r10 +0) = r0
exit
