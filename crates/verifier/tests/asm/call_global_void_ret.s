; A global function returning void.
; expect: reject
; msg: Caller passes invalid args into func#1 ('g')
; func: main global int ctx
; func: g global void int
r1 = 1
call g
r0 = 0
exit
g:
r0 = 0
exit
