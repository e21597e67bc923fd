; A jump from the main function into a subprogram.
; log_level: 2
; expect: reject
; msg: jump out of range from insn 1 to 4
call pc+2
if r0 == 0x0 goto pc+2
exit
r0 = 1
r0 = 2
exit
