// SPDX-License-Identifier: MIT
/* Kernel-selftest style programs: bpf_misc.h annotations travel as btf_decl_tag("comment:...")
 * in the object's BTF; naked inline-asm bodies give exact instruction sequences. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, long long);
	__type(value, long long);
} map_hash_8b SEC(".maps");

SEC("socket")
__description("invalid and of negative number")
__failure __msg("R0 max value is outside of the allowed memory range")
__log_level(2)
__naked void and_negative(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u64*)(r10 - 8) = r1;				\
	r2 = r10;					\
	r2 += -8;					\
	r1 = %[map_hash_8b] ll;				\
	call %[bpf_map_lookup_elem];			\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u8*)(r0 + 0);				\
	r1 &= -4;					\
	r1 <<= 2;					\
	r0 += r1;					\
l0_%=:	r1 = %[test_val_foo];				\
	*(u64*)(r0 + 0) = r1;				\
	exit;						\
"	:
	: __imm(bpf_map_lookup_elem),
	  __imm_addr(map_hash_8b),
	  __imm_const(test_val_foo, 4)
	: __clobber_all);
}

SEC("socket")
__description("ret 42")
__success __retval(42)
__xlated("0: r0 = 42")
__xlated("1: exit")
__naked void ret_42(void)
{
	asm volatile ("r0 = 42; exit;" ::: __clobber_all);
}

static __noinline int helper(int x)
{
	return x + 1;
}

SEC("tc")
__success __msg("from helper") __not_msg("unreachable") __flag(BPF_F_TEST_STATE_FREQ)
int calls_helper(struct __sk_buff *skb)
{
	return helper(skb->len);
}

char _license[] SEC("license") = "GPL";
