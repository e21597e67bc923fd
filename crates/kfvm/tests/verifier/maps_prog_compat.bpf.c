// check_map_prog_compatibility(): which maps a program may use at all, checked when an lddw
// first names a map, before the walk. (The runtime has no bloom filters: the run trials of this
// file are skipped, saying so.) Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, u64);
	__uint(max_entries, 8);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
	__uint(max_entries, 4);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
	__uint(max_entries, 1);
} progs SEC(".maps");

struct locked {
	struct bpf_spin_lock lock;
	u64 v;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct locked);
	__uint(max_entries, 1);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, u64);
	__uint(max_entries, 8);
} queue SEC(".maps");

SEC("syscall")
__description("sleepable programs: no bloom filters")
__failure __msg("Sleepable programs can only use array, hash, ringbuf and local storage maps")
int sleepable_bloom(void *ctx)
{
	u64 v = 1;

	return bpf_map_push_elem(&bloom, &v, 0);
}

SEC("syscall")
__description("sleepable programs: no perf event arrays")
__failure __msg("Sleepable programs can only use array, hash, ringbuf and local storage maps")
int sleepable_perf_event_array(void *ctx)
{
	u64 v = 1;

	return bpf_perf_event_output(ctx, &events, 0, &v, sizeof(v));
}

SEC("syscall")
__description("sleepable programs: no program arrays (Linux 6.18)")
__failure __msg("Sleepable programs can only use array, hash, ringbuf and local storage maps")
int sleepable_prog_array(void *ctx)
{
	bpf_tail_call(ctx, &progs, 0);
	return 0;
}

SEC("syscall")
__description("sleepable programs: queues are fine")
__success
int sleepable_queue(void *ctx)
{
	u64 v = 1;

	return bpf_map_push_elem(&queue, &v, 0);
}

SEC("xdp")
__description("a bloom filter in a non-sleepable program")
__success
int xdp_bloom(struct xdp_md *ctx)
{
	u64 v = 1;

	bpf_map_push_elem(&bloom, &v, 0);
	return XDP_PASS;
}

SEC("socket")
__description("socket filters: no spin locks")
__failure __msg("socket filter progs cannot use bpf_spin_lock yet")
int socket_spin_lock(void *ctx)
{
	u32 key = 0;

	return bpf_map_lookup_elem(&locks, &key) != 0;
}

SEC("kprobe/do_nanosleep")
__description("kprobes: no spin locks")
__failure __msg("tracing progs cannot use bpf_spin_lock yet")
int kprobe_spin_lock(void *ctx)
{
	u32 key = 0;

	return bpf_map_lookup_elem(&locks, &key) != 0;
}

SEC("tp_btf/task_newtask")
__description("BTF-enabled tracing programs (tp_btf, fentry) may use spin lock maps")
__success
int tp_btf_spin_lock(void *ctx)
{
	u32 key = 0;

	return bpf_map_lookup_elem(&locks, &key) != 0;
}
