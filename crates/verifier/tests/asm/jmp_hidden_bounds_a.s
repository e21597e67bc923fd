; A refinement leaves a constant var_off with wider bounds: the log prints 0, later branches see the bounds (random scalar program, seed 101345).
; expect: accept
; prog_type: syscall
; log_level: 2
r9 = r1
r0 = *(u64 *)(r9 +48)
r1 = *(u32 *)(r9 +28)
r2 = -9
r3 = *(u8 *)(r9 +27)
r4 = -29
r5 = *(u64 *)(r9 +8)
r6 = *(u8 *)(r9 +42)
r7 = 15
r8 = *(u32 *)(r9 +52)
w6 = (s8)w3
w0 /= 64
w3 /= 32
w3 += -32768
if w0 <= 0xf0f0f0f goto pc+5
r4 s>>= r1
r3 = be64 r3
w0 s/= w6
if w4 s<= w2 goto pc+5
r6 %= r6
w6 = (s16)w1
r0 *= 5
if r1 s< r3 goto pc+1
r5 %= r0
r1 &= r8
r4 s/= r8
w5 ^= w2
r5 -= 542736224
if r3 < r6 goto pc+4
r8 = *(u64 *)(r9 +8)
w2 *= 7
r5 += 7
r3 -= r3
if r0 s< r3 goto pc+1
if r2 s< 0xfe06fff7 goto pc+6
w6 s%= -2
if r7 == 0x20 goto pc+4
if r1 s>= r4 goto pc+3
w7 s/= w8
r1 *= r3
if w1 & w0 goto pc+1
r0 = 0
exit
