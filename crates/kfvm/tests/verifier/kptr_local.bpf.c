// kptr fields of map values holding objects the program allocates (bpf_obj_new): only such
// objects go in. (kfvm also verifies the exchanges and the loads of these fields as the kernel
// does, but its runtime cannot create such maps yet: no program here that it would have to run.)
// Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

/* Local (program BTF) objects in kptr fields. */
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(p) bpf_obj_drop_impl(p, NULL)

struct kfvm_node {
	long key;
	long val;
};

struct lval {
	struct kfvm_node __kptr *n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct lval);
} lm SEC(".maps");

SEC("syscall")
__description("a kernel object does not go into a local kptr field")
__failure __msg("invalid kptr access, R2 type=ptr_task_struct expected=ptr_kfvm_node")
int local_wrong_type(void *ctx)
{
	int k = 0;
	struct lval *v = bpf_map_lookup_elem(&lm, &k);
	struct task_struct *t, *old;
	struct kfvm_node *n = bpf_obj_new(struct kfvm_node);

	if (n)
		bpf_obj_drop(n);
	if (!v)
		return 0;
	t = bpf_task_acquire(bpf_get_current_task_btf());
	if (!t)
		return 0;
	old = bpf_kptr_xchg(&v->n, t);
	if (old)
		bpf_task_release(old);
	return 0;
}
