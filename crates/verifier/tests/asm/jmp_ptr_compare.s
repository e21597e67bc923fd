; A privileged loader may compare pointers.
; log_level: 2
; expect: accept
r2 = r10
if r2 == r1 goto out
out: r0 = 0
exit
