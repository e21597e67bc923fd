; The main function falls through into a subprogram.
; log_level: 2
; expect: reject
; msg: last insn is not an exit or jmp
call pc+2
r0 = 0
r0 = 1
r0 = 2
exit
