// bpf_for_each_map_elem: a callback (map, key, value, ctx) verified like bpf_loop's, for
// arrays and hash maps. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 4);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 8);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct sum_ctx {
	u64 keys;
	u64 values;
};

static long stop_at_two(void *map, u32 *key, u64 *val, void *ctx)
{
	*val = *key * 10;
	return *key == 2;
}

SEC("syscall")
__description("for_each over an array: keys in order, values writable, 1 stops the walk")
__success __retval(23)
int array_walk(void *ctx)
{
	u32 key = 2;
	u64 *v;
	long n;

	n = bpf_for_each_map_elem(&arr, stop_at_two, NULL, 0);
	v = bpf_map_lookup_elem(&arr, &key);
	if (!v)
		return -1;
	return n + *v;
}

static long sum_elem(void *map, u32 *key, u64 *val, struct sum_ctx *c)
{
	c->keys += *key;
	c->values += *val;
	return 0;
}

SEC("syscall")
__description("for_each over a hash map: the callback context is a stack struct")
__success __retval(3605)
int hash_sum(void *ctx)
{
	struct sum_ctx c = {};
	u32 key;
	u64 val;
	long n;

	key = 1, val = 100;
	bpf_map_update_elem(&hash, &key, &val, BPF_ANY);
	key = 2, val = 200;
	bpf_map_update_elem(&hash, &key, &val, BPF_ANY);
	key = 3, val = 300;
	bpf_map_update_elem(&hash, &key, &val, BPF_ANY);
	n = bpf_for_each_map_elem(&hash, sum_elem, &c, 0);
	return n * 1000 + c.values + c.keys - 1;
}

static long write_key(void *map, u32 *key, u64 *val, void *ctx)
{
	*key = 0;
	return 0;
}

SEC("syscall")
__description("the callback may not write the key")
__failure __msg("write to change key R2 not allowed")
int key_write(void *ctx)
{
	return bpf_for_each_map_elem(&arr, write_key, NULL, 0);
}

static long read_past_value(void *map, u32 *key, u64 *val, void *ctx)
{
	return val[1] != 0;
}

SEC("syscall")
__description("the callback's value pointer is bounded by the value size")
__failure __msg("invalid access to map value, value_size=8 off=8 size=8")
int value_oob(void *ctx)
{
	return bpf_for_each_map_elem(&arr, read_past_value, NULL, 0);
}

static long ret_two(void *map, u32 *key, u64 *val, void *ctx)
{
	return 2;
}

SEC("syscall")
__description("the callback returns 0 or 1")
__failure __msg("At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]")
int bad_return(void *ctx)
{
	return bpf_for_each_map_elem(&arr, ret_two, NULL, 0);
}

static long nop(void *map, void *key, void *val, void *ctx)
{
	return 0;
}

SEC("xdp")
__description("ring buffers have no elements to walk")
__failure __msg("callback function not allowed for map")
int ringbuf_walk(struct xdp_md *ctx)
{
	bpf_for_each_map_elem(&rb, nop, NULL, 0);
	return 0;
}
