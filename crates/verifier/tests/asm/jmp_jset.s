; BPF_JSET refinement.
; log_level: 2
; expect: accept
r0 = *(u32 *)(r1 +0)
r0 &= 3
if r0 & 4 goto bad
r0 = 0
exit
bad: r0 = *(u64 *)(r10 +8)
exit
