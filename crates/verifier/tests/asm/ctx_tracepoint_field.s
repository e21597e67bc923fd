; A tracepoint reads its fields.
; log_level: 2
; expect: accept
; prog_type: tracepoint
r0 = *(u64 *)(r1 +8)
r0 = *(u32 *)(r1 +16)
r0 = 0
exit
