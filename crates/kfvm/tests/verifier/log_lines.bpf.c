// Whole verifier logs with source lines (`; line @ file:N`): branches, subprograms, loops and
// errors after several lines. Each program's kernel log at its __log_level is kept in
// log_lines/NAME.log (BLESS=1) and compared whole with kfvm's. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("syscall")
__description("source lines of a straight path, at level 2")
__success __log_level(2) __kfvm_whole_log
int lines_straight(void *ctx)
{
	u64 a = bpf_get_prandom_u32();
	u64 b = a * 3;

	b += 7;
	return b & 1;
}

SEC("syscall")
__description("source lines on both sides of a branch, at level 2")
__success __log_level(2) __kfvm_whole_log
int lines_branch(void *ctx)
{
	u32 a = bpf_get_prandom_u32();
	int r;

	if (a > 10)
		r = 1;
	else
		r = 2;
	return r;
}

u64 arr[4];

SEC("syscall")
__description("an error after several source lines, at level 1")
__failure __log_level(1) __kfvm_whole_log __msg("invalid access to map value")
int lines_error_late(void *ctx)
{
	u32 i = bpf_get_prandom_u32();
	u64 *p;

	if (i > 100)
		return 0;
	i *= 2;
	p = &arr[0];
	return p[i];
}

SEC("syscall")
__description("an error on a branch's target: level 1 keeps the failing path only")
__failure __log_level(1) __kfvm_whole_log __msg("unbounded memory access")
int lines_error_after_branch(void *ctx)
{
	u32 a = bpf_get_prandom_u32();
	u32 b = a >> 1;

	if (a & 1)
		return arr[b];
	return 1;
}

SEC("syscall")
__description("an error after a loop, at level 1")
__failure __log_level(1) __kfvm_whole_log __msg("unbounded min value is not allowed")
int lines_error_after_loop(void *ctx)
{
	u64 s = 0;
	u32 i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 3; i++)
		s += arr[i];
	return arr[s];
}

SEC("syscall")
__description("an error on a path explored after a safe one, at level 1")
__failure __log_level(1) __kfvm_whole_log __msg("unbounded memory access")
int lines_error_second_path(void *ctx)
{
	u32 a = bpf_get_prandom_u32();
	u32 b = a >> 1;

	if (a & 1) {
		arr[1] = a;
		return 2;
	}
	if (a & 2)
		return arr[b];
	return 1;
}

static __noinline int add_twice(int x)
{
	int y = x + 1;

	return y + x;
}

SEC("syscall")
__description("a static subprogram's lines between the caller's, at level 2")
__success __log_level(2) __kfvm_whole_log
int lines_subprog(void *ctx)
{
	int a = bpf_get_prandom_u32() & 7;

	a = add_twice(a);
	return a & 1;
}

__noinline int global_half(unsigned int x)
{
	return x / 2;
}

SEC("syscall")
__description("a global function verified in its own pass, at level 2")
__success __log_level(2) __kfvm_whole_log
int lines_global(void *ctx)
{
	int a = bpf_get_prandom_u32() & 15;

	return global_half(a) & 1;
}

SEC("syscall")
__description("a bounded loop's lines, once per iteration, at level 2")
__success __log_level(2) __kfvm_whole_log
int lines_loop(void *ctx)
{
	int i, s = 0;

	for (i = 0; i < 3; i++)
		s += i;
	return s;
}

SEC("syscall")
__description("a loop that never ends: the source line before infinite loop detected")
__failure __log_level(1) __kfvm_whole_log __msg("infinite loop detected")
int lines_infinite_loop(void *ctx)
{
	volatile int x = 0;

	while (x == 0)
		;
	return 0;
}

SEC("xdp")
__description("a context access out of range after a few lines, at level 1")
__failure __log_level(1) __kfvm_whole_log __msg("invalid bpf_context access")
int lines_ctx_access(struct xdp_md *ctx)
{
	u32 len = ctx->data_end - ctx->data;

	if (len < 14)
		return XDP_DROP;
	return ((u32 *)ctx)[40];
}

#define DEEP(n, m)						\
	static __noinline int deep##n(int x)			\
	{							\
		return deep##m(x + bpf_get_prandom_u32()) + 1;	\
	}

static __noinline int deep0(int x)
{
	return x + 1;
}
DEEP(1, 0)
DEEP(2, 1)
DEEP(3, 2)
DEEP(4, 3)
DEEP(5, 4)
DEEP(6, 5)
DEEP(7, 6)
DEEP(8, 7)

SEC("syscall")
__description("calls nested nine deep: the call stack is too deep, at level 1")
__failure __log_level(1) __kfvm_whole_log __msg("the call stack of 9 frames is too deep")
int lines_deep_calls(void *ctx)
{
	return deep8(1);
}

SEC("tp_btf/task_newtask")
__description("task_struct fields (CO-RE offsets the model and the kernel place apart), at level 2")
__success __log_level(2) __kfvm_whole_log
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(lines_task_fields, struct task_struct *task, u64 clone_flags)
{
	int pid = task->pid;

	if (pid == 1)
		return task->tgid;
	return 0;
}

SEC("xdp")
__description("BPF_LOG_STATS alone: the source line follows a failed context access")
__failure __log_level(4) __kfvm_whole_log __msg("invalid bpf_context access")
int lines_ctx_access_stats(struct xdp_md *ctx)
{
	u32 len = ctx->data_end - ctx->data;

	if (len < 14)
		return XDP_DROP;
	return ((u32 *)ctx)[40];
}

SEC("syscall")
__description("BPF_LOG_STATS alone: the source line precedes a pointer spilled in 4 bytes")
__failure __log_level(4) __kfvm_whole_log __msg("invalid size of register spill")
__naked void lines_spill_size_stats(void)
{
	asm volatile ("r1 = r10; *(u32 *)(r10 - 8) = r1; r0 = 0; exit;" ::: "r1", "r0");
}

SEC("syscall")
__description("BPF_LOG_STATS alone: the source line precedes a pointer filled in 4 bytes")
__failure __log_level(4) __kfvm_whole_log __msg("invalid size of register fill")
__naked void lines_fill_size_stats(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r10; r0 = *(u32 *)(r10 - 8); exit;" ::: "r0");
}
