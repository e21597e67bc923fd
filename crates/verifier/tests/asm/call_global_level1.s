; At level 1 the log keeps only the global functions' verdict lines.
; expect: accept
; log_level: 1
; func: main global int ctx
; func: g global int int
r1 = 5
call g
exit
g:
r0 = r1
r0 &= 7
exit
