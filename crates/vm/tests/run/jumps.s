; JMP and JMP32 conditions, signed and unsigned, immediates and registers, gotol.
; ctx: 01
; result: 0x1222
; ctx-after: 01
r9 = *(u8 *)(r1 +0)
r0 = 0
r1 = -1
r2 = 1
if r1 > r2 goto pc+1
r0 |= 1
if r1 s> r2 goto pc+1
r0 |= 2
if w1 > 0x7fffffff goto pc+1
r0 |= 4
if w1 s< 0 goto pc+1
r0 |= 8
if r1 & 0x100 goto pc+1
r0 |= 16
if r2 >= 2 goto pc+1
r0 |= 32
if r2 <= 1 goto pc+1
r0 |= 64
if w2 != w1 goto pc+1
r0 |= 128
if r1 s<= -1 goto pc+1
r0 |= 256
if r2 s>= 2 goto pc+1
r0 |= 512
if r1 == -1 goto pc+1
r0 |= 1024
r3 = 0x100000001 ll
if w3 == 1 goto pc+1
r0 |= 2048
if r3 == 1 goto pc+1
r0 |= 4096
if r9 == 0 goto pc+1
gotol pc+1
r0 |= 8192
exit
