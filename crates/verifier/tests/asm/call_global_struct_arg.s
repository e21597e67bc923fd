; A global function taking a struct by value.
; expect: reject
; msg: Caller passes invalid args into func#1 ('g')
; func: main global int ctx
; func: g global int struct:s:8
r1 = 1
call g
exit
g:
r0 = 0
exit
