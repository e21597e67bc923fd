; Frames whose stack sizes add up past 512 bytes.
; log_level: 2
; expect: reject
; msg: combined stack size of 2 calls is 528. Too large
*(u64 *)(r10 -256) = 1
call f
r0 = 0
exit
f: *(u64 *)(r10 -264) = 1
r0 = 0
exit
