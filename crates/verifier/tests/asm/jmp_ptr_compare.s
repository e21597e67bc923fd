; A privileged loader may compare pointers.
; expect: accept
r2 = r10
if r2 == r1 goto out
out: r0 = 0
exit
