; A 32-bit operation zero-extends into the 64-bit register.
; log_level: 2
; expect: accept
r0 = -1
w0 += 0
if r0 > 0xffffffff goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
