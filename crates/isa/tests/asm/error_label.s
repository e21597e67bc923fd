; Jumps to labels that do not exist.
r0 = 0
if r0 == 0x0 goto done
exit
