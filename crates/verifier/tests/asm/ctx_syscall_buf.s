; A syscall program reads and writes its context buffer.
; log_level: 1
; expect: accept
; prog_type: syscall
r2 = *(u64 *)(r1 +0)
*(u32 *)(r1 +100) = r2
r0 = 0
exit
