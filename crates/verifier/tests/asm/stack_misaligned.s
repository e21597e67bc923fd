; A misaligned stack store.
; log_level: 2
; expect: reject
; msg: misaligned stack access off 0+0+-12 size 8
r0 = 0
*(u64 *)(r10 -12) = r0
exit
