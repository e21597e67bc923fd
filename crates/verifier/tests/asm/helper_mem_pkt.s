; A packet pointer as a helper's memory argument in XDP.
; log_level: 2
; expect: reject
; msg: helper access to the packet is not allowed
; prog_type: xdp
; map: ringbuf 0 0 4096
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 8
if r4 > r3 goto out
r1 = map[idx:0]
r3 = 8
r4 = 0
call bpf_ringbuf_output#130
out: r0 = 2
exit
