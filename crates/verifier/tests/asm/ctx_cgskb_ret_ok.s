; A cgroup skb program with a bounded return value.
; expect: accept
; prog_type: cgroup_skb
r0 = *(u32 *)(r1 +0)
r0 &= 1
exit
