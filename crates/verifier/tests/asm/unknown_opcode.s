; callx is not a Linux instruction.
; log_level: 2
; expect: reject
; msg: unknown opcode 8d
r0 = 0
callx r0
exit
