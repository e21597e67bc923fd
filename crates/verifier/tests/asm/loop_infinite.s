; A loop whose state never changes.
; expect: reject
; msg: infinite loop detected at insn 1
r0 = 0
l: r0 = 0
goto l
