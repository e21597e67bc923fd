// Syscall programs with `__retval` annotations (as the kernel's selftests write them): each
// runs under kfvm's test-run and, as root, under the kernel's BPF_PROG_TEST_RUN, and both must
// return the annotated value (tests/retval.rs). No maps and no globals, so the kernel loads the
// raw instructions as they are. Rebuild: ./build.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __retval(val) __attribute__((btf_decl_tag("comment:test_retval=" #val)))

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern long bpf_task_under_cgroup(struct task_struct *task, struct cgroup *ancestor) __ksym;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern struct bpf_cpumask *bpf_cpumask_acquire(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_clear_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
extern bool bpf_cpumask_test_and_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern bool bpf_cpumask_and(struct bpf_cpumask *dst, const struct cpumask *src1, const struct cpumask *src2) __ksym;
extern void bpf_cpumask_or(struct bpf_cpumask *dst, const struct cpumask *src1, const struct cpumask *src2) __ksym;
extern void bpf_cpumask_xor(struct bpf_cpumask *dst, const struct cpumask *src1, const struct cpumask *src2) __ksym;
extern bool bpf_cpumask_equal(const struct cpumask *src1, const struct cpumask *src2) __ksym;
extern bool bpf_cpumask_subset(const struct cpumask *src1, const struct cpumask *src2) __ksym;
extern bool bpf_cpumask_empty(const struct cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_first(const struct cpumask *cpumask) __ksym;
extern u32 bpf_cpumask_first_zero(const struct cpumask *cpumask) __ksym;
extern void bpf_cpumask_clear(struct bpf_cpumask *cpumask) __ksym;
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

char _license[] SEC("license") = "GPL";

/* The pid a test passes in the context (its own, in the kernel), else 1. */
static s32 pid_of(void *ctx)
{
	return ctx ? *(s32 *)ctx : 1;
}

/* The task exists and is its own thread group leader. */
SEC("syscall") __retval(1)
int task_from_pid_1(void *ctx)
{
	s32 pid = pid_of(ctx);
	struct task_struct *t = bpf_task_from_pid(pid), *again;
	int ok;

	if (!t)
		return -2;
	again = bpf_task_acquire(t);
	ok = t->pid == pid && t->tgid == pid && again == t;
	if (again)
		bpf_task_release(again);
	bpf_task_release(t);
	return ok;
}

SEC("syscall") __retval(0)
int task_from_pid_none(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(-5);

	if (t) {
		bpf_task_release(t);
		return 1;
	}
	return 0;
}

/* The task is in the root cgroup's tree (cgroup id 1 is the root of cgroup v2). */
SEC("syscall") __retval(1)
int task_under_root_cgroup(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(pid_of(ctx));
	struct cgroup *root = bpf_cgroup_from_id(1);
	long r = -1;

	if (t && root)
		r = bpf_task_under_cgroup(t, root);
	if (root)
		bpf_cgroup_release(root);
	if (t)
		bpf_task_release(t);
	return r;
}

SEC("syscall") __retval(0)
int cgroup_from_id_none(void *ctx)
{
	struct cgroup *c = bpf_cgroup_from_id(0xdead0000beefULL);

	if (c) {
		bpf_cgroup_release(c);
		return 1;
	}
	return 0;
}

/* Set operations on two masks over CPUs 0 and 1 (every machine kfvm is tested on has two). */
SEC("syscall") __retval(0x3f)
int cpumask_ops(void *ctx)
{
	struct bpf_cpumask *a = bpf_cpumask_create(), *b = bpf_cpumask_create(), *c = bpf_cpumask_create();
	int r = 0;

	if (!a || !b || !c)
		goto out;
	bpf_cpumask_set_cpu(0, a);
	bpf_cpumask_set_cpu(1, a);
	bpf_cpumask_set_cpu(1, b);
	if (bpf_cpumask_weight((const struct cpumask *)a) == 2)
		r |= 1;
	if (bpf_cpumask_and(c, (const struct cpumask *)a, (const struct cpumask *)b) &&
	    bpf_cpumask_first((const struct cpumask *)c) == 1)
		r |= 2;
	if (bpf_cpumask_subset((const struct cpumask *)b, (const struct cpumask *)a))
		r |= 4;
	bpf_cpumask_xor(c, (const struct cpumask *)a, (const struct cpumask *)b);
	if (bpf_cpumask_test_cpu(0, (const struct cpumask *)c) && !bpf_cpumask_test_cpu(1, (const struct cpumask *)c))
		r |= 8;
	if (!bpf_cpumask_test_and_set_cpu(0, b) && bpf_cpumask_equal((const struct cpumask *)a, (const struct cpumask *)b))
		r |= 16;
	bpf_cpumask_clear(c);
	if (bpf_cpumask_empty((const struct cpumask *)c) && bpf_cpumask_first_zero((const struct cpumask *)c) == 0)
		r |= 32;
out:
	if (a)
		bpf_cpumask_release(a);
	if (b)
		bpf_cpumask_release(b);
	if (c)
		bpf_cpumask_release(c);
	return r;
}

SEC("syscall") __retval(2)
int cpumask_acquire_release(void *ctx)
{
	struct bpf_cpumask *a = bpf_cpumask_create(), *b;
	int r;

	if (!a)
		return -12;
	b = bpf_cpumask_acquire(a);
	bpf_cpumask_set_cpu(1, b);
	bpf_cpumask_release(b);
	r = bpf_cpumask_first((const struct cpumask *)a) + bpf_cpumask_test_cpu(1, (const struct cpumask *)a);
	bpf_cpumask_release(a);
	return r;
}

/* Open-coded iterator: 0 + 1 + ... + 9. */
SEC("syscall") __retval(45)
int iter_num_sum(void *ctx)
{
	struct bpf_iter_num it;
	int sum = 0, *v;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	bpf_iter_num_destroy(&it);
	return sum;
}

static int add_cb(u32 i, void *ctx)
{
	*(u64 *)ctx += i;
	return i == 7;
}

/* bpf_loop: the callback stops at i == 7 (8 iterations); 8 * 100 + (0 + ... + 7) + 800. */
SEC("syscall") __retval(1628)
int loop_sum(void *ctx)
{
	u64 sum = 0;
	long n = bpf_loop(100, add_cb, &sum, 0);

	return n * 100 + sum + 800;
}

/* RCU region around a task walk: pid 1's parent is the idle task (pid 0), anyone else's is not. */
SEC("syscall") __retval(0)
int rcu_walk(void *ctx)
{
	s32 pid = pid_of(ctx);
	struct task_struct *t = bpf_task_from_pid(pid);
	int ppid;

	if (!t)
		return -2;
	bpf_rcu_read_lock();
	ppid = t->real_parent->pid;
	bpf_rcu_read_unlock();
	bpf_task_release(t);
	return (ppid == 0) != (pid == 1);
}

/* bpf_obj_new / bpf_obj_drop (bpf_experimental.h's macros over the _impl kfuncs). */
extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym;
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)

struct node_data {
	long key;
	long data[30];
};

SEC("syscall") __retval(42)
int obj_new_drop(void *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));
	long r;

	if (!n)
		return -12;
	n->key = 40;
	n->data[29] = 2;
	r = n->key + n->data[29] + n->data[3];
	bpf_obj_drop(n);
	return r;
}

/* bpf_rdonly_cast: an untrusted view of a task, read through probe loads. */
extern void *bpf_rdonly_cast(const void *obj__ign, u32 btf_id__k) __ksym;

SEC("syscall") __retval(1)
int rdonly_cast_task(void *ctx)
{
	s32 pid = pid_of(ctx);
	struct task_struct *t = bpf_task_from_pid(pid), *ro;
	int ok;

	if (!t)
		return -2;
	ro = bpf_rdonly_cast(t, bpf_core_type_id_kernel(struct task_struct));
	ok = ro->pid == pid;
	bpf_task_release(t);
	return ok;
}

/* ---- for tests/stress.rs (no __retval: their results depend on the moment) ---- */

struct stress_args {
	s32 pid;
	u32 pad;
	u64 cgid;
};

extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ksym;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym;

/* Finds a task, walks it under RCU, takes references to it and to its cgroup's ancestors.
 * 0: no such task; 1: found and consistent; negative: an inconsistency (a task that changed
 * under the program's feet: a use after free). */
SEC("syscall")
int stress_task(struct stress_args *a)
{
	struct task_struct *t = bpf_task_from_pid(a->pid), *again;
	struct cgroup *cg, *anc;
	int r = 1, lvl;

	if (!t)
		return 0;
	if (t->pid != a->pid)
		r = -1;
	again = bpf_task_acquire(t);
	if (again) {
		if (again->tgid != t->tgid)
			r = -2;
		bpf_task_release(again);
	}
	bpf_rcu_read_lock();
	cg = t->cgroups->dfl_cgrp;
	cg = cg ? bpf_cgroup_acquire(cg) : NULL;
	bpf_rcu_read_unlock();
	if (cg) {
		lvl = cg->level;
		anc = bpf_cgroup_ancestor(cg, 0);
		if (anc) {
			if (anc->kn->id != 1)
				r = -3;
			bpf_cgroup_release(anc);
		}
		bpf_cgroup_release(cg);
	}
	bpf_task_release(t);
	return r;
}

SEC("syscall")
int stress_cgroup(struct stress_args *a)
{
	struct cgroup *c = bpf_cgroup_from_id(a->cgid), *parent;
	int r = 1;

	if (!c)
		return 0;
	if (c->kn->id != a->cgid)
		r = -1;
	if (c->level > 0) {
		parent = bpf_cgroup_ancestor(c, c->level - 1);
		if (parent) {
			if (parent->level != c->level - 1)
				r = -2;
			bpf_cgroup_release(parent);
		}
	}
	bpf_cgroup_release(c);
	return r;
}
