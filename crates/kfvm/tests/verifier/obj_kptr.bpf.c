// kptr fields inside objects the program allocates (bpf_obj_new): bpf_kptr_xchg moves a
// reference in and out of the object, direct loads and stores of the field are refused, and
// bpf_obj_drop frees the object together with the reference it holds.
// Rebuild: ./build.sh obj_kptr.bpf.c
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(p) bpf_obj_drop_impl(p, NULL)
#define bpf_percpu_obj_new(type) \
	((type __percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(p) bpf_percpu_obj_drop_impl(p, NULL)

struct kfvm_leaf {
	long key;
};

struct kfvm_pcnt {
	long n;
};

struct kfvm_pholder {
	long id;
	struct kfvm_pcnt __percpu_kptr *cnt;
};

struct kfvm_tnode {
	struct task_struct __kptr *task;
	long v;
	struct task_struct __kptr_untrusted *peek;
	struct kfvm_leaf __kptr *leaf;
};

SEC("syscall")
__description("a task moved into an allocated object goes with it at bpf_obj_drop")
__success __retval(0)
int obj_kptr_xchg_in(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct task_struct *t, *old;

	if (!n)
		return 0;
	t = bpf_task_acquire(bpf_get_current_task_btf());
	if (!t) {
		bpf_obj_drop(n);
		return 0;
	}
	old = bpf_kptr_xchg(&n->task, t);
	if (old)
		bpf_task_release(old);
	bpf_obj_drop(n);
	return 0;
}

SEC("syscall")
__description("a task moved in and taken out again must be released")
__failure __msg("Unreleased reference id=")
int obj_kptr_xchg_out_leak(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct task_struct *t, *old;

	if (!n)
		return 0;
	t = bpf_task_acquire(bpf_get_current_task_btf());
	if (t) {
		old = bpf_kptr_xchg(&n->task, t);
		if (old)
			bpf_task_release(old);
	}
	old = bpf_kptr_xchg(&n->task, NULL);
	bpf_obj_drop(n);
	if (old)
		return 1;
	return 0;
}

SEC("syscall")
__description("a local object moved into a local object's kptr field")
__success __retval(0)
int obj_kptr_xchg_local(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct kfvm_leaf *l, *old;

	if (!n)
		return 0;
	l = bpf_obj_new(struct kfvm_leaf);
	if (!l) {
		bpf_obj_drop(n);
		return 0;
	}
	old = bpf_kptr_xchg(&n->leaf, l);
	if (old)
		bpf_obj_drop(old);
	bpf_obj_drop(n);
	return 0;
}

SEC("syscall")
__description("a kptr field of an allocated object is not loaded directly")
__failure __msg("direct access to kptr is disallowed")
int obj_kptr_load(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct task_struct *t;
	int pid = 0;

	if (!n)
		return 0;
	t = n->task;
	if (t)
		pid = t->pid;
	bpf_obj_drop(n);
	return pid;
}

SEC("syscall")
__description("a kptr field of an allocated object is not stored directly")
__failure __msg("direct access to kptr is disallowed")
int obj_kptr_store(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);

	if (!n)
		return 0;
	n->task = NULL;
	bpf_obj_drop(n);
	return 0;
}

SEC("syscall")
__description("bpf_kptr_xchg on a plain field of an allocated object")
__failure __msg("off=8 doesn't point to kptr")
int obj_kptr_xchg_not_kptr(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct task_struct *old;

	if (!n)
		return 0;
	old = bpf_kptr_xchg((struct task_struct **)&n->v, NULL);
	if (old)
		bpf_task_release(old);
	bpf_obj_drop(n);
	return 0;
}

SEC("syscall")
__description("bpf_kptr_xchg on an untrusted kptr field of an allocated object")
__failure __msg("off=16 kptr isn't referenced kptr")
int obj_kptr_xchg_untrusted(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct task_struct *old;

	if (!n)
		return 0;
	old = bpf_kptr_xchg(&n->peek, NULL);
	if (old)
		bpf_task_release(old);
	bpf_obj_drop(n);
	return 0;
}

SEC("syscall")
__description("a cgroup does not go into an allocated object's task kptr field")
__failure __msg("invalid kptr access, R2 type=ptr_cgroup expected=ptr_task_struct")
int obj_kptr_xchg_wrong_type(void *ctx)
{
	struct kfvm_tnode *n = bpf_obj_new(struct kfvm_tnode);
	struct cgroup *c, *old;

	if (!n)
		return 0;
	c = bpf_cgroup_from_id(1);
	if (c) {
		old = bpf_kptr_xchg((struct cgroup **)&n->task, c);
		if (old)
			bpf_cgroup_release(old);
	}
	bpf_obj_drop(n);
	return 0;
}

SEC("syscall")
__description("bpf_kptr_xchg on an allocated object without kptr fields")
__failure __msg("R1 has no valid kptr")
int obj_kptr_xchg_no_kptr(void *ctx)
{
	struct kfvm_leaf *l = bpf_obj_new(struct kfvm_leaf);
	struct task_struct *old;

	if (!l)
		return 0;
	old = bpf_kptr_xchg((struct task_struct **)&l->key, NULL);
	if (old)
		bpf_task_release(old);
	bpf_obj_drop(l);
	return 0;
}

/* A TC program, as in kptr_percpu.bpf.c: kfvm's runtime does not allocate per-CPU objects yet,
 * and runs no TC programs. */
SEC("tc")
__description("a per-CPU object moved into an allocated object's __percpu_kptr field")
__success
int obj_kptr_xchg_percpu(struct __sk_buff *skb)
{
	struct kfvm_pholder *h = bpf_obj_new(struct kfvm_pholder);
	struct kfvm_pcnt *c, *old;

	if (!h)
		return 0;
	c = bpf_percpu_obj_new(struct kfvm_pcnt);
	if (!c) {
		bpf_obj_drop(h);
		return 0;
	}
	old = bpf_kptr_xchg(&h->cnt, c);
	if (old)
		bpf_percpu_obj_drop(old);
	bpf_obj_drop(h);
	return 0;
}
