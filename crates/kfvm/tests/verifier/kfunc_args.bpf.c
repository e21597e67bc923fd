// SPDX-License-Identifier: MIT
/* kfunc arguments, classified the kernel's way (check_kfunc_args): scalars, __k constants,
 * memory + __sz size pairs (readable and writable), context pointers, KF_SLEEPABLE against
 * sleepable programs and RCU/preempt/IRQ regions. Checked against the live kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64[4]);
	__uint(max_entries, 1);
} bufs SEC(".maps");

/* A scalar parameter takes a scalar, not a pointer. */
SEC("tc")
__failure __msg("R1 is not a scalar")
int scalar_gets_pointer(struct __sk_buff *skb)
{
	struct cgroup *c = bpf_cgroup_from_id((u64)skb);

	if (c)
		bpf_cgroup_release(c);
	return 0;
}

/* A __k parameter takes a constant: a type id of the kernel's BTF. */
SEC("tc")
__success
int const_arg(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_rdonly_cast(skb, bpf_core_type_id_kernel(struct task_struct));

	return t->pid & 1;
}

SEC("tc")
__failure __msg("R2 must be a known constant")
__kfvm_msg("hint: argument 2 of bpf_rdonly_cast() (btf_id__k) must be a compile-time constant")
int const_arg_unknown(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_rdonly_cast(skb, skb->len);

	return t->pid & 1;
}

/* The constant decides the type of the result: both paths are verified (the constant is
 * precise, so the second path is not pruned against the first). */
SEC("tc")
__success
int const_arg_two_types(struct __sk_buff *skb)
{
	u32 id = skb->len > 100 ? bpf_core_type_id_kernel(struct task_struct)
				: bpf_core_type_id_kernel(struct cgroup);
	void *p = bpf_rdonly_cast(skb, id);

	return p != 0;
}

/* Memory and its __sz size: the pair must be readable and writable. */
SEC("syscall")
__success
int mem_size_pair(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();
	u64 src[2] = {1, 2};

	if (!m)
		return 0;
	bpf_cpumask_populate((struct cpumask *)m, src, sizeof(src));
	bpf_cpumask_release(m);
	return 0;
}

/* A root loader (CAP_PERFMON) may pass uninitialised stack. */
SEC("syscall")
__success
int mem_size_uninit(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();
	u64 src[2];

	if (!m)
		return 0;
	bpf_cpumask_populate((struct cpumask *)m, src, sizeof(src));
	bpf_cpumask_release(m);
	return 0;
}

SEC("syscall")
__failure __msg("invalid access to map value, value_size=32 off=0 size=40")
__msg("R2 min value is outside of the allowed memory range")
__msg("arg#1 arg#2 memory, len pair leads to invalid memory access")
int mem_size_too_big(void *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!m)
		return 0;
	if (v)
		bpf_cpumask_populate((struct cpumask *)m, v, 40);
	bpf_cpumask_release(m);
	return 0;
}

SEC("syscall")
__failure __msg("R3 min value is negative, either use unsigned or 'var &= const'")
__msg("arg#1 arg#2 memory, len pair leads to invalid memory access")
int mem_size_unbounded(int *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!m)
		return 0;
	if (v)
		bpf_cpumask_populate((struct cpumask *)m, v, *ctx);
	bpf_cpumask_release(m);
	return 0;
}

SEC("syscall")
__success
int mem_size_bounded(int *ctx)
{
	struct bpf_cpumask *m = bpf_cpumask_create();
	u32 key = 0, n = *ctx;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!m)
		return 0;
	if (v && n <= 32)
		bpf_cpumask_populate((struct cpumask *)m, v, n);
	bpf_cpumask_release(m);
	return 0;
}

/* A context parameter takes the context. */
SEC("xdp")
__failure __msg("arg#0 expected pointer to ctx, but got fp")
int ctx_arg_not_ctx(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	struct xdp_md fake = {};

	bpf_dynptr_from_xdp(&fake, 0, &d);
	return XDP_PASS;
}

/* bpf_cast_to_kern_ctx: the context as the kernel's struct, trusted. */
SEC("tc")
__success
int cast_to_kern_ctx(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return kskb != 0;
}

/* KF_SLEEPABLE: only in sleepable programs... */
SEC("tc")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_copy_from_user_dynptr")
__kfvm_msg("hint: bpf_copy_from_user_dynptr() may sleep")
int sleepable_in_tc(struct __sk_buff *skb)
{
	struct bpf_dynptr d;

	bpf_copy_from_user_dynptr(&d, 0, 8, 0);
	return 0;
}

SEC("syscall")
__success
int sleepable_in_syscall(void *ctx)
{
	struct bpf_dynptr d;
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 32, 0, &d);
	bpf_copy_from_user_dynptr(&d, 0, 8, 0);
	return 0;
}

/* ... and never inside an RCU read section, with preemption or IRQs disabled. */
SEC("syscall")
__failure __msg("kernel func bpf_copy_from_user_dynptr is sleepable within rcu_read_lock region")
int sleepable_in_rcu(void *ctx)
{
	struct bpf_dynptr d;
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 32, 0, &d);
	bpf_rcu_read_lock();
	bpf_copy_from_user_dynptr(&d, 0, 8, 0);
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
__failure __msg("kernel func bpf_copy_from_user_dynptr is sleepable within non-preemptible region")
int sleepable_no_preempt(void *ctx)
{
	struct bpf_dynptr d;
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 32, 0, &d);
	bpf_preempt_disable();
	bpf_copy_from_user_dynptr(&d, 0, 8, 0);
	bpf_preempt_enable();
	return 0;
}

SEC("syscall")
__failure __msg("kernel func bpf_copy_from_user_dynptr is sleepable within IRQ-disabled region")
int sleepable_irqs_off(void *ctx)
{
	struct bpf_dynptr d;
	unsigned long flags;
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 32, 0, &d);
	bpf_local_irq_save(&flags);
	bpf_copy_from_user_dynptr(&d, 0, 8, 0);
	bpf_local_irq_restore(&flags);
	return 0;
}
