; A shift clears a linked register's id and its delta: a later link starts from delta 0.
; expect: accept
; log_level: 2
r8 = *(u32 *)(r1 +4)
r9 = r8
r8 += 9
r8 >>= 23
r9 = r8
r9 += 7
if r8 > 0x1c goto l
r8 = r9
l: r0 = 0
exit
