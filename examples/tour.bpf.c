// A tour of the kernel model: cgroups and tasks as the kernel's kfuncs see them.
//
//   kfvm run examples/tour.bpf.o                      # against a snapshot of this machine
//   kfvm run examples/tour.bpf.o --model examples/tour.toml --maps
//
// Built against this machine's vmlinux.h (CO-RE relocates every field access onto the model):
// see build.sh. The object is committed.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define PF_KTHREAD 0x00200000

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern bool bpf_cpumask_full(const struct cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

char LICENSE[] SEC("license") = "GPL";

/* Tasks seen per cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u64);
	__type(value, u64);
	__uint(max_entries, 4096);
} tasks_per_cgroup SEC(".maps");

u64 nr_cgroups, nr_processes, nr_threads, nr_kthreads, nr_pinned;

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	struct cgroup *parent = bpf_cgroup_ancestor(cgrp, cgrp->level - 1);

	if (!parent)
		return 0;
	bpf_printk("cgroup %s: id %llu, level %d, parent id %llu", path, cgrp->kn->id, cgrp->level,
		   parent->kn->id);
	bpf_cgroup_release(parent);
	__sync_fetch_and_add(&nr_cgroups, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(on_task_newtask, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_from_pid(task->pid);
	u64 cgid, one = 1, *n;

	if (!t)
		return 0;
	bpf_rcu_read_lock();
	cgid = t->cgroups->dfl_cgrp->kn->id;
	bpf_rcu_read_unlock();
	n = bpf_map_lookup_elem(&tasks_per_cgroup, &cgid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tasks_per_cgroup, &cgid, &one, BPF_NOEXIST);

	if (t->flags & PF_KTHREAD) {
		__sync_fetch_and_add(&nr_kthreads, 1);
	} else if (t->pid != t->tgid) {
		__sync_fetch_and_add(&nr_threads, 1);
	} else {
		__sync_fetch_and_add(&nr_processes, 1);
		bpf_printk("task %d %s: parent %d %s, cgroup %llu", t->pid, t->comm, t->real_parent->pid,
			   t->real_parent->comm, cgid);
	}
	if (!bpf_cpumask_full(t->cpus_ptr)) {
		__sync_fetch_and_add(&nr_pinned, 1);
		bpf_printk("task %d %s runs on %u CPUs only", t->pid, t->comm, bpf_cpumask_weight(t->cpus_ptr));
	}
	bpf_task_release(t);
	return 0;
}
