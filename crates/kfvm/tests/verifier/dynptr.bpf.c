// Dynptrs over packets (bpf_dynptr_from_xdp, bpf_dynptr_from_skb) and their slices
// (bpf_dynptr_slice, bpf_dynptr_slice_rdwr): what the verifier accepts and what it refuses.
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
	__type(value, struct bpf_dynptr);
} dptrs SEC(".maps");

/* The Ethernet protocol from a slice of the first 14 bytes (no copy buffer). */
SEC("xdp")
__success __retval(2)
int xdp_slice(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	eth = bpf_dynptr_slice(&ptr, 0, NULL, 14);
	if (!eth)
		return XDP_DROP;
	return eth[12] == 0x08 ? XDP_PASS : XDP_PASS;
}

/* With a copy buffer on the stack for the bytes that are not linear. */
SEC("xdp")
__success __retval(2)
int xdp_slice_buffer(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char buf[20];
	unsigned char *ip;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	ip = bpf_dynptr_slice(&ptr, 14, buf, sizeof(buf));
	if (!ip)
		return XDP_DROP;
	return ip[9] == 6 ? XDP_PASS : XDP_PASS;
}

/* Writes go through bpf_dynptr_slice_rdwr. */
SEC("tc")
__success __retval(0)
int skb_slice_rdwr(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	eth = bpf_dynptr_slice_rdwr(&ptr, 0, NULL, 14);
	if (!eth)
		return 0;
	eth[0] = 0xff;
	return 0;
}

/* A dynptr may be made again over an unreferenced one. */
SEC("xdp")
__success __retval(2)
int xdp_reinit(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, NULL, 1);
	return p ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
__failure __msg("invalid mem access 'rdonly_mem_or_null'")
int slice_no_null_check(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	eth = bpf_dynptr_slice(&ptr, 0, NULL, 14);
	return eth[12];
}

SEC("xdp")
__failure __msg("invalid access to memory, mem_size=14 off=14 size=1")
int slice_out_of_bounds(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	eth = bpf_dynptr_slice(&ptr, 0, NULL, 14);
	if (!eth)
		return XDP_DROP;
	return eth[14];
}

SEC("xdp")
__failure __msg("cannot write into rdonly_mem")
int slice_write_rdonly(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	eth = bpf_dynptr_slice(&ptr, 0, NULL, 14);
	if (!eth)
		return XDP_DROP;
	eth[0] = 1;
	return XDP_PASS;
}

SEC("xdp")
__failure __msg("Expected an initialized dynptr as arg #0")
int slice_uninit_dynptr(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	eth = bpf_dynptr_slice(&ptr, 0, NULL, 14);
	return eth ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
__failure __msg("arg#2 expected pointer to stack or const struct bpf_dynptr")
int dynptr_in_map_value(struct xdp_md *ctx)
{
	int key = 0;
	struct bpf_dynptr *p = bpf_map_lookup_elem(&dptrs, &key);

	if (!p)
		return XDP_DROP;
	bpf_dynptr_from_xdp(ctx, 0, p);
	return XDP_PASS;
}

/* Overwriting a packet dynptr's stack slots destroys the dynptr, but Linux 6.18 keeps its
 * slices: only slices typed exactly mem or mem_or_null are invalidated, and a packet slice
 * carries its dynptr kind (and rdonly) in its type. */
SEC("xdp")
__success __retval(0)
int slice_after_overwrite(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char *eth;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	eth = bpf_dynptr_slice(&ptr, 0, NULL, 14);
	if (!eth)
		return XDP_DROP;
	*(volatile u64 *)&ptr = 0;
	asm volatile("" ::: "memory");
	return eth[12] & 0;
}

/* The size of a slice must be a constant (__szk). */
SEC("xdp")
__failure __msg("must be a known constant")
int slice_variable_size(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char buf[16];
	unsigned char *p;
	u32 n = bpf_get_prandom_u32() & 15;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, buf, n);
	return p ? XDP_PASS : XDP_DROP;
}

/* A copy buffer smaller than the slice. */
SEC("xdp")
__failure __msg("arg#2 arg#3 memory, len pair leads to invalid memory access")
int slice_buffer_too_small(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	unsigned char buf[8];
	unsigned char *p;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, buf, 16);
	return p ? XDP_PASS : XDP_DROP;
}

/* The dynptr kfuncs that look at or reshape a dynptr. */
SEC("xdp")
__success __retval(2)
int xdp_dynptr_ops(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr, clone;
	unsigned char *p;
	u32 n;

	bpf_dynptr_from_xdp(ctx, 0, &ptr);
	if (bpf_dynptr_is_null(&ptr) || bpf_dynptr_is_rdonly(&ptr))
		return XDP_DROP;
	n = bpf_dynptr_size(&ptr);
	if (n < 14)
		return XDP_DROP;
	bpf_dynptr_clone(&ptr, &clone);
	bpf_dynptr_adjust(&clone, 12, 14);
	p = bpf_dynptr_slice(&clone, 0, NULL, 2);
	if (!p)
		return XDP_DROP;
	return XDP_PASS;
}

/* A clone is a dynptr of its parent's kind. */
SEC("tc")
__success __retval(0)
int skb_clone_slice_rdwr(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr, clone;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	bpf_dynptr_clone(&ptr, &clone);
	p = bpf_dynptr_slice_rdwr(&clone, 0, NULL, 1);
	if (p)
		*p = 0;
	return 0;
}

SEC("xdp")
__failure __msg("Expected an initialized dynptr as arg #0")
int clone_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr, clone;

	bpf_dynptr_clone(&ptr, &clone);
	return XDP_PASS;
}

/* Writes into the packet need a program type that may write it. */
SEC("cgroup_skb/ingress")
__failure __msg("the prog does not allow writes to packet data")
int cgroup_skb_slice_rdwr(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice_rdwr(&ptr, 0, NULL, 1);
	if (p)
		*p = 0;
	return 1;
}

/* ... while reads are fine there. */
SEC("cgroup_skb/ingress")
__success
int cgroup_skb_slice(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, NULL, 1);
	return p ? 1 : 0;
}

/* A dynptr straddling two others destroys both. */
SEC("xdp")
__failure __msg("Expected an initialized dynptr as arg #0")
int overlapping_dynptrs(struct xdp_md *ctx)
{
	struct bpf_dynptr d[2];
	unsigned char *p;

	bpf_dynptr_from_xdp(ctx, 0, &d[0]);
	bpf_dynptr_from_xdp(ctx, 0, &d[1]);
	bpf_dynptr_from_xdp(ctx, 0, (struct bpf_dynptr *)((char *)d + 8));
	p = bpf_dynptr_slice(&d[1], 0, NULL, 1);
	return p ? XDP_PASS : XDP_DROP;
}

/* Copying between dynptrs and filling one. */
SEC("xdp")
__success __retval(2)
int xdp_copy_memset(struct xdp_md *ctx)
{
	struct bpf_dynptr pkt, mem;
	char buf[16] = {};

	bpf_dynptr_from_xdp(ctx, 0, &pkt);
	if (bpf_dynptr_size(&pkt) < 16)
		return XDP_PASS;
	bpf_dynptr_from_xdp(ctx, 0, &mem);
	bpf_dynptr_copy(&mem, 0, &pkt, 8, 4);
	bpf_dynptr_memset(&mem, 0, 2, 0);
	bpf_dynptr_slice(&pkt, 0, buf, sizeof(buf));
	return XDP_PASS;
}

/* The metadata area of an skb as a dynptr. */
SEC("tc")
__success
int skb_meta_slice(struct __sk_buff *skb)
{
	struct bpf_dynptr meta;
	unsigned char *p;

	bpf_dynptr_from_skb_meta(skb, 0, &meta);
	p = bpf_dynptr_slice(&meta, 0, NULL, 4);
	return p ? 1 : 0;
}

/* bpf_dynptr_copy needs two initialised dynptrs. */
SEC("xdp")
__failure __msg("Expected an initialized dynptr as arg #2")
int copy_from_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr pkt, other;

	bpf_dynptr_from_xdp(ctx, 0, &pkt);
	bpf_dynptr_copy(&pkt, 0, &other, 0, 4);
	return XDP_PASS;
}

/* A 4-byte store into the second slot of a dynptr destroys it. */
SEC("xdp")
__failure __msg("Expected an initialized dynptr as arg #0")
int dynptr_partial_clobber(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	unsigned char *p;

	bpf_dynptr_from_xdp(ctx, 0, &d);
	*(volatile int *)((char *)&d + 12) = 0;
	p = bpf_dynptr_slice(&d, 0, NULL, 1);
	return p ? XDP_PASS : XDP_DROP;
}
