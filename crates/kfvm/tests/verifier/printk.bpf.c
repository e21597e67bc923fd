// bpf_printk (bpf_trace_printk and bpf_trace_vprintk): the format must be a constant string.
// Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("syscall")
__description("bpf_printk with three arguments (bpf_trace_printk)")
__success __retval(0)
int printk_three(void *ctx)
{
	bpf_printk("pid %d cpu %d t %llu", (int)(bpf_get_current_pid_tgid() >> 32),
		   bpf_get_smp_processor_id(), bpf_ktime_get_ns());
	return 0;
}

SEC("syscall")
__description("bpf_printk with four arguments (bpf_trace_vprintk)")
__success __retval(0)
int printk_four(void *ctx)
{
	bpf_printk("%d %d %d %d", 1, 2, 3, 4);
	return 0;
}

SEC("syscall")
__description("the format of bpf_trace_printk may be on the stack (its text is checked at run time)")
__success __retval(0)
int printk_stack_fmt(void *ctx)
{
	char fmt[] = "hello %d";

	bpf_trace_printk(fmt, sizeof(fmt), 1);
	return 0;
}

SEC("syscall")
__description("a format size larger than the string")
__failure __msg("invalid access to map value, value_size=")
int printk_size_past(void *ctx)
{
	static const char fmt[] = "x %d";

	bpf_trace_printk(fmt, sizeof(fmt) + 8, 1);
	return 0;
}
