// SPDX-License-Identifier: MIT
/* kfunc calls and regions meeting other rules: spin-locked regions allow only the kfuncs of
 * kfunc_spin_allowed(), global functions may run in RCU, preempt-disabled and IRQ-disabled
 * sections unless they may sleep (they call a KF_SLEEPABLE kfunc), a static subprogram may end
 * the RCU section its caller began, and the region kinds nest in one another. Checked against
 * the live kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";


struct val { struct bpf_spin_lock lock; u64 n; };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct val);
	__uint(max_entries, 1);
} m SEC(".maps");

__noinline int global_fn(int x)
{
	return x + 1;
}

static __noinline int static_fn(int x)
{
	bpf_rcu_read_unlock();
	return x + 1;
}

SEC("tc")
__failure __msg("function calls are not allowed while holding a lock")
int kfunc_in_spin_lock(struct __sk_buff *skb)
{
	u32 key = 0;
	struct val *v = bpf_map_lookup_elem(&m, &key);
	struct task_struct *t;

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	t = bpf_task_from_pid(1);
	bpf_spin_unlock(&v->lock);
	if (t)
		bpf_task_release(t);
	return 0;
}

SEC("tc")
__failure __msg("function calls are not allowed while holding a lock")
int rcu_lock_in_spin_lock(struct __sk_buff *skb)
{
	u32 key = 0;
	struct val *v = bpf_map_lookup_elem(&m, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__success
int global_call_in_rcu(struct __sk_buff *skb)
{
	int r;

	bpf_rcu_read_lock();
	r = global_fn(skb->len);
	bpf_rcu_read_unlock();
	return r;
}

SEC("tc")
__success
int global_call_irqs_off(struct __sk_buff *skb)
{
	unsigned long f;
	int r;

	bpf_local_irq_save(&f);
	r = global_fn(skb->len);
	bpf_local_irq_restore(&f);
	return r;
}

SEC("tc")
__success
int unlock_in_static_subprog(struct __sk_buff *skb)
{
	bpf_rcu_read_lock();
	return static_fn(skb->len);
}

SEC("tc")
__success
int rcu_lock_in_irq_region(struct __sk_buff *skb)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_local_irq_restore(&f);
	bpf_preempt_disable();
	bpf_rcu_read_lock();
	bpf_preempt_enable();
	bpf_rcu_read_unlock();
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64[4]);
	__uint(max_entries, 1);
} bufs SEC(".maps");

__noinline int sleeper(int x)
{
	struct bpf_dynptr d;
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 32, 0, &d);
	bpf_copy_from_user_dynptr(&d, 0, 8, 0);
	return x;
}

SEC("syscall")
__failure __msg("global functions that may sleep are not allowed in non-sleepable context,")
__msg("i.e., in a RCU/IRQ/preempt-disabled section, or in")
int sleeping_global_in_rcu(void *ctx)
{
	int r;

	bpf_rcu_read_lock();
	r = sleeper(1);
	bpf_rcu_read_unlock();
	return r;
}

SEC("syscall")
__failure __msg("global functions that may sleep are not allowed in non-sleepable context,")
int sleeping_global_preempt(void *ctx)
{
	int r;

	bpf_preempt_disable();
	r = sleeper(1);
	bpf_preempt_enable();
	return r;
}

SEC("syscall")
__success
int sleeping_global_ok(void *ctx)
{
	return sleeper(1);
}
