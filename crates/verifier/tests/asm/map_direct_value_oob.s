; lddw of a value offset past the array's value.
; log_level: 2
; expect: reject
; msg: invalid access to map value pointer, value_size=16 off=16
; map: array 4 16 1 data
r1 = map[idx:0][0]+16
r0 = 0
exit
