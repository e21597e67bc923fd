; load: socket
; Every conditional jump, JMP and JMP32, with an immediate and with a register;
; unconditional jumps forward and back. Fresh random operands for each test keep the
; verifier's state count (and the log) small.
r0 = 0
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 == 0x0 goto pc+1
r9 = 1
if r6 == r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 != 0x7 goto pc+1
r9 = 1
if r6 != r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 > 0xe goto pc+1
r9 = 1
if r6 > r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 >= 0x15 goto pc+1
r9 = 1
if r6 >= r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 < 0x1c goto pc+1
r9 = 1
if r6 < r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 <= 0x23 goto pc+1
r9 = 1
if r6 <= r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 s> 0x2a goto pc+1
r9 = 1
if r6 s> r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 s>= 0x31 goto pc+1
r9 = 1
if r6 s>= r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 s< 0x38 goto pc+1
r9 = 1
if r6 s< r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 s<= 0x3f goto pc+1
r9 = 1
if r6 s<= r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if r6 & 0x46 goto pc+1
r9 = 1
if r6 & r0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 == 0xfffffff0 goto pc+1
r9 = 1
if w6 == w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 != 0xfffffff1 goto pc+1
r9 = 1
if w6 != w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 > 0xfffffff2 goto pc+1
r9 = 1
if w6 > w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 >= 0xfffffff3 goto pc+1
r9 = 1
if w6 >= w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 < 0xfffffff4 goto pc+1
r9 = 1
if w6 < w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 <= 0xfffffff5 goto pc+1
r9 = 1
if w6 <= w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 s> 0xfffffff6 goto pc+1
r9 = 1
if w6 s> w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 s>= 0xfffffff7 goto pc+1
r9 = 1
if w6 s>= w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 s< 0xfffffff8 goto pc+1
r9 = 1
if w6 s< w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 s<= 0xfffffff9 goto pc+1
r9 = 1
if w6 s<= w0 goto pc+1
r9 = 2
call bpf_get_prandom_u32#7
r6 = r0
call bpf_get_prandom_u32#7
if w6 & 0xfffffffa goto pc+1
r9 = 1
if w6 & w0 goto pc+1
r9 = 2
goto pc+0
r1 = 0
r1 += 1
if r1 < 0x3 goto pc-2
if r6 > 0x0 goto pc+1
goto fwd
r0 = 1
fwd:
r0 = 0
exit
