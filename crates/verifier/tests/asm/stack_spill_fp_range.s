; Stack pointer arithmetic out of range for a later access.
; log_level: 2
; expect: reject
; msg: invalid read from stack R2 off=-600 size=8
r2 = r10
r2 += -600
r0 = *(u64 *)(r2 +0)
exit
