// Global data: .data, .bss and .rodata become array maps; .rodata is frozen, so the verifier
// reads its values as constants and prunes the branches they decide. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

const volatile u32 debug_level = 0;
const volatile u64 limit = 16;
u64 counter = 5;
u64 hits;
char buf[8];

SEC("syscall")
__description(".data and .bss read and written")
__success __retval(6)
int data_bss(void *ctx)
{
	counter++;
	hits += counter;
	return counter;
}

SEC("syscall")
__description(".rodata is a constant: the dead branch (an invalid access) is never walked")
__success __retval(0)
int rodata_dead_branch(void *ctx)
{
	if (debug_level > 0) {
		u64 *p = (u64 *)(long)debug_level;
		return *p;
	}
	return 0;
}

SEC("syscall")
__description(".rodata values bound an index")
__success __retval(0)
int rodata_bound(void *ctx)
{
	u32 i = bpf_get_prandom_u32();

	if (i >= limit / 2)
		return 0;
	buf[i] = 1;
	return 0;
}

SEC("syscall")
__description(".rodata cannot be written")
__failure __msg("write into map forbidden")
int rodata_write(void *ctx)
{
	*(volatile u64 *)&limit = 1;
	return 0;
}

SEC("syscall")
__description("an index past a global array")
__failure __msg("invalid access to map value")
int bss_past_end(void *ctx)
{
	u32 i = bpf_get_prandom_u32() & 15;

	buf[i] = 1;
	return 0;
}
