// SPDX-License-Identifier: MIT
/* Tracing shapes: tp_btf, fentry/fexit/fmod_ret, sleepable variants, raw_tp, tp, kprobe, uprobe,
 * lsm, iter, perf_event; a ring buffer, a per-CPU array, .bss counters, CO-RE reads. */
#include "common.h"

struct event {
	int pid;
	int prev_pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

__u64 switches;
__u64 unlinks;
int target_pid = 0;

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		*v += 1;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct event *e;

	switches++;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = next->pid;
	e->prev_pid = prev->pid;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), next->comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(enter_unlinkat, int dfd, struct filename *name)
{
	unlinks++;
	bump(0);
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(exit_unlinkat, int dfd, struct filename *name, long ret)
{
	bump(1);
	return 0;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(mod_file_open, struct file *file, int ret)
{
	return 0;
}

SEC("fentry.s/do_unlinkat")
int BPF_PROG(sleepable_unlinkat, int dfd, struct filename *name)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long id)
{
	bump(2);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int tp_openat(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[0] == 0)
		bump(3);
	return 0;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kp_openat, int dfd, const char *filename)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int ppid = BPF_CORE_READ(task, real_parent, tgid);

	if (ppid == target_pid)
		bump(0);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(krp_openat, long ret)
{
	return ret < 0;
}

SEC("uprobe//proc/self/exe:main")
int BPF_KPROBE(up_main)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(lsm_open, struct file *file)
{
	return 0;
}

SEC("lsm.s/bprm_committed_creds")
int BPF_PROG(lsm_creds, struct linux_binprm *bprm)
{
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", task->pid);
	return 0;
}

SEC("perf_event")
int on_perf(struct bpf_perf_event_data *ctx)
{
	bump(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
