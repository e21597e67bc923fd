// The stack: spills and fills, bounds, variable offsets. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("syscall")
__description("an array on the stack indexed by a bounded variable")
__success __retval(3)
int stack_var_index(void *ctx)
{
	u8 a[16] = {};
	u32 i = bpf_get_prandom_u32() & 15;

	a[i] = 3;
	return a[i];
}

SEC("syscall")
__description("a variable stack index that may reach past the frame")
__failure __msg("invalid variable-offset")
int stack_var_index_unbounded(void *ctx)
{
	u8 a[16] = {};
	u32 i = bpf_get_prandom_u32() & 31;

	a[i] = 3;
	return a[0];
}

SEC("syscall")
__description("a pointer spilled and filled keeps its type")
__success __retval(0) __log_level(2) __kfvm_whole_log
__msg("fp-8=map_value")
int spill_fill_pointer(void *ctx)
{
	static u64 v;
	u64 *volatile p = &v;

	*p = 0;
	return *p;
}
