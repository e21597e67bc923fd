// The mistakes users make with the kfuncs of doc_examples.bpf.c, each next to its fix. Every
// program here is refused, by Linux 6.18 and by kfvm, with the message in its `__msg`
// annotation (kfvm adds a `hint:` line after the kernel's text). `kfvm verify mistakes.bpf.o`
// shows them. Rebuild: ./build.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

char _license[] SEC("license") = "GPL";

struct task_value {
	struct task_struct __kptr *task;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct task_value);
	__uint(max_entries, 64);
} tasks SEC(".maps");

/* Forgotten release: an acquired task must be released (or moved into a map) on every path.
 * Fix: bpf_task_release(t) before returning. */
SEC("tp_btf/task_newtask")
__failure __msg("Unreleased reference id=") __msg("BPF_EXIT instruction in main prog would lead to reference leak")
int BPF_PROG(forgot_release, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task);

	if (!t)
		return 0;
	bpf_printk("acquired %d", t->pid);
	return 0;
}

/* Missing NULL check: bpf_task_acquire() is KF_RET_NULL. Fix: `if (!t) return 0;` first. */
SEC("tp_btf/task_newtask")
__failure __msg("invalid mem access 'ptr_or_null_'")
int BPF_PROG(missing_null_check, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task);

	bpf_printk("acquired %d", t->pid);
	bpf_task_release(t);
	return 0;
}

/* The same mistake, caught at the release: its argument is trusted, and so must not be NULL. */
SEC("tp_btf/task_newtask")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
int BPF_PROG(release_maybe_null, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_from_pid(task->pid);

	bpf_task_release(t);
	return 0;
}

/* Walked pointer: `task->parent` is not on the kernel's list of RCU-safe fields, so the
 * pointer read from it is neither trusted nor RCU-protected. Fix: use a safe field
 * (real_parent, group_leader) or a kfunc that returns a reference (bpf_task_from_pid). */
SEC("tp_btf/task_newtask")
__failure __msg("R1 must be a rcu pointer")
int BPF_PROG(walked_untrusted, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task->parent);

	if (t)
		bpf_task_release(t);
	return 0;
}

/* Wrong type: a cgroup released with the task kfunc. Fix: bpf_cgroup_release(). */
SEC("tp_btf/cgroup_mkdir")
__failure __msg("kernel function bpf_task_release args#0 expected pointer to STRUCT task_struct but R1 has a pointer to STRUCT cgroup")
int BPF_PROG(wrong_type, struct cgroup *cgrp, const char *path)
{
	struct cgroup *c = bpf_cgroup_acquire(cgrp);

	if (!c)
		return 0;
	bpf_task_release((struct task_struct *)c);
	return 0;
}

/* Wrong type: a task's cpumask is a `struct cpumask`, which the kfuncs that change a mask do not
 * take. Fix: bpf_cpumask_create() a mask of your own and bpf_cpumask_copy() into it. */
SEC("tp_btf/task_newtask")
__failure __msg("kernel function bpf_cpumask_set_cpu args#1 expected pointer to STRUCT bpf_cpumask but R2 has a pointer to STRUCT cpumask")
int BPF_PROG(cpumask_wrong_type, struct task_struct *task, u64 clone_flags)
{
	bpf_cpumask_set_cpu(0, (struct bpf_cpumask *)task->cpus_ptr);
	return 0;
}

/* Use after release: the pointer is gone with its reference. Fix: read first, then release. */
SEC("tp_btf/task_newtask")
__failure __msg("invalid mem access 'scalar'")
int BPF_PROG(use_after_release, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task);

	if (!t)
		return 0;
	bpf_task_release(t);
	bpf_printk("released %d", t->pid);
	return 0;
}

/* A referenced kptr cannot be stored with `=`: the map would own a reference nobody counted.
 * Fix: old = bpf_kptr_xchg(&v->task, t), then release old if non-NULL. */
SEC("tp_btf/task_newtask")
__failure __msg("store to referenced kptr disallowed")
int BPF_PROG(kptr_plain_store, struct task_struct *task, u64 clone_flags)
{
	struct task_value *v;
	struct task_struct *t;
	int key = 0;

	v = bpf_map_lookup_elem(&tasks, &key);
	if (!v)
		return 0;
	t = bpf_task_acquire(task);
	if (!t)
		return 0;
	v->task = t;
	bpf_task_release(t);
	return 0;
}

/* Forgotten cpumask release: bpf_cpumask_create() is KF_ACQUIRE too. Fix: bpf_cpumask_release()
 * or bpf_kptr_xchg() it into a map. */
SEC("tp_btf/task_newtask")
__failure __msg("Unreleased reference id=")
int BPF_PROG(cpumask_leak, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *mask = bpf_cpumask_create();

	if (!mask)
		return 0;
	bpf_cpumask_set_cpu(0, mask);
	return bpf_cpumask_weight((const struct cpumask *)mask);
}

/* An RCU read-side region left open. Fix: bpf_rcu_read_unlock() on every path. */
SEC("tp_btf/task_newtask")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region")
int BPF_PROG(rcu_left_locked, struct task_struct *task, u64 clone_flags)
{
	bpf_rcu_read_lock();
	if (task->pid == 1)
		bpf_rcu_read_unlock();
	return 0;
}

/* An unlock without its lock. */
SEC("tp_btf/task_newtask")
__failure __msg("unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)")
int BPF_PROG(rcu_unmatched_unlock, struct task_struct *task, u64 clone_flags)
{
	bpf_rcu_read_unlock();
	return 0;
}

/* A kfunc outside the program types that register it: the task kfuncs are not for kprobes.
 * Fix: attach with tp_btf/ or fentry/ instead. */
SEC("kprobe/do_nanosleep")
__failure __msg("calling kernel function bpf_task_from_pid is not allowed")
int not_allowed_in_kprobe(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}
