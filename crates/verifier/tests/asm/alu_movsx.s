; Sign-extending moves.
; log_level: 2
; expect: accept
r1 = 0xff
r2 = (s8)r1
if r2 != -1 goto bad
w3 = (s16)w1
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
