// The example programs of the kernel's Documentation/bpf/kfuncs.rst (and cpumasks.rst, which it
// points to for the cpumask kfuncs), as BPF C that loads unmodified into Linux 6.18 and into kfvm:
// task acquire/release, task from pid, a task kptr in a map read under RCU, cgroup acquire into a
// map, the legacy bpf_cgroup_kptr_get() and what replaced it, cgroup ancestor, cgroup from id, a
// task's cpumask recorded as a kptr and read under RCU. Each is annotated `__success`;
// mistakes.bpf.c has the mistakes users make with them. `kfvm verify doc_examples.bpf.o` checks
// them, `kfvm run doc_examples.bpf.o --model doc.toml` runs them. Rebuild: ./build.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

#define ENOENT 2
#define EINVAL 22
#define EEXIST 17
#define ENOMEM 12

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym;
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
extern struct cgroup *bpf_cgroup_kptr_get(struct cgroup **cgrpp) __ksym __weak;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern bool bpf_cpumask_full(const struct cpumask *cpumask) __ksym;
extern void bpf_cpumask_copy(struct bpf_cpumask *dst, const struct cpumask *src) __ksym;
extern u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_first(const struct cpumask *cpumask) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

char _license[] SEC("license") = "GPL";

/* ---- struct task_struct * kfuncs ---- */

/**
 * A trivial example tracepoint program that shows how to
 * acquire and release a struct task_struct * pointer.
 */
SEC("tp_btf/task_newtask") __success
int BPF_PROG(task_acquire_release_example, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *acquired;

	acquired = bpf_task_acquire(task);
	if (acquired) {
		bpf_printk("acquired task %d (%s)", acquired->pid, acquired->comm);
		/*
		 * In a typical program you'd do something like store
		 * the task in a map, and the map will automatically
		 * release it later. Here, we release it manually.
		 */
		bpf_task_release(acquired);
	}
	return 0;
}

struct __tasks_kfunc_map_value {
	struct task_struct __kptr * task;
};

struct hash_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct __tasks_kfunc_map_value);
	__uint(max_entries, 64);
} __tasks_kfunc_map SEC(".maps");

/* Stores a reference to every new task in the map; the map releases them (task exit, map free). */
SEC("tp_btf/task_newtask") __success
int BPF_PROG(add_task_to_map, struct task_struct *task, u64 clone_flags)
{
	struct __tasks_kfunc_map_value local = {}, *v;
	struct task_struct *acquired, *old;
	s32 pid = task->pid;

	if (bpf_map_update_elem(&__tasks_kfunc_map, &pid, &local, BPF_NOEXIST))
		return -EEXIST;
	v = bpf_map_lookup_elem(&__tasks_kfunc_map, &pid);
	if (!v)
		return -ENOENT;
	acquired = bpf_task_acquire(task);
	if (!acquired)
		return -ENOENT;
	old = bpf_kptr_xchg(&v->task, acquired);
	if (old)
		bpf_task_release(old);
	return 0;
}

/* The stored task read back under RCU, then dropped from the map. */
SEC("tp_btf/sched_process_exit") __success
int BPF_PROG(task_rcu_read_example, struct task_struct *task, bool group_dead)
{
	struct __tasks_kfunc_map_value *v;
	struct task_struct *stored;
	s32 pid = task->pid;

	v = bpf_map_lookup_elem(&__tasks_kfunc_map, &pid);
	if (!v)
		return -ENOENT;
	bpf_rcu_read_lock();
	stored = v->task;
	if (stored)
		bpf_printk("task %d (%s) exits; the map held it since it was created", stored->pid, stored->comm);
	bpf_rcu_read_unlock();
	bpf_map_delete_elem(&__tasks_kfunc_map, &pid);
	return 0;
}

SEC("tp_btf/task_newtask") __success
int BPF_PROG(task_get_pid_example, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *lookup;

	lookup = bpf_task_from_pid(task->pid);
	if (!lookup)
		/* A task should always be found, as %task is a tracepoint arg. */
		return -ENOENT;

	if (lookup->pid != task->pid) {
		/* bpf_task_from_pid() looks up the task via its
		 * globally-unique pid from the init_pid_ns. Thus,
		 * the pid of the lookup task should always be the
		 * same as the input task.
		 */
		bpf_task_release(lookup);
		return -EINVAL;
	}
	bpf_printk("bpf_task_from_pid(%d) found %s", task->pid, lookup->comm);

	/* bpf_task_from_pid() returns an acquired reference,
	 * so it must be dropped before returning from the
	 * tracepoint handler.
	 */
	bpf_task_release(lookup);
	return 0;
}

/* ---- struct cgroup * kfuncs ---- */

struct __cgroups_kfunc_map_value {
	struct cgroup __kptr * cgroup;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u64);
	__type(value, struct __cgroups_kfunc_map_value);
	__uint(max_entries, 64);
} __cgroups_kfunc_map SEC(".maps");

/* bpf_cgroup_acquire(): store a reference to every new cgroup. */
SEC("tp_btf/cgroup_mkdir") __success
int BPF_PROG(cgrp_acquire_example, struct cgroup *cgrp, const char *path)
{
	struct __cgroups_kfunc_map_value local = {}, *v;
	struct cgroup *acquired, *old;
	u64 id = cgrp->kn->id;

	if (bpf_map_update_elem(&__cgroups_kfunc_map, &id, &local, BPF_NOEXIST))
		return -EEXIST;
	v = bpf_map_lookup_elem(&__cgroups_kfunc_map, &id);
	if (!v)
		return -ENOENT;
	acquired = bpf_cgroup_acquire(cgrp);
	if (!acquired)
		return -ENOENT;
	old = bpf_kptr_xchg(&v->cgroup, acquired);
	if (old)
		bpf_cgroup_release(old);
	return 0;
}

/* What replaced bpf_cgroup_kptr_get(): load the kptr under RCU, then acquire it. */
SEC("tp_btf/cgroup_rmdir") __success
int BPF_PROG(cgroup_kptr_migrated, struct cgroup *cgrp, const char *path)
{
	struct __cgroups_kfunc_map_value *v;
	struct cgroup *kptr;
	u64 id = cgrp->kn->id;

	v = bpf_map_lookup_elem(&__cgroups_kfunc_map, &id);
	if (!v)
		return -ENOENT;
	bpf_rcu_read_lock();
	kptr = v->cgroup;
	if (kptr)
		kptr = bpf_cgroup_acquire(kptr);
	bpf_rcu_read_unlock();
	if (!kptr)
		return -ENOENT;
	bpf_printk("cgroup %s (level %d) removed; it is still in the map", path, kptr->level);
	bpf_cgroup_release(kptr);
	return 0;
}

/*
 * The legacy bpf_cgroup_kptr_get() (KF_KPTR_GET, Linux 6.2-6.3): a new reference from the map's
 * kptr. kfvm's model keeps it, flagged KF_DEPRECATED: the verifier accepts the call with a
 * warning naming the replacement (cgroup_kptr_migrated below) and the release that removed it,
 * and `kfvm verify --deny-deprecated` refuses it. Linux 6.18 no longer has the kfunc.
 */
SEC("tp_btf/cgroup_rmdir")
__success __kfvm_only("bpf_cgroup_kptr_get was removed from Linux in 6.4")
__log_level(1) __msg("bpf_cgroup_kptr_get is deprecated")
int BPF_PROG(cgroup_kptr_get_example, struct cgroup *cgrp, const char *path)
{
	struct __cgroups_kfunc_map_value *v;
	struct cgroup *kptr;
	u64 id = cgrp->kn->id;

	v = bpf_map_lookup_elem(&__cgroups_kfunc_map, &id);
	if (!v)
		return -ENOENT;
	kptr = bpf_cgroup_kptr_get(&v->cgroup);
	if (!kptr)
		return -ENOENT;
	bpf_printk("cgroup %s (level %d) removed; the map held it", path, kptr->level);
	bpf_cgroup_release(kptr);
	bpf_map_delete_elem(&__cgroups_kfunc_map, &id);
	return 0;
}

SEC("tp_btf/cgroup_mkdir") __success
int BPF_PROG(cgrp_ancestor_example, struct cgroup *cgrp, const char *path)
{
	struct cgroup *parent;

	/* The parent cgroup resides at the level before the current cgroup's level. */
	parent = bpf_cgroup_ancestor(cgrp, cgrp->level - 1);
	if (!parent)
		return -ENOENT;

	bpf_printk("Parent id is %d", parent->self.id);

	/* Return the parent cgroup that was acquired above. */
	bpf_cgroup_release(parent);
	return 0;
}

SEC("tp_btf/cgroup_mkdir") __success
int BPF_PROG(cgrp_from_id_example, struct cgroup *cgrp, const char *path)
{
	struct cgroup *lookup;

	lookup = bpf_cgroup_from_id(cgrp->kn->id);
	if (!lookup)
		return -ENOENT;
	bpf_printk("bpf_cgroup_from_id(%llu) is %s", cgrp->kn->id, path);
	bpf_cgroup_release(lookup);
	return 0;
}

/* ---- cpumasks (cpumasks.rst) ---- */

struct cpumask_map_value {
	struct bpf_cpumask __kptr * cpumask;
};

struct array_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct cpumask_map_value);
	__uint(max_entries, 65536);
} cpumask_map SEC(".maps");

static int cpumask_map_insert(struct bpf_cpumask *mask, u32 pid)
{
	struct cpumask_map_value local, *v;
	long status;
	struct bpf_cpumask *old;
	u32 key = pid;

	local.cpumask = NULL;
	status = bpf_map_update_elem(&cpumask_map, &key, &local, 0);
	if (status) {
		bpf_cpumask_release(mask);
		return status;
	}

	v = bpf_map_lookup_elem(&cpumask_map, &key);
	if (!v) {
		bpf_cpumask_release(mask);
		return -ENOENT;
	}

	old = bpf_kptr_xchg(&v->cpumask, mask);
	if (old)
		bpf_cpumask_release(old);

	return 0;
}

/**
 * A sample tracepoint showing how a task's cpumask can be queried and
 * recorded as a kptr.
 */
SEC("tp_btf/task_newtask") __success
int BPF_PROG(record_task_cpumask, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *cpumask;

	cpumask = bpf_cpumask_create();
	if (!cpumask)
		return -ENOMEM;

	if (!bpf_cpumask_full(task->cpus_ptr))
		bpf_printk("task %s has CPU affinity", task->comm);

	bpf_cpumask_copy(cpumask, task->cpus_ptr);
	if (bpf_cpumask_weight((const struct cpumask *)cpumask) != task->nr_cpus_allowed) {
		/* The mask is ours until the map holds it: drop it on every early return. */
		bpf_cpumask_release(cpumask);
		return -EINVAL;
	}
	return cpumask_map_insert(cpumask, task->pid);
}

SEC("tp_btf/sched_switch") __success
int BPF_PROG(switch_reads_cpumask, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct cpumask_map_value *v;
	struct bpf_cpumask *mask;
	u32 key = next->pid;

	v = bpf_map_lookup_elem(&cpumask_map, &key);
	if (!v)
		return 0;
	bpf_rcu_read_lock();
	/* Load the kptr once: each load may see NULL, so the checked copy is the one to use. */
	mask = v->cpumask;
	if (mask)
		bpf_printk("switch %d -> %d: next may run on %u CPUs from CPU %u", prev->pid, next->pid,
			   bpf_cpumask_weight((const struct cpumask *)mask),
			   bpf_cpumask_first((const struct cpumask *)mask));
	bpf_rcu_read_unlock();
	return 0;
}
