// SPDX-License-Identifier: MIT
/* Syscall programs, global data of every kind, .kconfig and .ksyms externs, subprograms (static,
 * global, hidden), bpf-to-bpf calls, a callback passed by address, a version section. */
#include "common.h"

int counter = 1;                                   /* .data */
const volatile int limit = 10;                     /* .rodata */
const char greeting[] = "hello";                   /* .rodata */
__u64 hits[4];                                     /* .bss */
static int private_state;                          /* .bss, static */
int custom_data SEC(".data.custom") = 7;           /* .data.custom */
const volatile __u32 custom_ro SEC(".rodata.cfg") = 3; /* .rodata.cfg */

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern char CONFIG_HZ_STR[8] __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern const int bpf_prog_active __ksym;
extern const void bpf_prog_fops __ksym __weak;

struct args {
	int in;
	int out;
};

static __noinline int square(int x)
{
	return x * x;
}

__noinline int add_global(int a, int b)
{
	return a + square(b) + counter;
}

__hidden __noinline int hidden_sum(int a)
{
	return a + limit + private_state;
}

static int loop_cb(__u32 idx, void *ctx)
{
	hits[idx & 3] += 1;
	return 0;
}

SEC("syscall")
int run_syscall(struct args *a)
{
	int r = add_global(a->in, 3);

	bpf_loop(4, loop_cb, NULL, 0);
	a->out = r + hidden_sum(r) + custom_data + custom_ro;
	private_state = greeting[1];
	return 0;
}

SEC("syscall")
int versions(void *ctx)
{
	int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	hits[0] = LINUX_KERNEL_VERSION + *active;
	if (CONFIG_BPF_SYSCALL)
		hits[1] = CONFIG_HZ_STR[0];
	if (CONFIG_BPF_JIT == TRI_YES)
		hits[2] = (__u64)&bpf_prog_fops;
	return square(counter);
}

SEC("?raw_tp/sys_exit")
int not_autoloaded(void *ctx)
{
	return hidden_sum(1);
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060c00;
