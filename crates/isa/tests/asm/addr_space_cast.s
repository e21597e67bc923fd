; load: socket
; Address-space casts (arena pointers); the verifier wants an arena map for them.
r1 = 0
r2 = addr_space_cast(r1, 0, 1)
r2 = addr_space_cast(r1, 1, 0)
r0 = 0
exit
