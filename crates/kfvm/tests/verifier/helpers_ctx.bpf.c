// Helpers per program type, and context access of TC programs. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("xdp")
__description("bpf_get_current_task_btf is a base helper for CAP_PERFMON loaders, XDP included")
__success
int xdp_current_task(struct xdp_md *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t != 0;
}

SEC("syscall")
__description("pid and tgid of the current task, processor id, time")
__success
int ids_and_time(void *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 cpu = bpf_get_smp_processor_id();
	u64 t = bpf_ktime_get_ns();

	return (id >> 32) + cpu + (t & 1);
}

SEC("kprobe/do_exit")
__description("bpf_probe_read_kernel into the stack")
__success __kfvm_run_arg("0")
int probe_read(struct pt_regs *regs)
{
	u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)regs->di);
	return v != 0;
}

SEC("kprobe/do_exit")
__description("bpf_probe_read_kernel with a size larger than the buffer")
__failure __msg("invalid write to stack R1 off=-8 size=16")
int probe_read_too_big(struct pt_regs *regs)
{
	u64 v = 0;

	bpf_probe_read_kernel(&v, 16, (void *)regs->di);
	return v != 0;
}

SEC("tc")
__description("__sk_buff: len, mark written, priority")
__success
int tc_fields(struct __sk_buff *skb)
{
	skb->mark = skb->len;
	skb->priority = 1;
	return 0;
}

SEC("tc")
__description("__sk_buff: len is read-only")
__failure __msg("invalid bpf_context access off=0 size=4")
int tc_write_len(struct __sk_buff *skb)
{
	skb->len = 0;
	return 0;
}

SEC("tc")
__description("a privileged loader's TC program may return a pointer")
__success
int tc_return_pointer(struct __sk_buff *skb)
{
	return (long)skb;
}

struct args {
	u64 a;
	u64 b;
};

SEC("syscall")
__description("a syscall program reads its context, a user buffer")
__success __retval(5) __kfvm_run_arg("2") __kfvm_run_arg("3")
int syscall_ctx_read(struct args *ctx)
{
	return ctx->a + ctx->b;
}

SEC("syscall")
__description("a syscall program's context is at most U16_MAX bytes")
__failure __msg("dereference of modified ctx ptr R1 off=65536 disallowed")
int syscall_ctx_too_far(void *ctx)
{
	return *(u64 *)(ctx + 65536);
}
