; A reserved record never submitted.
; log_level: 2
; expect: reject
; msg: BPF_EXIT instruction in main prog would lead to reference leak
; map: ringbuf 0 0 4096
r1 = map[idx:0]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r0 = 0
exit
out: r0 = 0
exit
