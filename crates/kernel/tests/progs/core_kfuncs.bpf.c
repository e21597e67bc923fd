// Programs as a user writes them against this machine's real vmlinux.h (bpftool btf dump file
// /sys/kernel/btf/vmlinux format c), calling task, cgroup and cpumask kfuncs and reading kernel
// structures through CO-RE. tests/core_link.rs checks they resolve against the kernel model.
// Rebuild: ./build.sh (needs bpftool and clang; the object is committed).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern long bpf_task_under_cgroup(struct task_struct *task, struct cgroup *ancestor) __ksym;
extern struct cgroup *bpf_task_get_cgroup1(struct task_struct *task, int hierarchy_id) __ksym;
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ksym;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym;
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern struct bpf_cpumask *bpf_cpumask_acquire(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
extern bool bpf_cpumask_and(struct bpf_cpumask *dst, const struct cpumask *src1, const struct cpumask *src2) __ksym;
extern u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_first(const struct cpumask *cpumask) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

char LICENSE[] SEC("license") = "GPL";

u64 seen_cgid, seen_pid, seen_weight, seen_sum;
char seen_comm[16];

SEC("tp_btf/task_newtask")
int BPF_PROG(task_and_cgroup, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task);
	struct cgroup *cgrp, *anc;

	if (!t)
		return 0;
	seen_pid = t->pid + t->tgid;
	__builtin_memcpy(seen_comm, t->comm, sizeof(seen_comm));
	bpf_rcu_read_lock();
	seen_pid += t->real_parent->pid + t->group_leader->tgid;
	cgrp = t->cgroups->dfl_cgrp;
	if (cgrp) {
		seen_cgid = cgrp->kn->id + cgrp->level;
		anc = bpf_cgroup_ancestor(cgrp, 1);
		if (anc) {
			seen_cgid += bpf_task_under_cgroup(t, anc);
			seen_cgid += anc->self.id;
			bpf_cgroup_release(anc);
		}
	}
	bpf_rcu_read_unlock();
	cgrp = bpf_cgroup_from_id(seen_cgid);
	if (cgrp) {
		anc = bpf_cgroup_acquire(cgrp);
		if (anc)
			bpf_cgroup_release(anc);
		bpf_cgroup_release(cgrp);
	}
	cgrp = bpf_task_get_cgroup1(t, 1);
	if (cgrp) {
		seen_cgid += cgrp->root->hierarchy_id;
		bpf_cgroup_release(cgrp);
	}
	bpf_task_release(t);
	t = bpf_task_from_pid(1);
	if (t) {
		seen_pid += BPF_CORE_READ(t, mm, exe_file, f_inode, i_ino);
		seen_pid += t->cred->euid.val;
		bpf_task_release(t);
	}
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(cpumasks, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *mask = bpf_cpumask_create(), *again;

	if (!mask)
		return 0;
	bpf_cpumask_set_cpu(0, mask);
	if (bpf_cpumask_test_cpu(0, (const struct cpumask *)mask))
		seen_weight = bpf_cpumask_weight((const struct cpumask *)mask);
	bpf_cpumask_and(mask, (const struct cpumask *)mask, task->cpus_ptr);
	seen_weight += bpf_cpumask_first(task->cpus_ptr) + task->nr_cpus_allowed;
	again = bpf_cpumask_acquire(mask);
	bpf_cpumask_release(again);
	bpf_cpumask_release(mask);
	return 0;
}

SEC("syscall")
int iter_sum(void *ctx)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		seen_sum += *v;
	bpf_iter_num_destroy(&it);
	return 0;
}
