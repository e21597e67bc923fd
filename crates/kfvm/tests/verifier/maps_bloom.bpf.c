// Bloom filter maps with the queue/stack helpers: push and peek only. (kfvm's runtime has no
// bloom filters: the run trials of this file are skipped, saying so.) Rebuild: ./build.sh
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

SEC("xdp")
__description("pop is only for queue and stack maps (a bloom filter has push and peek)")
__failure __msg("cannot pass map_type 30 into func bpf_map_pop_elem#88")
int bloom_pop(struct xdp_md *ctx)
{
	u64 out = 0;

	bpf_map_pop_elem(&bloom, &out);
	return out;
}
