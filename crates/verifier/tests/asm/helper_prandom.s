; bpf_get_prandom_u32 returns an unknown scalar and clobbers r1-r5.
; log_level: 1
; expect: reject
; msg: R1 !read_ok
r1 = 1
call bpf_get_prandom_u32#7
r0 += r1
exit
