// SPDX-License-Identifier: MIT
/* RCU, preempt-disabled and IRQ-disabled regions: bpf_rcu_read_lock/unlock, bpf_preempt_disable/
 * enable, bpf_local_irq_save/restore (__irq_flag), their nesting rules, exits inside a region,
 * MEM_RCU pointers and their demotion to untrusted at unlock, KF_RCU arguments. syscall programs
 * are sleepable: outside bpf_rcu_read_lock() they are not in an RCU read section. Checked against
 * the live kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("syscall")
__success
int rcu_lock_unlock(void *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
__failure __msg("nested rcu read lock (kernel function bpf_rcu_read_lock)")
int rcu_nested(void *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
__failure __msg("unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)")
__kfvm_msg("hint: every bpf_rcu_read_unlock() needs a bpf_rcu_read_lock() before it on its path")
int rcu_unmatched_unlock(void *ctx)
{
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region")
int rcu_exit_inside(void *ctx)
{
	bpf_rcu_read_lock();
	return 0;
}

/* Locked on one path only: the unlock is unmatched on the other. */
SEC("syscall")
__failure __msg("unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)")
int rcu_lock_one_path(int *ctx)
{
	if (*ctx)
		bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

/* Inside the read section, a task's real_parent is an RCU pointer: KF_RCU kfuncs take it. */
SEC("syscall")
__success
int rcu_ptr_to_kf_rcu(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1), *p, *a;

	if (!t)
		return 0;
	bpf_rcu_read_lock();
	p = t->real_parent;
	a = bpf_task_acquire(p);
	if (a)
		bpf_task_release(a);
	bpf_rcu_read_unlock();
	bpf_task_release(t);
	return 0;
}

/* After the unlock the RCU pointer is untrusted. */
SEC("syscall")
__failure __msg("R1 must be a rcu pointer")
__kfvm_msg("hint: this task_struct pointer is untrusted")
int rcu_ptr_after_unlock(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1), *p, *a;

	if (!t)
		return 0;
	bpf_rcu_read_lock();
	p = t->real_parent;
	bpf_rcu_read_unlock();
	a = bpf_task_acquire(p);
	if (a)
		bpf_task_release(a);
	bpf_task_release(t);
	return 0;
}

/* Outside any read section a sleepable program's walked pointer is untrusted. */
SEC("syscall")
__failure __msg("R1 must be a rcu pointer")
int rcu_ptr_without_lock(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1), *a;

	if (!t)
		return 0;
	a = bpf_task_acquire(t->real_parent);
	if (a)
		bpf_task_release(a);
	bpf_task_release(t);
	return 0;
}

/* `parent` is not in task_struct's RCU-safe list: inside the read section it is a plain,
 * untrusted-for-kfuncs pointer. */
SEC("syscall")
__failure __msg("R1 must be a rcu pointer")
__kfvm_msg("hint: this task_struct pointer was read from a field the kernel marks neither trusted nor RCU-safe")
int not_rcu_safe_field(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1), *a;

	if (!t)
		return 0;
	bpf_rcu_read_lock();
	a = bpf_task_acquire(t->parent);
	bpf_rcu_read_unlock();
	if (a)
		bpf_task_release(a);
	bpf_task_release(t);
	return 0;
}

/* A release kfunc needs the reference itself, not a pointer walked from it. */
SEC("syscall")
__failure __msg("R1 must be referenced or trusted")
__kfvm_msg("hint: this task_struct pointer was read from a field the kernel marks neither trusted nor RCU-safe; bpf_task_release() releases a reference")
int release_walked(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_rcu_read_lock();
	bpf_task_release(t->parent);
	bpf_rcu_read_unlock();
	bpf_task_release(t);
	return 0;
}

/* KF_RCU with a trusted (referenced) pointer. */
SEC("syscall")
__success
int kf_rcu_trusted(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1), *a;

	if (!t)
		return 0;
	a = bpf_task_acquire(t);
	if (a)
		bpf_task_release(a);
	bpf_task_release(t);
	return 0;
}

SEC("syscall")
__success
int preempt_nested(void *ctx)
{
	bpf_preempt_disable();
	bpf_preempt_disable();
	bpf_preempt_enable();
	bpf_preempt_enable();
	return 0;
}

SEC("syscall")
__failure __msg("unmatched attempt to enable preemption (kernel function bpf_preempt_enable)")
int preempt_unmatched(void *ctx)
{
	bpf_preempt_disable();
	bpf_preempt_enable();
	bpf_preempt_enable();
	return 0;
}

SEC("syscall")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region")
int preempt_exit_inside(void *ctx)
{
	bpf_preempt_disable();
	bpf_preempt_disable();
	bpf_preempt_enable();
	return 0;
}

SEC("syscall")
__success
int irq_save_restore(void *ctx)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	bpf_local_irq_restore(&flags);
	return 0;
}

SEC("syscall")
__success
int irq_nested(void *ctx)
{
	unsigned long f1, f2;

	bpf_local_irq_save(&f1);
	bpf_local_irq_save(&f2);
	bpf_local_irq_restore(&f2);
	bpf_local_irq_restore(&f1);
	return 0;
}

SEC("syscall")
__failure __msg("cannot restore irq state out of order, expected id=")
int irq_out_of_order(void *ctx)
{
	unsigned long f1, f2;

	bpf_local_irq_save(&f1);
	bpf_local_irq_save(&f2);
	bpf_local_irq_restore(&f1);
	bpf_local_irq_restore(&f2);
	return 0;
}

SEC("syscall")
__failure __msg("expected an initialized irq flag as arg#0")
int irq_restore_uninit(void *ctx)
{
	unsigned long flags = 0;

	bpf_local_irq_restore(&flags);
	return 0;
}

SEC("syscall")
__failure __msg("expected uninitialized irq flag as arg#0")
int irq_save_twice(void *ctx)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	bpf_local_irq_save(&flags);
	bpf_local_irq_restore(&flags);
	return 0;
}

SEC("syscall")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_local_irq_save-ed region")
int irq_exit_inside(void *ctx)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	return 0;
}

SEC("syscall")
__failure __msg("arg#0 doesn't point to an irq flag on stack")
int irq_flag_not_stack(void *ctx)
{
	bpf_local_irq_save(ctx);
	return 0;
}

/* The flag's stack slot belongs to the verifier: a store over it makes it plain data again... */
SEC("syscall")
__failure __msg("expected an initialized irq flag as arg#0")
int irq_flag_overwritten(void *ctx)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	asm volatile("*(u64 *)(%[p] + 0) = 0;" :: [p] "r"(&flags) : "memory");
	bpf_local_irq_restore(&flags);
	return 0;
}

/* ... and it cannot be read. */
SEC("syscall")
__failure __msg("invalid read from stack off -8+0 size 8")
int irq_flag_read(void *ctx)
{
	unsigned long flags, v;

	bpf_local_irq_save(&flags);
	asm volatile("%[v] = *(u64 *)(%[p] + 0);" : [v] "=r"(v) : [p] "r"(&flags) : "memory");
	bpf_local_irq_restore(&flags);
	return v;
}
