; bpf-to-bpf calls: arguments in R1-R5, R6-R9 kept across the call, a fresh stack frame.
; result: 0x2d
r6 = 10
*(u64 *)(r10 -8) = r6
r1 = 3
r2 = 4
call pc+4
r0 += r6
r1 = *(u64 *)(r10 -8)
r0 += r1
exit
r6 = 99
*(u64 *)(r10 -8) = r6
r0 = r1
r0 *= r2
r0 += 13
exit
