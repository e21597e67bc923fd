// fentry/fexit contexts (btf_ctx_access on the FUNC's prototype): arguments that point to structs
// are BTF pointers (not trusted: prog_args_trusted() holds for tp_btf only), others scalars;
// fexit reads the return value after the arguments; the return value must be 0. This machine's
// kernel refuses fentry/fexit loads before its verifier runs (EPERM), so these are checked by
// kfvm only, their expectations read from kernel/bpf/btf.c and verifier.c. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

long sink;

#define KERNEL_REFUSES __kfvm_only("this machine's kernel refuses fentry/fexit loads (EPERM before the verifier)")

SEC("fentry/wake_up_new_task")
__description("fentry: a struct pointer argument is a flagless BTF pointer, and so is what it leads to")
__success __log_level(2) KERNEL_REFUSES
__msg("func 'wake_up_new_task' arg0 has btf_id")
__msg("R1=ptr_task_struct()")
__msg("=ptr_task_struct()")
__kfvm_run_arg("task:100")
int BPF_PROG(new_task, struct task_struct *p)
{
	struct task_struct *parent = p->real_parent;

	sink = parent->pid;
	return 0;
}

SEC("fentry/do_exit")
__description("fentry: a long argument is a scalar")
__success KERNEL_REFUSES
__kfvm_run_arg("3")
int BPF_PROG(exit_code, long code)
{
	sink = code;
	return 0;
}

SEC("fentry/do_exit")
__description("fentry: programs return 0")
__failure KERNEL_REFUSES
__msg("At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]")
int BPF_PROG(exit_ret1, long code)
{
	return 1;
}

SEC("fexit/do_exit")
__description("fexit: not on a __noreturn function")
__failure KERNEL_REFUSES
__msg("Attaching fexit/fmod_ret to __noreturn function 'do_exit' is rejected.")
int BPF_PROG(exit_fexit, long code)
{
	return 0;
}

SEC("fexit/cgroup_mkdir")
__description("fexit: the int return value follows the arguments")
__success KERNEL_REFUSES
__kfvm_run_arg("0") __kfvm_run_arg("0") __kfvm_run_arg("0")
int BPF_PROG(mkdir_ret, struct kernfs_node *parent_kn, const char *name, umode_t mode, int ret)
{
	sink = ret;
	return 0;
}

SEC("fexit/wake_up_new_task")
__description("fexit: a void function has no return value slot")
__failure KERNEL_REFUSES
__msg("func 'wake_up_new_task' doesn't have 3-th argument")
__msg("invalid bpf_context access off=8 size=8")
int fexit_void_ret(u64 *ctx)
{
	sink = ctx[1];
	return 0;
}

SEC("fentry/cgroup_mkdir")
__description("fentry: a char * argument is a scalar")
__failure KERNEL_REFUSES
__msg("invalid mem access 'scalar'")
int BPF_PROG(mkdir_name, struct kernfs_node *parent_kn, const char *name)
{
	sink = name[0];
	return 0;
}
