; load: socket maps=2
; 64-bit immediates (constants and map references), helper calls,
; bpf-to-bpf calls, may_goto, gotol.
r1 = 0x0
r1 = 0x123456789abcdef0
r1 = 0xffffffffffffffff
r1 = 0x80000000
*(u32 *)(r10 -4) = 0
r1 = map[fd:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0x0 goto pc+1
r1 = *(u64 *)(r0 +0)
r1 = map[idx:1]
r2 = r10
r2 += -4
call bpf_map_lookup_elem
r6 = map[fd:0][0]+8
r6 = map[idx:1][0]+16
r7 = *(u64 *)(r6 +0)
call sub
if r7 > 0x5 goto pc+1
gotol pc+1
r0 = 5
r0 = 0
exit
sub:
r0 = 0
loop:
may_goto pc+2
r0 += 1
goto loop
exit
