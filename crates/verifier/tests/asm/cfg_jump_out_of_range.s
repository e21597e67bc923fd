; A jump past the end of the program.
; log_level: 2
; expect: reject
; msg: jump out of range from insn 1 to 5
r0 = 0
if r0 == 0x0 goto pc+3
exit
