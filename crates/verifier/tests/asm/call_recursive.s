; A subprogram calling itself.
; expect: reject
; msg: the call stack of 9 frames is too deep
call f
exit
f: call f
exit
