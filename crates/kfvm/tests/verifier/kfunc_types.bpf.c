// SPDX-License-Identifier: MIT
/* kfunc pointer arguments and their BTF types (process_kf_arg_ptr_to_btf_id): exact type
 * identity, a struct whose first member (or a member at the pointer's offset) is the expected
 * type, strict matching for the argument a release kfunc releases, zero offsets for released
 * pointers. Checked against the live kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

/* struct bpf_cpumask starts with a struct cpumask: accepted where a cpumask is expected. */
SEC("syscall")
__success
int first_member(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();
	u32 w;

	if (!m)
		return 0;
	bpf_cpumask_set_cpu(0, m);
	w = bpf_cpumask_weight((const struct cpumask *)m);
	bpf_cpumask_release(m);
	return w;
}

/* The other way round is no match: a struct cpumask is not a bpf_cpumask. */
SEC("syscall")
__failure __msg("kernel function bpf_cpumask_set_cpu args#1 expected pointer to STRUCT bpf_cpumask but R2 has a pointer to STRUCT task_struct")
int not_first_member(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_cpumask_set_cpu(0, (struct bpf_cpumask *)&t->cpus_mask);
	bpf_task_release(t);
	return 0;
}

/* A struct member at the pointer's offset: task_struct's cpus_mask is a struct cpumask. */
SEC("syscall")
__success
int member_at_offset(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	u32 w;

	if (!t)
		return 0;
	w = bpf_cpumask_weight(&t->cpus_mask);
	bpf_task_release(t);
	return w;
}

/* A different struct altogether. */
SEC("syscall")
__failure __msg("kernel function bpf_cpumask_weight args#0 expected pointer to STRUCT cpumask but R1 has a pointer to STRUCT task_struct")
int unrelated_struct(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	u32 w;

	if (!t)
		return 0;
	w = bpf_cpumask_weight((const struct cpumask *)t);
	bpf_task_release(t);
	return w;
}

/* The released argument must be the acquired pointer itself, at offset 0. */
SEC("syscall")
__failure __msg("R1 must have zero offset when passed to release func or trusted arg to kfunc")
int release_with_offset(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();

	if (!m)
		return 0;
	bpf_cpumask_release((struct bpf_cpumask *)&m->usage);
	return 0;
}

/* Acquire takes a bpf_cpumask exactly (KF_TRUSTED_ARGS): and the result must be released. */
SEC("syscall")
__success
int acquire_cpumask(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create(), *m2;

	if (!m)
		return 0;
	m2 = bpf_cpumask_acquire(m);
	bpf_cpumask_release(m2);
	bpf_cpumask_release(m);
	return 0;
}

SEC("syscall")
__failure __msg("Unreleased reference id=")
__kfvm_msg("hint: release the reference acquired by bpf_cpumask_acquire() at insn")
int acquire_cpumask_leak(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create(), *m2;

	if (!m)
		return 0;
	m2 = bpf_cpumask_acquire(m);
	bpf_cpumask_release(m);
	return m2 != 0;
}

/* A KF_RCU kfunc takes NULL no more than a KF_TRUSTED_ARGS one. */
SEC("syscall")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
int null_to_kf_rcu(void *ctx)
{
	return bpf_cpumask_weight(0);
}

/* Two references, of two types. */
SEC("syscall")
__success
int task_under_cgroup(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	struct cgroup *c;
	long r = 0;

	if (!t)
		return 0;
	c = bpf_cgroup_from_id(1);
	if (c) {
		r = bpf_task_under_cgroup(t, c);
		bpf_cgroup_release(c);
	}
	bpf_task_release(t);
	return r;
}

/* Arguments swapped. */
SEC("syscall")
__failure __msg("kernel function bpf_task_under_cgroup args#0 expected pointer to STRUCT task_struct but R1 has a pointer to STRUCT cgroup")
int task_under_cgroup_swapped(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	struct cgroup *c;
	long r = 0;

	if (!t)
		return 0;
	c = bpf_cgroup_from_id(1);
	if (c) {
		r = bpf_task_under_cgroup((struct task_struct *)c, (struct cgroup *)t);
		bpf_cgroup_release(c);
	}
	bpf_task_release(t);
	return r;
}
