; A cgroup skb program returns 0 or 1.
; log_level: 1
; expect: reject
; msg: At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]
; prog_type: cgroup_skb
r0 = 2
exit
