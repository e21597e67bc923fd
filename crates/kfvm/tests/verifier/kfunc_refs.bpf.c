// SPDX-License-Identifier: MIT
/* kfunc references: KF_ACQUIRE makes one, KF_RET_NULL makes the result maybe-NULL until it is
 * checked, KF_RELEASE releases it (and every copy dies with it), a leak on any path is refused,
 * a release of something not acquired is refused. Checked against the live kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

/* Acquire, check against NULL, release. */
SEC("tc")
__success
int acquire_check_release(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_task_release(t);
	return 0;
}

/* The result of a KF_RET_NULL kfunc is maybe-NULL: it may not be passed on unchecked. */
SEC("tc")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
__kfvm_msg("hint: check the result of bpf_task_from_pid() against NULL before passing it to bpf_task_release()")
int release_unchecked(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	bpf_task_release(t);
	return 0;
}

/* Forgotten release on the non-NULL path. */
SEC("tc")
__failure __msg("Unreleased reference id=")
__msg("BPF_EXIT instruction in main prog would lead to reference leak")
__kfvm_msg("hint: release the reference acquired by bpf_task_from_pid() at insn")
int leak(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	return 1;
}

/* Released on one path only. */
SEC("tc")
__failure __msg("Unreleased reference id=")
int leak_on_one_path(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	if (skb->len > 100) {
		bpf_task_release(t);
		return 1;
	}
	return 0;
}

/* A NULL result needs no release. */
SEC("tc")
__success
int null_needs_no_release(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(skb->len);

	if (t)
		bpf_task_release(t);
	return 0;
}

/* Two references, both released. */
SEC("tc")
__success
int two_refs(struct __sk_buff *skb)
{
	struct task_struct *a = bpf_task_from_pid(1), *b;

	if (!a)
		return 0;
	b = bpf_task_from_pid(2);
	if (!b) {
		bpf_task_release(a);
		return 0;
	}
	bpf_task_release(b);
	bpf_task_release(a);
	return 0;
}

/* After the release, every copy of the pointer is dead. */
SEC("tc")
__failure __msg("R6 invalid mem access 'scalar'")
int use_after_release(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	int pid;

	if (!t)
		return 0;
	bpf_task_release(t);
	asm volatile("" ::: "memory");
	pid = t->pid;
	return pid;
}

/* Released twice: the second release finds nothing to release. */
SEC("tc")
__failure __msg("arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar")
int double_release(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_task_release(t);
	bpf_task_release(t);
	return 0;
}

/* A reference acquired from a pointer that was itself acquired: both released. */
SEC("tc")
__success
int acquire_from_acquired(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1), *t2;

	if (!t)
		return 0;
	t2 = bpf_task_acquire(t);
	if (t2)
		bpf_task_release(t2);
	bpf_task_release(t);
	return 0;
}

/* A cgroup reference: from an id, released with the cgroup release kfunc. */
SEC("tc")
__success
int cgroup_from_id(struct __sk_buff *skb)
{
	struct cgroup *c = bpf_cgroup_from_id(1);

	if (!c)
		return 0;
	bpf_cgroup_release(c);
	return 0;
}

/* The wrong release kfunc: a task is not a cgroup. */
SEC("tc")
__failure __msg("kernel function bpf_cgroup_release args#0 expected pointer to STRUCT cgroup but R1 has a pointer to STRUCT task_struct")
int wrong_release(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_cgroup_release((struct cgroup *)t);
	return 0;
}

/* The context is not a refcounted PTR_TO_BTF_ID. */
SEC("tc")
__failure __msg("arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar")
int release_ctx(struct __sk_buff *skb)
{
	bpf_task_release((struct task_struct *)skb);
	return 0;
}

/* A KF_RET_NULL result read before its NULL check. */
SEC("tc")
__failure __msg("invalid mem access 'ptr_or_null_'")
__kfvm_msg("hint: bpf_task_from_pid() may return NULL: check the pointer against NULL before using it")
int deref_unchecked(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	int pid = t->pid;

	if (t)
		bpf_task_release(t);
	return pid;
}

/* A trusted pointer that is not a reference: the context's task may not be released. */
SEC("tp_btf/task_newtask")
__failure __msg("release kernel function bpf_task_release expects refcounted PTR_TO_BTF_ID")
__kfvm_msg("hint: bpf_task_release() releases a reference")
int BPF_PROG(release_ctx_task, struct task_struct *task, u64 clone_flags)
{
	bpf_task_release(task);
	return 0;
}

/* The context's task is trusted: acquiring a reference to it is fine. */
SEC("tp_btf/task_newtask")
__success __kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(acquire_ctx_task, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task);

	if (t)
		bpf_task_release(t);
	return 0;
}
