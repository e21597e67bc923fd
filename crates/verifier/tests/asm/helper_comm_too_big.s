; bpf_get_current_comm with a size larger than the buffer.
; log_level: 2
; expect: reject
; msg: invalid write to stack R1 off=-16 size=17
; prog_type: kprobe
r1 = r10
r1 += -16
r2 = 17
call bpf_get_current_comm#16
r0 = 0
exit
