; A global function taking void *: its size cannot be determined.
; expect: reject
; msg: Caller passes invalid args into func#1 ('g')
; func: main global int ctx
; func: g global int void*
r1 = 0
call g
exit
g:
r0 = 0
exit
