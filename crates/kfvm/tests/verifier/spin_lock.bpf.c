// bpf_spin_lock in map values. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct locked {
	struct bpf_spin_lock lock;
	u32 pad;
	u64 counter;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct locked);
	__uint(max_entries, 1);
} locks SEC(".maps");

SEC("tc")
__description("lock, update, unlock")
__success __retval(0)
int lock_update_unlock(struct __sk_buff *skb)
{
	u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->counter++;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("returning with the lock held")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region")
int lock_no_unlock(struct __sk_buff *skb)
{
	u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->counter++;
	return 0;
}

SEC("tc")
__description("a helper call inside the locked region")
__failure __msg("function calls are not allowed while holding a lock")
int lock_call_inside(struct __sk_buff *skb)
{
	u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->counter = bpf_ktime_get_ns();
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("the lock itself cannot be read or written directly")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int lock_direct_access(struct __sk_buff *skb)
{
	u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return 0;
	return *(u32 *)&v->lock;
}

SEC("tc")
__description("unlocking a lock that is not held")
__failure __msg("bpf_spin_unlock without taking a lock")
int unlock_without_lock(struct __sk_buff *skb)
{
	u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return 0;
	bpf_spin_unlock(&v->lock);
	return 0;
}
