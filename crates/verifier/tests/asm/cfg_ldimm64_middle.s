; A jump into the second slot of a lddw.
; log_level: 2
; expect: reject
; msg: jump into the middle of ldimm64 insn 2
r0 = 0
if r0 == 0x0 goto pc+1
r1 = 0x1122334455667788 ll
r0 = 1
exit
