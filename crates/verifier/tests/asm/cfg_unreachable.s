; An instruction no path reaches.
; log_level: 2
; expect: reject
; msg: unreachable insn 2
r0 = 0
exit
r0 = 1
exit
