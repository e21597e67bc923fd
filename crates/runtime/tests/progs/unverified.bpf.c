// Programs the verifier refuses, run in checked mode (`kfvm run --checked`, LoadOptions::no_verify)
// by tests/bad_input.rs to show what checked runs make safe. Rebuild: ./build.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

char _license[] SEC("license") = "GPL";

/* Reads an int at the address the context gives: through a live object it reads the object;
 * anywhere else (a freed object, host memory the run was not given) it reads 0, as a faulting
 * BPF_PROBE_MEM load does. The verifier refuses a load through a scalar ("R1 invalid mem access
 * 'scalar'"); a checked run makes it safe all the same. */
SEC("syscall")
int peek(u64 *ctx)
{
	return *(int *)ctx[0];
}

/* A store through a scalar: refused by the verifier, a fault in a checked run. */
SEC("syscall")
int poke(u64 *ctx)
{
	*(int *)ctx[0] = 1;
	return 0;
}

/* Releases a reference twice: the verifier refuses the second release ("arg#0 pointer type
 * STRUCT task_struct must point to scalar, or struct with scalar": the released pointer is a
 * scalar); a checked run ends at it ("releases a reference ... it does not own"). */
SEC("syscall")
int double_release(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(ctx ? *(s32 *)ctx : 1);

	if (!t)
		return -2;
	bpf_task_release(t);
	bpf_task_release(t);
	return 0;
}

/* Keeps a reference: the verifier refuses the exit ("Unreleased reference"); a checked run
 * reports it and releases it. */
SEC("syscall")
int leak_reference(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(ctx ? *(s32 *)ctx : 1);

	return t ? 1 : 0;
}

/* A dynptr over stack memory: write, read back, bounds. The kernel's verifier (and kfvm's)
 * refuses stack memory for bpf_dynptr_from_mem ("Unsupported reg type fp"); a checked run runs
 * it, tests/retval.rs checks it there. */
SEC("syscall")
int dynptr_mem(void *ctx)
{
	struct bpf_dynptr d;
	char buf[16] = {};
	u16 v = 0x1234, out = 0;

	if (bpf_dynptr_from_mem(buf, sizeof(buf), 0, &d))
		return -1;
	if (bpf_dynptr_write(&d, 14, &v, sizeof(v), 0))
		return -2;
	if (bpf_dynptr_write(&d, 15, &v, sizeof(v), 0) != -7)
		return -3;
	if (bpf_dynptr_read(&out, sizeof(out), &d, 14, 0))
		return -4;
	return out;
}
