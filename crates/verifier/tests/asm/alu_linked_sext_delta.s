; A sign-extending move that changes the value clears the id and delta of the copy.
; expect: accept
; log_level: 2
r8 = *(u32 *)(r1 +4)
r9 = r8
r8 += 9
r8 = (s32)r8
r7 = r8
r7 += 3
if r8 > 0x1c goto l
r8 = r7
l: r0 = 0
exit
