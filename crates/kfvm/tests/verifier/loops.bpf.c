// Loops: bpf_loop with its callback, bounded loops, infinite loops. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct sum_ctx {
	u64 sum;
};

static int add_index(u32 i, struct sum_ctx *c)
{
	c->sum += i;
	return 0;
}

static int stop_at_five(u32 i, struct sum_ctx *c)
{
	c->sum += i;
	return i == 5;
}

static int bad_return(u32 i, void *c)
{
	return 2;
}

SEC("syscall")
__description("bpf_loop sums 0..9")
__success __retval(45)
int loop_sum(void *ctx)
{
	struct sum_ctx c = {};

	bpf_loop(10, add_index, &c, 0);
	return c.sum;
}

SEC("syscall")
__description("bpf_loop stops when the callback returns 1")
__success __retval(15)
int loop_early_stop(void *ctx)
{
	struct sum_ctx c = {};

	bpf_loop(100, stop_at_five, &c, 0);
	return c.sum;
}

SEC("syscall")
__description("a callback must return 0 or 1")
__failure __msg("At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]")
int loop_bad_callback_return(void *ctx)
{
	bpf_loop(1, bad_return, 0, 0);
	return 0;
}

SEC("syscall")
__description("bpf_loop's flags need not be constant: a non-zero value fails at run time")
__success __retval(0)
int loop_nonconst_flags(void *ctx)
{
	struct sum_ctx c = {};
	u64 flags = bpf_get_prandom_u32();

	bpf_loop(1, add_index, &c, flags);
	return 0;
}

SEC("syscall")
__description("a bounded loop")
__success __retval(28)
int bounded_loop(void *ctx)
{
	int i, s = 0;

	for (i = 0; i < 8; i++) {
		barrier_var(i);
		s += i;
	}
	return s;
}

SEC("syscall")
__description("a loop that never ends")
__failure __msg("infinite loop detected")
int infinite_loop(void *ctx)
{
	int i = 0;

	while (1) {
		barrier_var(i);
		if (i > 1000)
			break;
	}
	return i;
}
