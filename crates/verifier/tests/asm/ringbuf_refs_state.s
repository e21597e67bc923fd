; Two reserved records: both must be released.
; log_level: 2
; expect: accept
; map: ringbuf 0 0 4096
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
r6 = r0
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
r7 = r0
if r6 == 0x0 goto a
r1 = r6
r2 = 0
call bpf_ringbuf_submit#132
a: if r7 == 0x0 goto b
r1 = r7
r2 = 0
call bpf_ringbuf_discard#133
b: r0 = 0
exit
