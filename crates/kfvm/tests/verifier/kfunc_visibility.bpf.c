// SPDX-License-Identifier: MIT
/* Which programs may call which kfuncs (fetch_kfunc_meta: the common hook, the program type's
 * hook), and what happens to a kfunc the kernel does not have. Checked against the live kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

extern void bpf_kfvm_no_such_kfunc(void) __weak __ksym;

/* The task kfuncs are registered for TC, XDP, tracing, syscall, struct_ops and cgroup programs:
 * not for socket filters. */
SEC("socket")
__failure __msg("calling kernel function bpf_task_from_pid is not allowed")
__kfvm_msg("hint: bpf_task_from_pid() may be called from")
int task_kfunc_in_socket_filter(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

SEC("tc")
__success
int task_kfunc_in_tc(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

/* The cpumask kfuncs: tracing, syscall and struct_ops only. */
SEC("tc")
__failure __msg("calling kernel function bpf_cpumask_create is not allowed")
__kfvm_msg("hint: bpf_cpumask_create() may be called from tracepoint, perf_event, tracing, struct_ops, lsm, syscall programs only")
int cpumask_in_tc(struct __sk_buff *skb)
{
	struct bpf_cpumask *m = bpf_cpumask_create();

	if (m)
		bpf_cpumask_release(m);
	return 0;
}

SEC("syscall")
__success
int cpumask_in_syscall(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();

	if (m)
		bpf_cpumask_release(m);
	return 0;
}

/* The region kfuncs are in the common hook: every program type. */
SEC("socket")
__success
int rcu_in_socket_filter(struct __sk_buff *skb)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

/* A weak kfunc the kernel does not have is NULL: a program may test for it, and the call it
 * guards is dead code. */
SEC("tc")
__success
int weak_kfunc_guarded(struct __sk_buff *skb)
{
	if (bpf_kfvm_no_such_kfunc)
		bpf_kfvm_no_such_kfunc();
	return 0;
}
