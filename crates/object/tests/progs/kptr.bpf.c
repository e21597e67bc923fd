// SPDX-License-Identifier: MIT
/* Map values with special fields (kptrs of each flavour, the legacy kptr_ref tag, spin lock,
 * timer, graph roots) and .ksyms kfuncs, strong and weak. */
#include "common.h"

struct node_data {
	long key;
	struct bpf_list_node node;
	struct bpf_rb_node rb;
	struct bpf_refcount ref;
};

struct map_value {
	int flags;
	struct task_struct __kptr *owned;
	struct task_struct __kptr_untrusted *seen;
	struct bpf_spin_lock lock;
	struct bpf_timer timer;
	struct bpf_list_head head __contains(node_data, node);
	struct bpf_rb_root root __contains(node_data, rb);
	struct node_data __kptr *nodes[2];
};

struct legacy_value {
	struct task_struct __kptr_ref *task;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, int);
	__type(value, struct map_value);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct legacy_value);
} legacy SEC(".maps");

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern int bpf_kfvm_does_not_exist(int x) __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static int store_task(struct task_struct *task)
{
	struct map_value *v;
	struct task_struct *acquired, *old;
	int key = 0;

	v = bpf_map_lookup_elem(&tasks, &key);
	if (!v)
		return 0;
	acquired = bpf_task_acquire(task);
	if (!acquired)
		return 0;
	old = bpf_kptr_xchg(&v->owned, acquired);
	if (old)
		bpf_task_release(old);
	return 1;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *p;

	if (bpf_kfvm_does_not_exist)
		bpf_kfvm_does_not_exist(1);
	bpf_rcu_read_lock();
	if (bpf_task_from_pid) {
		p = bpf_task_from_pid(task->pid);
		if (p)
			bpf_task_release(p);
	}
	bpf_rcu_read_unlock();
	return store_task(task);
}

SEC("fentry/wake_up_new_task")
int BPF_PROG(on_wake, struct task_struct *task)
{
	return store_task(task);
}

char LICENSE[] SEC("license") = "GPL";
