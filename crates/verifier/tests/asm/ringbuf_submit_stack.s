; Submitting a stack pointer.
; log_level: 2
; expect: reject
; msg: R1 type=fp expected=ringbuf_mem
; map: ringbuf 0 0 4096
r1 = r10
r1 += -8
r2 = 0
call bpf_ringbuf_submit#132
r0 = 0
exit
