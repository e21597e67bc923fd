// A program attached to a tracepoint the kernel model does not have (tests/bad_input.rs).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

SEC("tp_btf/no_such_tracepoint")
int BPF_PROG(nowhere, struct task_struct *task)
{
	return 0;
}
