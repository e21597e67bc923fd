; Sign-extending a pointer.
; expect: accept
r0 = (s8)r10
exit
