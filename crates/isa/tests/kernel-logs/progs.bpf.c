// SPDX-License-Identifier: MIT OR Apache-2.0
/* Programs whose verifier logs exercise every class of instruction the kernel prints.
 * Built with clang -O2 -target bpf -mcpu=v4 by rebuild.sh; each program is loaded alone. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __s64);
} hash SEC(".maps");

__u64 counter;
__u32 counter32;
__s64 sresult;
__u64 uresult;

/* may_goto, as the kernel selftests' can_loop */
#define can_loop                                                                  \
	({                                                                        \
		__label__ l_break, l_continue;                                    \
		int ret = 1;                                                      \
		asm volatile goto("may_goto %l[l_break]" :::: l_break);           \
		goto l_continue;                                                  \
	l_break:                                                                  \
		ret = 0;                                                          \
	l_continue:;                                                              \
		ret;                                                              \
	})

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int alu(struct __sk_buff *skb)
{
	__s64 a = skb->len, b = (__s32)skb->mark - 100;
	__s32 c = skb->priority, d = skb->hash;
	signed char sc;
	short ss;
	int si;

	sresult = a / b;
	sresult += a % b;
	sresult ^= (__s32)(c / d) + (__s32)(c % d);
	uresult = (__u64)a / (__u64)b + (__u32)c % (__u32)d;
	uresult += (signed char)a + (short)b + (int)a;
	uresult += (__s32)(signed char)c + (__s32)(short)d;
	uresult ^= __builtin_bswap64(a) + __builtin_bswap32(c) + __builtin_bswap16(d);
	uresult |= (a << 3) | (b >> 7) | ((__u64)a >> 9) | (c << d) | ((__u32)c >> d) | (c >> 4);
	uresult &= ~(a * b) - -c;
	sc = skb->cb[0];
	ss = skb->cb[1];
	si = skb->cb[2];
	__builtin_memcpy(&skb->cb[3], &sc, 1);
	sresult = *(volatile signed char *)&skb->cb[3] + *(volatile short *)&ss + si;
	return 0;
}

SEC("socket")
int atomics(struct __sk_buff *skb)
{
	__u64 v = skb->len, old;

	__sync_fetch_and_add(&counter, v);
	__sync_fetch_and_or(&counter, v);
	__sync_fetch_and_and(&counter, v);
	__sync_fetch_and_xor(&counter, v);
	__sync_fetch_and_add(&counter32, (__u32)v);
	old = __sync_fetch_and_add(&counter, 1);
	old += __sync_fetch_and_or(&counter, 2);
	old += __sync_fetch_and_and(&counter, 3);
	old += __sync_fetch_and_xor(&counter, 4);
	old += __sync_fetch_and_xor(&counter32, 4);
	old += __sync_lock_test_and_set(&counter, old);
	old += __sync_lock_test_and_set(&counter32, (__u32)old);
	old += __sync_val_compare_and_swap(&counter, old, v);
	old += __sync_val_compare_and_swap(&counter32, (__u32)old, (__u32)v);
	uresult = old;
	return 0;
}

SEC("socket")
int maps(struct __sk_buff *skb)
{
	__u32 key = skb->len & 3;
	__u64 hkey = skb->mark, *v;
	__s64 init = -1, *h;

	v = bpf_map_lookup_elem(&vals, &key);
	if (!v)
		return 0;
	*v += bpf_get_prandom_u32();
	h = bpf_map_lookup_elem(&hash, &hkey);
	if (!h)
		bpf_map_update_elem(&hash, &hkey, &init, BPF_ANY);
	else
		__sync_fetch_and_add(h, 1);
	bpf_map_delete_elem(&hash, &hkey);
	return *v & 1;
}

static __noinline int sub(int x)
{
	int i = 0, s = 0;

	while (i < x && can_loop) {
		s += i * x;
		i++;
	}
	return s;
}

static int cb(__u64 idx, void *ctx)
{
	*(__u64 *)ctx += idx;
	return 0;
}

SEC("socket")
int calls(struct __sk_buff *skb)
{
	__u64 acc = 0;

	bpf_loop(8, cb, &acc, 0);
	return sub(skb->len) + sub(skb->mark) + (int)acc;
}

SEC("socket")
int jmp32(struct __sk_buff *skb)
{
	__u32 a = skb->len, b = skb->mark;
	__s32 c = skb->priority, d = skb->hash;
	int r = 0;

	if (a < b)
		r += 1;
	if (a >= 77)
		r += 2;
	if (c < d)
		r += 3;
	if (c > -5)
		r += 4;
	if (a & 8)
		r += 5;
	if (skb->len != skb->mark)
		r += 6;
	if ((__s64)(__s32)skb->cb[4] <= -9)
		r += 7;
	return r;
}

SEC("socket")
int ldabs(struct __sk_buff *skb)
{
	__u64 x = load_byte(skb, 0) + load_half(skb, 12) + load_word(skb, 14);
	__u64 o = skb->len & 7;

	return x + load_byte(skb, o) + load_half(skb, o + 2) + load_word(skb, o + 4);
}

char _license[] SEC("license") = "GPL";
