// Contexts of tracing programs: tp_btf arguments through btf_ctx_access (u64 slots, BTF-typed
// pointers for struct pointers, scalars for the rest), raw_tp u64 slots, kprobe pt_regs.
// fentry/fexit contexts follow the same rules but the live kernel here refuses to load them
// (EPERM): crates/verifier/tests/btf_ptr.rs covers them. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("tp_btf/sched_process_fork")
__description("tp_btf: both tasks of a fork are trusted")
__success __log_level(2)
__msg("func 'sched_process_fork' arg1 has btf_id")
__msg("R2=trusted_ptr_task_struct()")
__msg("func 'sched_process_fork' arg0 has btf_id")
__msg("R1=trusted_ptr_task_struct()")
__kfvm_run_arg("task:1") __kfvm_run_arg("task:100")
int BPF_PROG(fork_tasks, struct task_struct *parent, struct task_struct *child)
{
	return parent->pid + child->pid == 12345;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: a pointer argument is read whole")
__failure __msg("func 'task_newtask' size 4 must be 8") __msg("invalid bpf_context access off=0 size=4")
int ptr_arg_u32(void *ctx)
{
	return *(u32 *)ctx;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: a scalar argument may be read in parts")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("17")
int scalar_arg_u32(void *ctx)
{
	return *(u32 *)(ctx + 8) == 17;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: offsets are multiples of 8")
__failure __msg("func 'task_newtask' offset 12 is not multiple of 8")
__msg("invalid bpf_context access off=12 size=4")
int arg_off_12(void *ctx)
{
	return *(u32 *)(ctx + 12);
}

SEC("tp_btf/task_newtask")
__description("tp_btf: two slots past the arguments (btf_ctx_arg_idx counts void *__data)")
__failure __msg("func 'task_newtask' doesn't have 5-th argument")
int arg_past_2(void *ctx)
{
	return *(u64 *)(ctx + 24);
}

SEC("tp_btf/task_newtask")
__description("tp_btf: the context is read-only")
__failure __msg("invalid bpf_context access off=8 size=8")
int ctx_write(void *ctx)
{
	*(u64 *)(ctx + 8) = 1;
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
__description("tp_btf: a char * argument is a scalar")
__failure __msg("invalid mem access 'scalar'")
int BPF_PROG(mkdir_path, struct cgroup *cgrp, const char *path)
{
	return cgrp->level + path[0];
}

SEC("tp_btf/cgroup_mkdir")
__description("tp_btf: a char * argument read with bpf_probe_read_kernel_str()")
__success
__kfvm_run_arg("cgroup:1") __kfvm_run_arg("0")
int BPF_PROG(mkdir_path_str, struct cgroup *cgrp, const char *path)
{
	char buf[32];

	return bpf_probe_read_kernel_str(buf, sizeof(buf), path) == 12345;
}

SEC("tp_btf/task_newtask")
__description("tp_btf: any return value")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int ret_any(void *ctx)
{
	return 7;
}

SEC("raw_tp/task_newtask")
__description("raw_tp: every slot is a u64, readable in parts")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("17")
int raw_slots(u64 *ctx)
{
	return *(u32 *)((void *)ctx + 12) + ctx[11] == 12345;
}

SEC("raw_tp/task_newtask")
__description("raw_tp: twelve slots")
__failure __msg("invalid bpf_context access off=96 size=8")
int raw_past(u64 *ctx)
{
	return ctx[12];
}

SEC("raw_tp/task_newtask")
__description("raw_tp: the context is read-only")
__failure __msg("invalid bpf_context access off=0 size=8")
int raw_write(u64 *ctx)
{
	ctx[0] = 1;
	return 0;
}

SEC("raw_tp/task_newtask")
__description("raw_tp: a task argument is a number, read through bpf_probe_read_kernel()")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("17")
int raw_task(u64 *ctx)
{
	struct task_struct *t = (void *)ctx[0];
	int pid = 0;

	bpf_probe_read_kernel(&pid, sizeof(pid), &t->pid);
	return pid == 12345;
}

SEC("kprobe/do_exit")
__description("kprobe: bpf_probe_read_kernel_str() from an argument into a stack buffer")
__success __kfvm_run_arg("0")
int BPF_KPROBE(kprobe_str, const char *s)
{
	char buf[16];

	bpf_probe_read_kernel_str(buf, sizeof(buf), s);
	return buf[0] == 'x';
}
