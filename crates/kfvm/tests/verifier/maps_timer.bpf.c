// bpf_timer: a timer field in a map value, bpf_timer_init/set_callback/start/cancel, and the
// callback (map, key, value), verified on its own path, returning 0. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct elem {
	u64 count;
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct elem);
	__uint(max_entries, 1);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct elem);
	__uint(max_entries, 1);
} other SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 1);
} plain SEC(".maps");

static int count_cb(void *map, u32 *key, struct elem *e)
{
	e->count += *key + 1;
	return 0;
}

SEC("syscall")
__description("init, set a callback that updates the value, start, cancel")
__success
int timer_cycle(void *ctx)
{
	u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_init(&e->t, &timers, 1 /* CLOCK_MONOTONIC */);
	bpf_timer_set_callback(&e->t, count_cb);
	bpf_timer_start(&e->t, 1000000, 0);
	bpf_timer_cancel(&e->t);
	return 0;
}

static int ret_one_cb(void *map, u32 *key, struct elem *e)
{
	return 1;
}

SEC("syscall")
__description("a timer callback returns 0")
__failure __msg("At async callback return the register R0 has smin=1 smax=1 should have been in [0, 0]")
int timer_cb_ret(void *ctx)
{
	u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_set_callback(&e->t, ret_one_cb);
	return 0;
}

static int oob_cb(void *map, u32 *key, struct elem *e)
{
	e->count = e[1].count;
	return 0;
}

SEC("syscall")
__description("the callback's value pointer is bounded by the value size")
__failure __msg("invalid access to map value, value_size=24 off=24 size=8")
int timer_cb_oob(void *ctx)
{
	u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_set_callback(&e->t, oob_cb);
	return 0;
}

SEC("syscall")
__description("the timer's map and the map argument of bpf_timer_init are the same")
__failure __msg("timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0")
int timer_init_other_map(void *ctx)
{
	u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	return bpf_timer_init(&e->t, &other, 1);
}

SEC("syscall")
__description("the timer argument points at the value's bpf_timer")
__failure __msg("off 0 doesn't point to 'struct bpf_timer' that is at 8")
int timer_wrong_off(void *ctx)
{
	u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	return bpf_timer_start((struct bpf_timer *)e, 1000, 0);
}

SEC("syscall")
__description("a map value without a bpf_timer")
__failure __msg("map 'plain' has no valid bpf_timer")
int timer_no_field(void *ctx)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&plain, &key);

	if (!v)
		return 0;
	return bpf_timer_cancel((struct bpf_timer *)v);
}
