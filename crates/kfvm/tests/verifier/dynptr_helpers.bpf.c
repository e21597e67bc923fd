// Dynptrs made by helpers: local dynptrs over program memory (bpf_dynptr_from_mem) read and
// written with bpf_dynptr_read/write and sliced with bpf_dynptr_data, and ring buffer dynptrs
// (bpf_ringbuf_reserve_dynptr), which hold a reference until submitted or discarded.
// Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, char[64]);
} bufs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("syscall")
__description("a local dynptr over a map value: write, read back, slice")
__success __retval(7)
int local_read_write(void *ctx)
{
	struct bpf_dynptr ptr;
	int key = 0, in = 7, out = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);
	int *p;

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 64, 0, &ptr);
	bpf_dynptr_write(&ptr, 0, &in, sizeof(in), 0);
	bpf_dynptr_read(&out, sizeof(out), &ptr, 0, 0);
	p = bpf_dynptr_data(&ptr, 0, sizeof(*p));
	if (!p)
		return 0;
	return *p == out ? out : 0;
}

SEC("syscall")
__description("a slice of a local dynptr must be NULL-checked")
__failure __msg("invalid mem access 'mem_or_null'")
int local_slice_no_null_check(void *ctx)
{
	struct bpf_dynptr ptr;
	int key = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);
	int *p;

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 64, 0, &ptr);
	p = bpf_dynptr_data(&ptr, 0, sizeof(*p));
	return *p;
}

SEC("syscall")
__description("a slice is as long as asked for")
__failure __msg("invalid access to memory, mem_size=4 off=4 size=4")
int local_slice_past_end(void *ctx)
{
	struct bpf_dynptr ptr;
	int key = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);
	int *p;

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 64, 0, &ptr);
	p = bpf_dynptr_data(&ptr, 0, sizeof(*p));
	if (!p)
		return 0;
	return p[1];
}

SEC("syscall")
__description("overwriting a local dynptr kills its slices")
__failure __msg("invalid mem access 'scalar'")
int local_slice_after_overwrite(void *ctx)
{
	struct bpf_dynptr ptr;
	int key = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);
	int *p;

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 64, 0, &ptr);
	p = bpf_dynptr_data(&ptr, 0, sizeof(*p));
	if (!p)
		return 0;
	*(volatile long *)&ptr = 0;
	asm volatile("" ::: "memory");
	return *p;
}

SEC("syscall")
__description("a helper may not write over a dynptr")
__failure __msg("potential write to dynptr at off=-16 disallowed")
int read_into_dynptr(void *ctx)
{
	struct bpf_dynptr ptr;
	int key = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 64, 0, &ptr);
	bpf_dynptr_read(&ptr, sizeof(ptr), &ptr, 0, 0);
	return 0;
}

SEC("syscall")
__description("bpf_dynptr_read needs an initialized dynptr")
__failure __msg("Expected an initialized dynptr as arg #2")
int read_uninit_dynptr(void *ctx)
{
	struct bpf_dynptr ptr;
	int out;

	bpf_dynptr_read(&out, sizeof(out), &ptr, 0, 0);
	return out;
}

SEC("syscall")
__description("bpf_dynptr_from_mem takes map values only")
__failure __msg("Unsupported reg type fp for bpf_dynptr_from_mem data")
int local_over_stack(void *ctx)
{
	struct bpf_dynptr ptr;
	char buf[16] = {};

	bpf_dynptr_from_mem(buf, sizeof(buf), 0, &ptr);
	return 0;
}

SEC("syscall")
__description("a ring buffer dynptr submitted")
__success __retval(0)
int ringbuf_submit(void *ctx)
{
	struct bpf_dynptr ptr;
	u64 *e;

	bpf_ringbuf_reserve_dynptr(&rb, sizeof(*e), 0, &ptr);
	e = bpf_dynptr_data(&ptr, 0, sizeof(*e));
	if (e)
		*e = 42;
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

SEC("syscall")
__description("a ring buffer dynptr must be submitted or discarded, even when reserving failed")
__failure __msg("Unreleased reference id=")
int ringbuf_leak(void *ctx)
{
	struct bpf_dynptr ptr;

	if (bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &ptr))
		return 0;
	bpf_ringbuf_discard_dynptr(&ptr, 0);
	return 0;
}

SEC("syscall")
__description("a referenced dynptr may not be overwritten")
__failure __msg("cannot overwrite referenced dynptr")
int ringbuf_overwrite(void *ctx)
{
	struct bpf_dynptr ptr;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &ptr);
	*(volatile long *)&ptr = 0;
	bpf_ringbuf_discard_dynptr(&ptr, 0);
	return 0;
}

SEC("syscall")
__description("a slice dies with its ring buffer dynptr")
__failure __msg("invalid mem access 'scalar'")
int ringbuf_slice_after_submit(void *ctx)
{
	struct bpf_dynptr ptr;
	u64 *e;

	bpf_ringbuf_reserve_dynptr(&rb, sizeof(*e), 0, &ptr);
	e = bpf_dynptr_data(&ptr, 0, sizeof(*e));
	if (!e) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return *e;
}

SEC("syscall")
__description("only a ring buffer dynptr can be submitted")
__failure __msg("arg 1 is an unacquired reference")
int submit_local_dynptr(void *ctx)
{
	struct bpf_dynptr ptr;
	int key = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);

	if (!v)
		return 0;
	bpf_dynptr_from_mem(v, 64, 0, &ptr);
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

SEC("syscall")
__description("a referenced dynptr cannot be made again in place")
__failure __msg("cannot overwrite referenced dynptr")
int ringbuf_reserve_twice(void *ctx)
{
	struct bpf_dynptr ptr;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &ptr);
	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &ptr);
	bpf_ringbuf_discard_dynptr(&ptr, 0);
	return 0;
}
