// SPDX-License-Identifier: MIT
/*
 * Externs as libbpf resolves them: kfuncs (strong; weak and present; weak and missing; a
 * ___flavor of a kfunc name), bpf_ksym_exists() on a kfunc (an
 * ldimm64 of the kfunc), a typed and a typeless __ksym variable (weak), and .kconfig externs of
 * every libbpf type. Linked by tests against the kfvm kernel model and this machine's vmlinux.
 * The few kernel types needed are declared here (kfunc prototypes compare kinds, not names).
 * Rebuild: ./build.sh.
 */
#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#define bpf_ksym_exists(sym) (!!(sym))

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));
struct cgroup {
	int level;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym __weak;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym __weak;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym __weak;
extern int bpf_kfvm_no_such_kfunc(int x) __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
/* a flavored name resolves by its essential name */
extern struct task_struct *bpf_task_acquire___v2(struct task_struct *p) __ksym __weak;

extern const int bpf_prog_active __ksym __weak;
extern const void bpf_prog_fops __ksym __weak;

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig __weak;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig __weak;
extern int LINUX_KFVM_UNKNOWN __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern char CONFIG_HZ_STR[8] __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern char CONFIG_KFVM_CHAR __kconfig __weak;
extern __u64 CONFIG_KFVM_MISSING __kconfig __weak;

__u64 out[32];

SEC("syscall")
int kfuncs(void *ctx)
{
	struct task_struct *t, *u;
	struct cgroup *c;

	t = bpf_task_from_pid(1);
	if (!t)
		return 0;
	u = bpf_task_acquire(t);
	bpf_task_release(t);
	if (u)
		bpf_task_release(u);
	if (bpf_ksym_exists(bpf_cgroup_from_id)) {
		c = bpf_cgroup_from_id(1);
		if (c)
			bpf_cgroup_release(c);
	}
	if (bpf_ksym_exists(bpf_kfvm_no_such_kfunc))
		out[0] = bpf_kfvm_no_such_kfunc(3);
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	t = bpf_task_acquire___v2(0);
	out[1] = (long)t;
	return 0;
}

SEC("syscall")
int ksyms(void *ctx)
{
	out[2] = (long)&bpf_prog_active;
	out[3] = (long)&bpf_prog_fops;
	return 0;
}

SEC("syscall")
int kconfig(void *ctx)
{
	out[4] = LINUX_KERNEL_VERSION;
	out[5] = LINUX_HAS_BPF_COOKIE;
	out[6] = LINUX_HAS_SYSCALL_WRAPPER;
	out[7] = LINUX_KFVM_UNKNOWN;
	out[8] = CONFIG_BPF_SYSCALL;
	out[9] = CONFIG_BPF_JIT;
	out[10] = CONFIG_HZ_STR[0];
	out[11] = CONFIG_HZ;
	out[12] = CONFIG_KFVM_CHAR;
	out[13] = CONFIG_KFVM_MISSING;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
