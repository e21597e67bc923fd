// Queue maps: no keys, push and pop. (kfvm's runtime has no queue maps yet: the run trials of
// this file are skipped, saying so.) Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, u64);
	__uint(max_entries, 8);
} queue SEC(".maps");

SEC("syscall")
__description("queue: push, then pop into a stack buffer")
__success __retval(7) __kfvm_todo("queue and stack map helpers")
int queue_push_pop(void *ctx)
{
	u64 in = 7, out = 0;

	bpf_map_push_elem(&queue, &in, 0);
	bpf_map_pop_elem(&queue, &out);
	return out;
}

SEC("syscall")
__description("queue maps have no keys: a lookup reads a zero-sized key")
__failure __msg("invalid zero-sized read")
int queue_lookup(void *ctx)
{
	u32 key = 0;

	return bpf_map_lookup_elem(&queue, &key) != 0;
}
