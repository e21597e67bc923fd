; A cgroup skb program with a bounded return value.
; log_level: 2
; expect: accept
; prog_type: cgroup_skb
r0 = *(u32 *)(r1 +0)
r0 &= 1
exit
