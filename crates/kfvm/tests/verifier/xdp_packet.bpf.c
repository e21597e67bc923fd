// Packet access in XDP programs: every access proven against data_end. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("xdp")
__description("the Ethernet header read after a data_end check")
__success __retval(2) /* XDP_PASS */
int eth_checked(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(0x0800))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
__description("the Ethernet header read without a data_end check")
__failure __msg("invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)")
__msg("R1 offset is outside of the packet")
int eth_unchecked(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	return eth->h_proto == bpf_htons(0x0800) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
__description("the check covers 14 bytes, the read reaches byte 34")
__failure __msg("invalid access to packet")
int ip_past_check(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	return ip->daddr ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
__description("IPv4 header: TTL decremented in place after a full check")
__success __retval(3) /* XDP_TX */
int ip_ttl_rewrite(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (ip->ttl <= 1)
		return XDP_DROP;
	ip->ttl--;
	return XDP_TX;
}

SEC("xdp")
__description("a variable offset into the packet, bounded, then rechecked")
__success __retval(2) /* XDP_PASS */
int var_offset_checked(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	u8 *p;
	u32 off;

	if (data + 1 > data_end)
		return XDP_DROP;
	off = *(u8 *)data & 0x1f;
	p = data + off;
	if ((void *)(p + 1) > data_end)
		return XDP_DROP;
	return *p == 0xff ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
__description("writing data_end is not allowed")
__failure __msg("invalid bpf_context access off=4 size=4")
int ctx_write_data_end(struct xdp_md *ctx)
{
	ctx->data_end = ctx->data;
	return XDP_PASS;
}
