; callx is not a Linux instruction.
; expect: reject
; msg: unknown opcode 8d
r0 = 0
callx r0
exit
