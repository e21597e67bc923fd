// Larger programs: bounded loops walked iteration by iteration, branches that multiply states
// and pruning that merges them. The `processed N insns` figures are the kernel's; they are also
// what the verification-time benchmark (examples/kbench_c.rs) measures on. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64[64]);
	__uint(max_entries, 1);
} table SEC(".maps");

SEC("syscall")
__description("a bounded loop of 64 iterations over a map value")
__success __retval(0) __log_level(4)
__msg("processed ")
int sum_64(void *ctx)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&table, &key);
	u64 s = 0;
	int i;

	if (!v)
		return 0;
	for (i = 0; i < 64; i++) {
		barrier_var(i);
		s += v[i];
	}
	return s;
}

SEC("syscall")
__description("branches on random bits: states merge at each join")
__success __log_level(4)
int branchy(void *ctx)
{
	u64 acc = 0;
	int i;

	for (i = 0; i < 24; i++) {
		u32 r = bpf_get_prandom_u32();

		barrier_var(i);
		if (r & 1)
			acc += r;
		else
			acc ^= r;
		if (r & 2)
			acc <<= 1;
	}
	return acc & 1;
}

SEC("xdp")
__description("walking IPv4 options: a loop bounded by the packet")
__success __retval(2) /* XDP_PASS */
int ip_options(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	u8 *opt;
	int i;

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	opt = (u8 *)(ip + 1);
	for (i = 0; i < 40; i++) {
		if ((void *)(opt + i + 1) > data_end)
			break;
		if (opt[i] == 0)
			break;
	}
	return XDP_PASS;
}

struct walk_ctx {
	u64 seen;
	u32 limit;
};

static int walk_step(u32 i, struct walk_ctx *c)
{
	if (i >= c->limit)
		return 1;
	c->seen += i * 3;
	if (c->seen & 1)
		c->seen >>= 1;
	return 0;
}

SEC("syscall")
__description("bpf_loop with a callback that branches")
__success __retval(0)
int loop_walk(void *ctx)
{
	struct walk_ctx c = { .limit = 100 };

	bpf_loop(1000, walk_step, &c, 0);
	return c.seen == 0 ? 1 : 0;
}

SEC("syscall")
__description("a bounded loop whose bound is not proven: too complex")
__failure __log_level(4) __msg("BPF program is too large. Processed 1000001 insn")
int endless_counter(void *ctx)
{
	u64 i = 0, s = 0;

	while (i != 1) {
		barrier_var(i);
		s += i;
		i += 2;
	}
	return s;
}
