// kptrs in map values: loads of __kptr and __kptr_untrusted fields (check_map_kptr_access,
// btf_ld_kptr_type), stores (map_kptr_match_type), bpf_kptr_xchg() moving a reference into the
// map (process_kptr_func). Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct val {
	struct task_struct __kptr *t;
	struct task_struct __kptr_untrusted *u;
	long x;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct val);
} m SEC(".maps");

SEC("tp_btf/task_newtask")
__description("a referenced kptr of an RCU-protected type loads as MEM_RCU (non-sleepable: in an RCU section), maybe NULL")
__success __log_level(2) __msg("=rcu_ptr_or_null_task_struct(id=")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(load_ref, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t;
	if (!v) return 0;
	t = v->t;
	if (!t) return 0;
	return t->pid == 1;
}
SEC("tp_btf/task_newtask")
__description("a __kptr_untrusted field loads as untrusted, maybe NULL")
__success __log_level(2) __msg("=untrusted_ptr_or_null_task_struct(id=")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(load_untrusted, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t;
	if (!v) return 0;
	t = v->u;
	if (!t) return 0;
	return t->pid == 1;
}
SEC("tp_btf/task_newtask")
__description("a loaded kptr needs a NULL check")
__failure __msg("invalid mem access 'rcu_ptr_or_null_'")
int BPF_PROG(load_noncheck, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	return v->t->pid == 1;
}
SEC("tp_btf/task_newtask")
__description("a referenced kptr is only written with bpf_kptr_xchg()")
__failure __msg("store to referenced kptr disallowed")
int BPF_PROG(store_ref, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	v->t = task;
	return 0;
}
SEC("tp_btf/task_newtask")
__description("trusted, RCU and NULL values may be stored into a __kptr_untrusted field")
__success __log_level(2)
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(store_untrusted, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	v->u = task;
	v->u = task->real_parent;
	v->u = 0;
	return 0;
}
SEC("tp_btf/task_newtask")
__description("a __kptr_untrusted field takes its own type only")
__failure __msg("invalid kptr access, R1 type=rcu_ptr_css_set expected=ptr_task_struct or untrusted_ptr_task_struct")
int BPF_PROG(store_untrusted_wrong, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	v->u = (void *)task->cgroups;
	return 0;
}
SEC("tp_btf/task_newtask")
__description("a __kptr_untrusted field takes no scalar")
__failure __msg("invalid kptr access, R1 type=scalar expected=ptr_task_struct or untrusted_ptr_task_struct")
int BPF_PROG(store_untrusted_scalar, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	v->u = (void *)(long)task->pid;
	return 0;
}
SEC("tp_btf/task_newtask")
__description("a kptr field is read whole")
__failure __msg("kptr access size must be BPF_DW")
int BPF_PROG(kptr_u32, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	return *(u32 *)&v->t;
}
SEC("tp_btf/task_newtask")
__description("bpf_kptr_xchg() moves an acquired task into the map and gives back the old one, referenced")
__success __log_level(2) __msg("R0=ptr_or_null_task_struct(id=")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(xchg, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t, *old;
	if (!v) return 0;
	t = bpf_task_acquire(task);
	if (!t) return 0;
	old = bpf_kptr_xchg(&v->t, t);
	if (old)
		bpf_task_release(old);
	return 0;
}
SEC("tp_btf/task_newtask")
__description("the pointer moved into the map leaves the program")
__failure __msg("invalid mem access 'scalar'")
int BPF_PROG(xchg_use_after, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t, *old;
	if (!v) return 0;
	t = bpf_task_acquire(task);
	if (!t) return 0;
	old = bpf_kptr_xchg(&v->t, t);
	if (old)
		bpf_task_release(old);
	return t->pid;
}
SEC("tp_btf/task_newtask")
__description("what bpf_kptr_xchg() gives back is a reference to release")
__failure __msg("BPF_EXIT instruction in main prog would lead to reference leak")
int BPF_PROG(xchg_leak, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	bpf_kptr_xchg(&v->t, 0);
	return 0;
}
SEC("tp_btf/task_newtask")
__description("only a referenced pointer moves into a kptr")
__failure __msg("R2 must be referenced when passed to release function")
int BPF_PROG(xchg_unref, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	if (!v) return 0;
	bpf_kptr_xchg(&v->t, task);
	return 0;
}
SEC("tp_btf/task_newtask")
__description("bpf_kptr_xchg() on a __kptr_untrusted field")
__failure __msg("off=8 kptr isn't referenced kptr")
int BPF_PROG(xchg_untrusted_field, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *old;
	if (!v) return 0;
	old = bpf_kptr_xchg(&v->u, 0);
	if (old) bpf_task_release(old);
	return 0;
}
SEC("tp_btf/task_newtask")
__description("bpf_kptr_xchg() on a field that is no kptr")
__failure __msg("off=16 doesn't point to kptr")
int BPF_PROG(xchg_not_kptr, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *old;
	if (!v) return 0;
	old = bpf_kptr_xchg(&v->x, 0);
	if (old) bpf_task_release(old);
	return 0;
}
SEC("tp_btf/task_newtask")
__description("a kptr load inside bpf_rcu_read_lock()")
__success __log_level(2) __msg("=rcu_ptr_or_null_task_struct(id=")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(rcu_load, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t;
	if (!v) return 0;
	bpf_rcu_read_lock();
	t = v->t;
	if (t) k = t->pid;
	bpf_rcu_read_unlock();
	return k == 1;
}
SEC("tp_btf/task_newtask")
__description("bpf_kptr_xchg() of a pointer not checked for NULL")
__failure __msg("Possibly NULL pointer passed to helper arg2")
int BPF_PROG(xchg_maybe_null, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t, *old;
	if (!v) return 0;
	t = bpf_task_acquire(task);
	old = bpf_kptr_xchg(&v->t, t);
	if (old)
		bpf_task_release(old);
	return 0;
}

SEC("syscall")
__description("sleepable: a referenced kptr loaded outside an RCU read section is untrusted")
__success __log_level(2)
__msg("=untrusted_ptr_or_null_task_struct(id=")
int sleepable_load(void *ctx)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *t;

	if (!v)
		return 0;
	t = v->t;
	return t ? t->pid == 1 : 0;
}

SEC("tp_btf/task_newtask")
__description("a helper may not write over a kptr field")
__failure __msg("kptr cannot be accessed indirectly by helper")
int BPF_PROG(helper_over_kptr, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);

	if (!v)
		return 0;
	bpf_probe_read_kernel(v, sizeof(*v), task);
	return 0;
}

SEC("tp_btf/task_newtask")
__description("an 8-byte load across a kptr field")
__failure __msg("kptr access misaligned expected=0 off=4")
int BPF_PROG(kptr_misaligned, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);

	if (!v)
		return 0;
	return *(u64 *)((void *)v + 4) == 1;
}

SEC("tp_btf/task_newtask")
__description("an atomic operation on a kptr field")
__failure __msg("kptr in map can only be accessed using BPF_MEM instruction mode")
int BPF_PROG(kptr_atomic, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);

	if (!v)
		return 0;
	__sync_fetch_and_add((u64 *)&v->u, 1);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, long);
} plain SEC(".maps");

SEC("tp_btf/task_newtask")
__description("an immediate store into a kptr field must store 0")
__failure __msg("BPF_ST imm must be 0 when storing to kptr at off=8")
__naked int kptr_st_imm(void)
{
	asm volatile("r1 = 0;"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[m] ll;"
		     "call %[lookup];"
		     "if r0 == 0 goto 1f;"
		     "*(u64 *)(r0 + 8) = 1;"
		     "1: r0 = 0;"
		     "exit;"
		     :
		     : [m] "i"(&m), [lookup] "i"(1)
		     : "memory");
}

SEC("tp_btf/task_newtask")
__description("an immediate store of 0 clears a __kptr_untrusted field")
__success __kfvm_run_arg("task:100") __kfvm_run_arg("0")
__naked int kptr_st_zero(void)
{
	asm volatile("r1 = 0;"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[m] ll;"
		     "call %[lookup];"
		     "if r0 == 0 goto 1f;"
		     "*(u64 *)(r0 + 8) = 0;"
		     "1: r0 = 0;"
		     "exit;"
		     :
		     : [m] "i"(&m), [lookup] "i"(1)
		     : "memory");
}

SEC("tp_btf/task_newtask")
__description("bpf_kptr_xchg() needs a constant offset")
__failure __msg("R1 doesn't have constant offset. kptr has to be at the constant offset")
int BPF_PROG(xchg_var_off, struct task_struct *task)
{
	int k = 0;
	struct val *v = bpf_map_lookup_elem(&m, &k);
	struct task_struct *old;
	unsigned long off = bpf_get_prandom_u32() & 8;

	if (!v)
		return 0;
	old = bpf_kptr_xchg((void *)v + off, NULL);
	if (old)
		bpf_task_release(old);
	return 0;
}

SEC("tp_btf/task_newtask")
__description("bpf_kptr_xchg() on a map value without kptrs")
__failure __msg("R1 has no valid kptr")
int BPF_PROG(xchg_no_kptr, struct task_struct *task)
{
	int k = 0;
	long *v = bpf_map_lookup_elem(&plain, &k);
	struct task_struct *old;

	if (!v)
		return 0;
	old = bpf_kptr_xchg(v, NULL);
	if (old)
		bpf_task_release(old);
	return 0;
}
