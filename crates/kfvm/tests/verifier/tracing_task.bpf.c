// Tracing programs reading task fields: tp_btf and fentry arguments are BTF-typed pointers,
// kprobes read pt_regs, bpf_get_current_task_btf() returns a trusted task. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("tp_btf/task_newtask")
__description("tp_btf: read fields of the new task")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(newtask_fields, struct task_struct *task, u64 clone_flags)
{
	return task->pid + task->tgid > 0 ? 0 : 1;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: walk to the parent (an untrusted pointer, loads are still allowed)")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(newtask_parent, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *parent = task->real_parent;

	return parent->pid;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: stores through BTF pointers are refused")
__failure __msg("only read is supported")
int BPF_PROG(newtask_store, struct task_struct *task, u64 clone_flags)
{
	task->pid = 0;
	return 0;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: reading past the context's arguments")
__failure __msg("func 'task_newtask' doesn't have 3-th argument")
__msg("invalid bpf_context access off=16 size=8")
int newtask_ctx_past(u64 *ctx)
{
	return ctx[2];
}

SEC("tp_btf/sched_switch")
__description("tp_btf: comm of the next task, through bpf_probe_read_kernel_str")
__success
__kfvm_run_arg("0") __kfvm_run_arg("task:1") __kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(switch_comm, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	char comm[16];

	bpf_probe_read_kernel_str(comm, sizeof(comm), next->comm);
	return comm[0] == 0;
}

SEC("raw_tp/task_newtask")
__description("raw_tp: arguments are plain u64 values")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("17")
int raw_newtask(struct bpf_raw_tracepoint_args *ctx)
{
	return ctx->args[1] != 0;
}

SEC("kprobe/do_exit")
__description("kprobe: the first argument from pt_regs")
__success __kfvm_run_arg("0")
int BPF_KPROBE(kprobe_exit, long code)
{
	return code != 0;
}

SEC("kprobe/do_exit")
__description("kprobe: pt_regs cannot be written")
__failure __msg("invalid bpf_context access")
int kprobe_write_regs(struct pt_regs *regs)
{
	regs->di = 0;
	return 0;
}

SEC("tp_btf/task_newtask")
__description("bpf_get_current_task_btf() gives a trusted task")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(current_task_btf, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	return cur->pid == task->pid;
}
