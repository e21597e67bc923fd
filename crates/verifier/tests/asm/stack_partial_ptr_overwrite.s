; Overwriting part of a spilled pointer turns the slot into data.
; log_level: 1
; expect: reject
; msg: R2 invalid mem access 'scalar'
*(u64 *)(r10 -8) = r1
r0 = 0
*(u32 *)(r10 -8) = r0
r2 = *(u64 *)(r10 -8)
r0 = *(u32 *)(r2 +0)
exit
