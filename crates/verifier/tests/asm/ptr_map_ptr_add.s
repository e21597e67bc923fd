; Arithmetic on a map pointer.
; log_level: 2
; expect: reject
; msg: R1 pointer arithmetic on map_ptr prohibited
; map: array 4 8 1
r1 = map[idx:0]
r1 += 8
r0 = 0
exit
