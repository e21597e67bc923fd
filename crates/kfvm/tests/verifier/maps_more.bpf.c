// More map types and map helpers: per-CPU arrays, LRU hashes,
// bpf_for_each_map_elem, timers. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 2);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 8);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 8);
} counts SEC(".maps");

struct timer_val {
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct timer_val);
	__uint(max_entries, 1);
} timers SEC(".maps");

SEC("syscall")
__description("per-CPU array: the value of this CPU")
__success __retval(1)
int percpu_inc(void *ctx)
{
	u32 key = 1;
	u64 *v = bpf_map_lookup_elem(&pcpu, &key);

	if (!v)
		return 0;
	*v += 1;
	return *v;
}

SEC("syscall")
__description("LRU hash: update then lookup")
__success __retval(9)
int lru_update_lookup(void *ctx)
{
	u32 key = 3;
	u64 val = 9, *v;

	bpf_map_update_elem(&lru, &key, &val, BPF_ANY);
	v = bpf_map_lookup_elem(&lru, &key);
	return v ? *v : 0;
}

static long count_elem(void *map, u32 *key, u64 *val, void *ctx)
{
	*(u64 *)ctx += *val;
	return 0;
}

SEC("syscall")
__description("bpf_for_each_map_elem with a callback reading keys and values")
__success __retval(0)
int for_each_sum(void *ctx)
{
	u64 sum = 0;

	bpf_for_each_map_elem(&counts, count_elem, &sum, 0);
	return 0;
}

static int timer_cb(void *map, u32 *key, struct timer_val *v)
{
	return 0;
}

SEC("syscall")
__description("a timer in a map value: init, set callback, start")
__success
int timer_start(void *ctx)
{
	u32 key = 0;
	struct timer_val *v = bpf_map_lookup_elem(&timers, &key);

	if (!v)
		return 0;
	bpf_timer_init(&v->t, &timers, 1 /* CLOCK_MONOTONIC */);
	bpf_timer_set_callback(&v->t, timer_cb);
	bpf_timer_start(&v->t, 1000, 0);
	return 0;
}

SEC("syscall")
__description("a timer is not plain memory")
__failure __msg("bpf_timer cannot be accessed directly by load/store")
int timer_direct_access(void *ctx)
{
	u32 key = 0;
	struct timer_val *v = bpf_map_lookup_elem(&timers, &key);

	if (!v)
		return 0;
	return *(u64 *)v;
}

SEC("kprobe/do_exit")
__description("bpf_get_current_comm into a stack buffer")
__success __kfvm_run_arg("0")
int current_comm(struct pt_regs *regs)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0];
}

SEC("kprobe/do_exit")
__description("bpf_probe_read_user_str into a stack buffer")
__success __kfvm_run_arg("0")
int probe_read_user_str(struct pt_regs *regs)
{
	char buf[32];

	return bpf_probe_read_user_str(buf, sizeof(buf), (void *)regs->si) > 0;
}
