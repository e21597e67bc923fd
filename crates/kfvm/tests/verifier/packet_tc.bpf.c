// Direct packet access in TC programs (__sk_buff data/data_end), and pointer rules. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("tc")
__description("TC: read the Ethernet type after a data_end check")
__success
int tc_eth_type(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	return eth->h_proto == bpf_htons(0x0800);
}

SEC("tc")
__description("TC: write the packet after a data_end check")
__success
int tc_write_mac(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	eth->h_dest[0] = 0x02;
	return 0;
}

SEC("tc")
__description("TC: the check compares against the wrong end")
__failure __msg("invalid access to packet")
int tc_check_reversed(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) < data_end)
		return 0;
	return eth->h_proto;
}

SEC("tc")
__description("pointer arithmetic on the context is refused")
__failure __msg("dereference of modified ctx ptr")
int tc_ctx_arith(struct __sk_buff *skb)
{
	u32 *p = (void *)skb + 4;

	barrier_var(p);
	return *p;
}

SEC("tc")
__description("a pointer compared with a scalar other than 0 is fine for a privileged loader")
__success
int tc_ptr_cmp_scalar(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;

	return data == (void *)0x1234;
}

