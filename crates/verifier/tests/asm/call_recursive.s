; A subprogram calling itself.
; log_level: 1
; expect: reject
; msg: the call stack of 9 frames is too deep
call f
exit
f: call f
exit
