// Scalar bounds as C code produces them: masks, shifts, signed and unsigned compares, 32-bit
// subregisters, and copies sharing a bounds check. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

u8 table[64];

SEC("syscall")
__description("an unsigned compare bounds the index")
__success __retval(0)
int unsigned_bound(void *ctx)
{
	u64 i = bpf_get_prandom_u32();

	if (i < 64)
		table[i] = 1;
	return 0;
}

SEC("syscall")
__description("a signed compare alone leaves negative indexes")
__failure __msg("R2 min value is negative, either use unsigned index or do a if (index >=0) check.")
int signed_bound_only(void *ctx)
{
	s64 i = (s64)bpf_get_prandom_u32() - 32;

	barrier_var(i);
	if (i < 64)
		table[i] = 1;
	return 0;
}

SEC("syscall")
__description("both signed bounds")
__success __retval(0)
int signed_both_bounds(void *ctx)
{
	s64 i = (s64)bpf_get_prandom_u32() - 32;

	barrier_var(i);
	if (i >= 0 && i < 64)
		table[i] = 1;
	return 0;
}

SEC("syscall")
__description("a shift keeps the index in range")
__success __retval(0)
int shift_bound(void *ctx)
{
	u32 i = bpf_get_prandom_u32() >> 26;

	table[i] = 1;
	return 0;
}

SEC("syscall")
__description("a shift one bit short")
__failure __msg("invalid access to map value, value_size=64 off=127 size=1")
int shift_too_short(void *ctx)
{
	u32 i = bpf_get_prandom_u32() >> 25;

	table[i] = 1;
	return 0;
}

SEC("syscall")
__description("the check on a copy bounds the original (scalar ids)")
__success __retval(0)
int copy_shares_bounds(void *ctx)
{
	u64 i = bpf_get_prandom_u32();
	u64 j = i;

	barrier_var(j);
	if (j >= 64)
		return 0;
	table[i] = 1;
	return 0;
}

SEC("syscall")
__description("a 32-bit compare bounds the subregister only")
__success __retval(0)
int subreg_bound(void *ctx)
{
	u32 i = bpf_get_prandom_u32();

	if (i > 63)
		return 0;
	table[i] = 1;
	return 0;
}

SEC("syscall")
__description("an addition after the check moves the range out")
__failure __msg("invalid access to map value, value_size=64 off=64 size=1")
int add_after_check(void *ctx)
{
	u64 i = bpf_get_prandom_u32();

	if (i >= 64)
		return 0;
	i += 1;
	barrier_var(i);
	table[i] = 1;
	return 0;
}

SEC("syscall")
__description("multiplication keeps a tight range")
__success __retval(0)
int mul_bound(void *ctx)
{
	u64 i = bpf_get_prandom_u32() & 7;

	table[i * 8 + 7] = 1;
	return 0;
}

SEC("syscall")
__description("a division by a variable that may be zero is fine: BPF defines it")
__success __retval(0)
int div_by_var(void *ctx)
{
	u64 a = bpf_get_prandom_u32(), b = bpf_get_prandom_u32() & 3;

	return (a / b) & 0;
}
