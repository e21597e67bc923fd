// Queue and stack maps: no keys; bpf_map_push_elem copies a value in, bpf_map_pop_elem and
// bpf_map_peek_elem copy one out (a queue's oldest, a stack's newest). Rebuild: ./build.sh
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

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__type(value, u64);
	__uint(max_entries, 8);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, u32);
	__uint(max_entries, 2);
} small_queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 1);
} array SEC(".maps");

SEC("syscall")
__description("queue: push, then pop into a stack buffer")
__success __retval(7)
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

SEC("syscall")
__description("queue: first in, first out; peek leaves the element")
__success __retval(112)
int queue_fifo(void *ctx)
{
	u64 a = 1, b = 2, x = 0, y = 0, z = 0;

	bpf_map_push_elem(&queue, &a, 0);
	bpf_map_push_elem(&queue, &b, 0);
	bpf_map_peek_elem(&queue, &x);
	bpf_map_pop_elem(&queue, &y);
	bpf_map_pop_elem(&queue, &z);
	return x * 100 + y * 10 + z;
}

SEC("syscall")
__description("stack: last in, first out")
__success __retval(321)
int stack_lifo(void *ctx)
{
	u64 v, a = 0, b = 0, c = 0;

	v = 1;
	bpf_map_push_elem(&stack, &v, 0);
	v = 2;
	bpf_map_push_elem(&stack, &v, 0);
	v = 3;
	bpf_map_push_elem(&stack, &v, 0);
	bpf_map_pop_elem(&stack, &a);
	bpf_map_peek_elem(&stack, &b);
	bpf_map_pop_elem(&stack, &b);
	bpf_map_pop_elem(&stack, &c);
	return a * 100 + b * 10 + c;
}

SEC("syscall")
__description("queue: a full queue refuses a push (-E2BIG) unless BPF_EXIST drops the oldest")
__success __retval(0)
int queue_full(void *ctx)
{
	u32 v = 1, out = 0;
	long r1, r2, r3, r4;

	bpf_map_push_elem(&small_queue, &v, 0);
	v = 2;
	bpf_map_push_elem(&small_queue, &v, 0);
	v = 3;
	r1 = bpf_map_push_elem(&small_queue, &v, 0);		/* -E2BIG */
	r2 = bpf_map_push_elem(&small_queue, &v, BPF_EXIST);	/* drops 1 */
	r3 = bpf_map_push_elem(&small_queue, &v, BPF_NOEXIST);	/* -EINVAL */
	bpf_map_pop_elem(&small_queue, &out);
	if (out != 2)
		return 1;
	bpf_map_pop_elem(&small_queue, &out);
	if (out != 3)
		return 2;
	out = 99;
	r4 = bpf_map_pop_elem(&small_queue, &out);		/* -ENOENT, out zeroed */
	if (r1 != -7 || r2 != 0 || r3 != -22 || r4 != -2 || out != 0)
		return 3;
	return 0;
}

SEC("syscall")
__description("pop writes the whole value: a 4-byte buffer for an 8-byte value")
__failure __msg("invalid write to stack R2 off=-4 size=8")
int queue_pop_small_buf(void *ctx)
{
	u32 out = 0;

	bpf_map_pop_elem(&queue, &out);
	return out;
}

SEC("syscall")
__description("stack: pop straight into another map's value")
__success __retval(5)
int stack_pop_into_map_value(void *ctx)
{
	u32 key = 0;
	u64 in = 5, *v;

	v = bpf_map_lookup_elem(&array, &key);
	if (!v)
		return -1;
	bpf_map_push_elem(&stack, &in, 0);
	bpf_map_pop_elem(&stack, v);
	return *v;
}

SEC("syscall")
__description("push is only for queue, stack and bloom filter maps")
__failure __msg("cannot pass map_type 2 into func bpf_map_push_elem#87")
int array_push(void *ctx)
{
	u64 in = 1;

	return bpf_map_push_elem(&array, &in, 0);
}
