; A variable-offset stack access that may leave the stack.
; log_level: 1
; expect: reject
; msg: invalid variable-offset read from stack R3 var_off=(0x0; 0x10) off=-8 size=8
r2 = *(u32 *)(r1 +0)
r2 &= 16
r3 = r10
r3 += -8
r3 += r2
r0 = *(u64 *)(r3 +0)
exit
