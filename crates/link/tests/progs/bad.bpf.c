// SPDX-License-Identifier: MIT
/*
 * Objects libbpf refuses, one reason each (build.sh compiles this file once per -DCASE): tests
 * check that kfvm-link refuses them with libbpf's message. WEAK_PROTO is the odd one out.
 */
#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define bpf_ksym_exists(sym) (!!(sym))


struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

__u64 out[4];

#if defined(BAD_PROTO)
/* a strong kfunc whose prototype does not match the kernel's */
extern struct task_struct *bpf_task_acquire(struct task_struct *p, int extra) __ksym;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = (long)bpf_task_acquire(0, 1);
	return 0;
}
#elif defined(BAD_MISSING)
/* a strong kfunc the kernel does not have */
extern int bpf_kfvm_no_such_kfunc(int x) __ksym;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = bpf_kfvm_no_such_kfunc(1);
	return 0;
}
#elif defined(BAD_AMBIG_OFFSET)
/* the target has two flavors of struct amb that put x at different offsets */
struct amb {
	int x;
} __attribute__((preserve_access_index));
SEC("syscall")
int bad(struct amb *a)
{
	out[0] = a->x;
	return 0;
}
#elif defined(BAD_AMBIG_VALUE)
/* the target has two flavors of struct amb2 whose x differ in size */
struct amb2 {
	int x;
} __attribute__((preserve_access_index));
SEC("syscall")
int bad(struct amb2 *a)
{
	out[0] = bpf_core_field_size(a->x);
	return 0;
}
#elif defined(BAD_KCONFIG_TYPE)
/* CONFIG_BPF_SYSCALL=y given to an int */
extern int CONFIG_BPF_SYSCALL __kconfig;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = CONFIG_BPF_SYSCALL;
	return 0;
}
#elif defined(BAD_KCONFIG_STRONG)
/* a strong Kconfig extern the configuration does not set */
extern int CONFIG_KFVM_MISSING __kconfig;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = CONFIG_KFVM_MISSING;
	return 0;
}
#elif defined(BAD_VIRTUAL)
/* a strong LINUX_ extern libbpf does not know */
extern int LINUX_KFVM_UNKNOWN __kconfig;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = LINUX_KFVM_UNKNOWN;
	return 0;
}
#elif defined(BAD_VAR)
/* a strong typed ksym: in vmlinux, not in the kfvm model */
extern const int bpf_prog_active __ksym;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = (long)&bpf_prog_active;
	return 0;
}
#elif defined(BAD_VAR_TYPE)
/* a strong typed ksym whose type does not match the kernel's (an int there) */
struct not_an_int {
	int x;
};
extern const struct not_an_int bpf_prog_active __ksym;
SEC("syscall")
int bad(void *ctx)
{
	out[0] = (long)&bpf_prog_active;
	return 0;
}
#elif defined(WEAK_PROTO)
/* not refused by libbpf 1.6: a weak kfunc whose prototype does not match stays unresolved, and
 * its call is poisoned (libbpf 1.1 refused it like a strong one) */
extern void bpf_rcu_read_lock(int bogus) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym;
SEC("syscall")
int bad(void *ctx)
{
	if (bpf_ksym_exists(bpf_rcu_read_lock))
		bpf_rcu_read_lock(0);
	bpf_rcu_read_unlock();
	return 0;
}
#else
#error "build with -DBAD_..."
#endif

char LICENSE[] SEC("license") = "GPL";
