; A pointer passed where a global function takes a scalar.
; expect: reject
; msg: Caller passes invalid args into func#1 ('g')
; log_level: 2
; func: main global int ctx
; func: g global int int
r1 = r10
call g
exit
g:
r0 = 0
exit
