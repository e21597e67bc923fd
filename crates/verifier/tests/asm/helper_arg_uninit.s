; A helper's map argument holds the context.
; log_level: 2
; expect: reject
; msg: R1 type=ctx expected=map_ptr
call bpf_map_delete_elem#3
r0 = 0
exit
