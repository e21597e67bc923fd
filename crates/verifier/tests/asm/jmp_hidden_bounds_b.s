; Linked scalar refinement across 32-bit and 64-bit deltas (random scalar program, seed 103713).
; expect: accept
; prog_type: syscall
; log_level: 2
r9 = r1
w0 = 4
r1 = -32
w2 = -786472470
r3 = *(u32 *)(r9 +48)
r4 = *(u8 *)(r9 +25)
r5 = *(u16 *)(r9 +28)
r6 = 18086459
w7 = 252645135
w8 = 305419896
w7 %= 15
r6 s>>= r1
w0 -= 255
w4 &= -129
if w7 s<= 0xffffffff goto pc+2
r7 = (s16)r7
w3 = (s16)w4
r1 = *(u64 *)(r9 +16)
if w2 s> 0x5 goto pc+5
if w0 >= 0x7 goto pc+4
r5 = 1
w2 -= 65536
r5 s%= r3
w4 &= w3
r5 += r5
r0 = (s8)r4
if r5 & 0x2e goto pc+4
r4 = *(u64 *)(r9 +16)
w8 >>= w6
r6 += r4
r4 &= -128
if r5 s>= r7 goto pc+6
w1 = -w1
r8 = le64 r8
r6 = *(u64 *)(r9 +8)
w8 -= 31
w0 = w3
r4 s>>= 6
w7 /= -2147010002
w0 -= 65536
if r3 <= 0x0 goto pc+4
if w6 s>= w2 goto pc+2
if r1 s< r7 goto pc+1
r5 >>= 60
w6 = (s8)w3
if r6 s> 0x7 goto pc+2
r0 = (s16)r4
if w6 > 0x10 goto pc+2
if r5 <= 0x7 goto pc+1
r0 = 0
exit
