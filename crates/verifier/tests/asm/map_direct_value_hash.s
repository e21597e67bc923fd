; lddw of a hash map's value.
; log_level: 2
; expect: reject
; msg: no direct value access support for this map type
; map: hash 4 16 1 data
r1 = map[idx:0][0]+0
r0 = 0
exit
