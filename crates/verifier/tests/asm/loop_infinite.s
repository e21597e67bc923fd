; A loop whose state never changes.
; log_level: 2
; expect: reject
; msg: infinite loop detected at insn 1
r0 = 0
l: r0 = 0
goto l
