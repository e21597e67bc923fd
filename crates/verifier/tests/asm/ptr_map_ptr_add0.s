; Adding zero to a map pointer is allowed.
; log_level: 2
; expect: accept
; map: array 4 8 1
r1 = map[idx:0]
r1 += 0
r0 = 0
exit
