; The program falls off its end.
; log_level: 2
; expect: reject
; msg: last insn is not an exit or jmp
r0 = 0
exit
r0 = 1
