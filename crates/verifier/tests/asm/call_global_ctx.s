; A global function taking the context.
; expect: accept
; log_level: 2
; func: main global int ctx
; func: g global int ctx
call g
exit
g:
r0 = *(u32 *)(r1 +0)
exit
