; w8 = w8 on a wider-than-32-bit value clears the id and delta.
; expect: accept
; log_level: 2
r8 = *(u32 *)(r1 +4)
r8 <<= 20
r9 = r8
r8 += 9
w8 = w8
r7 = r8
r7 += 3
if r8 > 0x1c goto l
r8 = r7
l: r0 = 0
exit
