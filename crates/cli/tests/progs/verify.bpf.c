// Programs for the `kfvm verify` command tests (crates/cli/tests/verify.rs): one accepted, one
// rejected, one of a program type whose context kfvm does not model. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 1);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 8);
} table SEC(".maps");

SEC("syscall")
__success
int good(void *ctx)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&counts, &key);

	if (v)
		*v += 1;
	return 0;
}

SEC("syscall")
__failure __msg("R0 invalid mem access 'map_value_or_null'")
int bad(void *ctx)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&table, &key);

	*v += 1;
	return 0;
}

SEC("cgroup/sysctl")
__success
int sysctl_prog(void *ctx)
{
	return 1;
}
