// XDP programs for tests/xdp.rs: run on packets by kfvm's test run and, as root, by the
// kernel's BPF_PROG_TEST_RUN (through bpftool), which must agree on the action and the packet.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

extern int bpf_dynptr_from_xdp(struct xdp_md *x, u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym;

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 2);
} counters SEC(".maps");

/* Direct packet access: IPv4 is bounced back (MACs swapped, XDP_TX), anything else passes;
 * short packets are dropped. */
SEC("xdp")
int xdp_bounce_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[6];
	u32 k = 0;
	u64 *n;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	n = bpf_map_lookup_elem(&counters, &k);
	if (n)
		*n += end - data;
	if (eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	__builtin_memcpy(tmp, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, tmp, 6);
	return XDP_TX;
}

/* The same through a dynptr: the IPv4 TTL is decremented. Returns XDP_PASS, or XDP_ABORTED if
 * the packet is too short for an IPv4 header. */
SEC("xdp")
int xdp_dynptr_ttl(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	struct iphdr *ip;
	char buf[sizeof(struct iphdr)];

	if (bpf_dynptr_from_xdp(ctx, 0, &d))
		return XDP_ABORTED;
	ip = bpf_dynptr_slice_rdwr(&d, sizeof(struct ethhdr), buf, sizeof(buf));
	if (!ip)
		return XDP_ABORTED;
	if (ip->ttl > 0)
		ip->ttl--;
	return bpf_dynptr_size(&d) > 60 ? XDP_PASS : XDP_DROP;
}
