; A static subprogram call: arguments, return value, callee-saved registers.
; log_level: 2
; expect: accept
r6 = 3
r1 = 4
call add
r0 += r6
exit
add: r0 = r1
r0 += 1
exit
