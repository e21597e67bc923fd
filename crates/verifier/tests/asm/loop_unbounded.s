; A loop bounded only by an unknown value hits the complexity limit.
; expect: reject
; msg: BPF program is too large. Processed 1000001 insn
; log_level: 4
r6 = *(u32 *)(r1 +0)
r0 = 0
l: r0 += 1
if r0 < r6 goto l
exit
