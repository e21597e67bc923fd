// Maps with BTF: lookups, the NULL check, value bounds, updates. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct val {
	u64 count;
	u32 flags;
	u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct val);
	__uint(max_entries, 4);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u64);
	__type(value, u64);
	__uint(max_entries, 16);
} hash SEC(".maps");

SEC("syscall")
__description("array lookup, NULL check, read-modify-write of the value")
__success __retval(1)
int array_lookup_checked(void *ctx)
{
	u32 key = 1;
	struct val *v = bpf_map_lookup_elem(&arr, &key);

	if (!v)
		return 0;
	v->count += 1;
	return v->count;
}

SEC("syscall")
__description("the value of a lookup may be NULL")
__failure __msg("invalid mem access 'map_value_or_null'")
int array_lookup_unchecked(void *ctx)
{
	u32 key = 1;
	struct val *v = bpf_map_lookup_elem(&arr, &key);

	v->count = 1;
	return 0;
}

SEC("syscall")
__description("a read past the value's end")
__failure __msg("invalid access to map value, value_size=16 off=16 size=8")
int array_value_past_end(void *ctx)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&arr, &key);

	if (!v)
		return 0;
	return v[2];
}

SEC("syscall")
__description("a variable index bounded by a mask stays inside the value")
__success __retval(0)
int array_value_var_index(void *ctx)
{
	u32 key = 0;
	u32 *v = bpf_map_lookup_elem(&arr, &key);
	u32 i;

	if (!v)
		return 0;
	i = bpf_get_prandom_u32() & 3;
	v[i] = 0;
	return v[i];
}

SEC("syscall")
__description("an unbounded variable index")
__failure __msg("unbounded memory access, make sure to bounds check any such access")
int array_value_unbounded_index(void *ctx)
{
	u32 key = 0;
	u32 *v = bpf_map_lookup_elem(&arr, &key);
	u32 i;

	if (!v)
		return 0;
	i = bpf_get_prandom_u32();
	return v[i];
}

SEC("syscall")
__description("hash update, lookup and delete")
__success __retval(42)
int hash_update_lookup_delete(void *ctx)
{
	u64 key = 7, val = 42, *p, r = 0;

	bpf_map_update_elem(&hash, &key, &val, BPF_ANY);
	p = bpf_map_lookup_elem(&hash, &key);
	if (p)
		r = *p;
	bpf_map_delete_elem(&hash, &key);
	return r;
}

SEC("syscall")
__description("a privileged loader may pass uninitialised stack as the key")
__success
int hash_key_uninit(void *ctx)
{
	u64 key;
	u64 *p;

	asm volatile("" : "=m"(key));
	p = bpf_map_lookup_elem(&hash, &key);
	return p ? 1 : 0;
}
