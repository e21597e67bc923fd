; A jump decided by constants: the other side is never checked.
; log_level: 2
; expect: accept
r0 = 1
if r0 == 1 goto ok
r0 = *(u64 *)(r10 +8)
ok: exit
