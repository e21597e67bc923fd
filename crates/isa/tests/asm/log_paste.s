; Verifier-log lines paste as they are: slot index, opcode, text, register state after `;`.
0: (b7) r0 = 0                        ; R0=0
1: (bf) r6 = r1                       ; R1=ctx() R6=ctx()
2: (61) r1 = *(u32 *)(r6 +0)          ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()
3: (85) call bpf_get_prandom_u32#7    ; R0=scalar()
4: (55) if r0 != 0x0 goto pc+1        ; R0=0
5: (95) exit
