// Open-coded numeric iterators (bpf_iter_num_new/next/destroy, and the bpf_for() loop built on
// them): loops the verifier proves to converge, and the mistakes it refuses. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

/* bpf_for(i, start, end): i runs from start to end - 1 (an open-coded numeric iterator that
 * is destroyed when the loop's scope ends). */
#define bpf_for(i, start, end)                                                              \
	for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) =                                                    \
		     (bpf_iter_num_new(&___it, (start), (end)), (void *)0);                     \
	     ({                                                                                 \
		     int *___t = bpf_iter_num_next(&___it);                                     \
		     ___t ? ((i) = *___t, 1) : 0;                                               \
	     });)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, long);
} vals SEC(".maps");

SEC("syscall")
__success __retval(4950)
int iter_sum(void *ctx)
{
	int i, sum = 0;

	bpf_for(i, 0, 100)
		sum += i;
	return sum;
}

SEC("syscall")
__success __retval(120)
int iter_array(void *ctx)
{
	int arr[16] = {}, i, sum = 0;

	bpf_for(i, 0, 16) {
		if (i < 0 || i >= 16)
			break;
		arr[i] = i;
	}
	bpf_for(i, 0, 16) {
		if (i < 0 || i >= 16)
			break;
		sum += arr[i];
	}
	return sum;
}

SEC("syscall")
__success __retval(36)
int iter_nested(void *ctx)
{
	int i, j, n = 0;

	bpf_for(i, 0, 6)
		bpf_for(j, 0, 6)
			n++;
	return n;
}

SEC("syscall")
__success __retval(0)
int iter_new_destroy(void *ctx)
{
	struct bpf_iter_num it;

	bpf_iter_num_new(&it, 0, 10);
	bpf_iter_num_destroy(&it);
	return 0;
}

SEC("syscall")
__success __retval(45)
int iter_explicit(void *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	bpf_iter_num_destroy(&it);
	return sum;
}

SEC("syscall")
__failure __msg("Unreleased reference id=1 alloc_insn=")
int iter_leak(void *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	return sum;
}

SEC("syscall")
__failure __msg("expected an initialized iter_num as arg #0")
int iter_next_uninit(void *ctx)
{
	struct bpf_iter_num it;
	int *v;

	v = bpf_iter_num_next(&it);
	return v ? *v : 0;
}

SEC("syscall")
__failure __msg("expected uninitialized iter_num as arg #0")
int iter_double_new(void *ctx)
{
	struct bpf_iter_num it;

	bpf_iter_num_new(&it, 0, 10);
	bpf_iter_num_new(&it, 0, 10);
	bpf_iter_num_destroy(&it);
	return 0;
}

SEC("syscall")
__failure __msg("expected an initialized iter_num as arg #0")
int iter_use_after_destroy(void *ctx)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 10);
	bpf_iter_num_destroy(&it);
	v = bpf_iter_num_next(&it);
	return v ? *v : 0;
}

SEC("syscall")
__failure __msg("arg#0 expected pointer to an iterator on stack")
int iter_not_on_stack(void *ctx)
{
	int key = 0;
	long *v = bpf_map_lookup_elem(&vals, &key);

	if (!v)
		return 0;
	bpf_iter_num_new((struct bpf_iter_num *)v, 0, 10);
	bpf_iter_num_destroy((struct bpf_iter_num *)v);
	return 0;
}

SEC("syscall")
/* On the path where the iterator is drained R0 is NULL, a scalar 0. */
__failure __msg("R0 invalid mem access 'scalar'")
int iter_next_no_null_check(void *ctx)
{
	struct bpf_iter_num it;
	int *v, r;

	bpf_iter_num_new(&it, 0, 10);
	v = bpf_iter_num_next(&it);
	r = *v;
	bpf_iter_num_destroy(&it);
	return r;
}

SEC("syscall")
__failure __msg("cannot write into rdonly_mem")
int iter_next_write(void *ctx)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 10);
	v = bpf_iter_num_next(&it);
	if (v)
		*v = 1;
	bpf_iter_num_destroy(&it);
	return 0;
}

/* Two paths through the loop body (a == 0 sets i = 7; later iterations store at arr[i]): the
 * states at the iter_next() call differ until both are seen, then the loop converges. */
SEC("syscall")
__success __retval(42)
int iter_two_state_loop(void *ctx)
{
	struct bpf_iter_num it;
	int arr[10] = {};
	int i = 0, a = 0;

	bpf_iter_num_new(&it, 0, 10);
	while (bpf_iter_num_next(&it)) {
		if (a == 0) {
			a = 1;
			i = 7;
		} else {
			arr[i] = 42;
		}
	}
	bpf_iter_num_destroy(&it);
	return arr[7];
}

/* An iterator does not make the loop inside its body terminate. */
SEC("syscall")
__failure __msg("infinite loop detected at insn")
int iter_inner_infinite(void *ctx)
{
	struct bpf_iter_num it;
	int *v;
	volatile int x;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it))) {
		x = 0;
		while (x == 0) {
		}
	}
	bpf_iter_num_destroy(&it);
	return 0;
}

/* A counter carried around the loop loses its range (imprecise scalars widen when the loop goes
 * round): as an index it may be anything the mask allows. */
SEC("syscall")
__failure __msg("invalid variable-offset read from stack R1 var_off=(0x0; 0x78) off=-64 size=8")
int iter_counter_unchecked(void *ctx)
{
	int i, cnt = 0;
	long buf[8] = {};

	bpf_for(i, 0, 1000)
		if (bpf_get_prandom_u32() & 1)
			cnt++;
	return buf[cnt & 15];
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, int);
	__type(value, long);
} arr SEC(".maps");

/* Map lookups inside the loop, each NULL-checked. */
SEC("syscall")
__success __retval(0)
int iter_map_sum(void *ctx)
{
	int i;
	long sum = 0;

	bpf_for(i, 0, 64) {
		long *v = bpf_map_lookup_elem(&arr, &i);

		if (v)
			sum += *v;
	}
	return sum;
}

/* Two iterators advanced together. */
SEC("syscall")
__success __retval(20)
int iter_two_iters(void *ctx)
{
	struct bpf_iter_num a, b;
	int *x, *y, n = 0;

	bpf_iter_num_new(&a, 0, 5);
	bpf_iter_num_new(&b, 0, 7);
	while ((x = bpf_iter_num_next(&a)) && (y = bpf_iter_num_next(&b)))
		n += *x + *y;
	bpf_iter_num_destroy(&b);
	bpf_iter_num_destroy(&a);
	return n;
}

static __noinline int iter_step(struct bpf_iter_num *it)
{
	int *v = bpf_iter_num_next(it);

	return v ? *v : -1;
}

/* The iterator lives in the caller's frame; a static subprogram advances it. */
SEC("syscall")
__success __retval(45)
int iter_next_in_subprog(void *ctx)
{
	struct bpf_iter_num it;
	int v, sum = 0;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = iter_step(&it)) >= 0)
		sum += v;
	bpf_iter_num_destroy(&it);
	return sum;
}

/* A store over the iterator's slots loses it; its reference leaks. */
SEC("syscall")
__failure __msg("Unreleased reference id=1 alloc_insn=")
int iter_clobbered(void *ctx)
{
	struct bpf_iter_num it;

	bpf_iter_num_new(&it, 0, 10);
	*(volatile long *)&it = 0;
	return 0;
}

/* An iterator must sit at an 8-byte aligned stack offset. */
SEC("syscall")
__failure __msg("cannot pass in iter at an offset=-12") __msg("expected uninitialized iter_num as arg #0")
int iter_unaligned(void *ctx)
{
	char buf[16] = {};

	bpf_iter_num_new((struct bpf_iter_num *)(buf + 4), 0, 10);
	bpf_iter_num_destroy((struct bpf_iter_num *)(buf + 4));
	return buf[0];
}

/* The iterator's state is not data the program may read. */
SEC("syscall")
__failure __msg("invalid read from stack off -8+0 size 8")
int iter_read_state(void *ctx)
{
	struct bpf_iter_num it;
	long v;

	bpf_iter_num_new(&it, 0, 10);
	v = *(volatile long *)&it;
	bpf_iter_num_destroy(&it);
	return v;
}

/* The element iter_next() returns lives only as long as its iterator. */
SEC("syscall")
__failure __msg("R7 invalid mem access 'scalar'")
int iter_elem_after_destroy(void *ctx)
{
	struct bpf_iter_num it;
	int *v, r = 0;

	bpf_iter_num_new(&it, 0, 10);
	v = bpf_iter_num_next(&it);
	bpf_iter_num_destroy(&it);
	if (v)
		r = *v;
	return r;
}

/* A pointer to an element found in the loop, used after the loop while the iterator is alive. */
SEC("syscall")
__success
int iter_search_keep_elem(void *ctx)
{
	struct bpf_iter_num it;
	int *v, *elem = 0, r = -1;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it))) {
		if (*v == 2) {
			elem = v;
			asm volatile("" : "+r"(elem));
		}
	}
	if (elem)
		r = *elem;
	bpf_iter_num_destroy(&it);
	return r;
}

/* A counter linked to its spilled copy on the first iteration (r6 = fp[-16] + 1) and not on the
 * next ones: the states at the iter_next() call differ (linked scalars compare by their base
 * ids), so the loop takes one more round before it converges. The statistics line says so. */
SEC("socket")
__success __log_level(2)
__msg("processed 92 insns (limit 1000000) max_states_per_insn 2 total_states 6 peak_states 7")
__naked int iter_linked_counter(void)
{
	asm volatile(
		"call %[bpf_get_prandom_u32];"
		"r6 = r0;"
		"call %[bpf_get_prandom_u32];"
		"r7 = r0;"
		"r8 = 0;"
		"r9 = 0;"
		"*(u64 *)(r10 - 16) = r6;"
		"*(u64 *)(r10 - 80) = 0;"
		"*(u64 *)(r10 - 72) = 0;"
		"*(u64 *)(r10 - 64) = 0;"
		"*(u64 *)(r10 - 56) = 0;"
		"*(u64 *)(r10 - 48) = 0;"
		"*(u64 *)(r10 - 40) = 0;"
		"*(u64 *)(r10 - 32) = 0;"
		"*(u64 *)(r10 - 24) = 0;"
		"r1 = r10;"
		"r1 += -8;"
		"r2 = 0;"
		"r3 = 100;"
		"call %[bpf_iter_num_new];"
	"1:"
		"r1 = r10;"
		"r1 += -8;"
		"call %[bpf_iter_num_next];"
		"if r0 == 0 goto 2f;"
		"call %[bpf_get_prandom_u32];"
		"r7 = r0;"
		"r7 = 0;"
		"r9 = r6;"
		"r9 &= 7;"
		"r9 <<= 3;"
		"r1 = r10;"
		"r1 += -80;"
		"r1 += r9;"
		"r8 = *(u64 *)(r1 + 0);"
		"r6 += 1;"
		"goto 1b;"
	"2:"
		"r1 = r10;"
		"r1 += -8;"
		"call %[bpf_iter_num_destroy];"
		"r0 = r6;"
		"r0 &= 255;"
		"exit;"
		:
		: [bpf_get_prandom_u32] "i"(bpf_get_prandom_u32),
		  [bpf_iter_num_new] "i"(bpf_iter_num_new),
		  [bpf_iter_num_next] "i"(bpf_iter_num_next),
		  [bpf_iter_num_destroy] "i"(bpf_iter_num_destroy)
		: "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");
}

/* A 4-byte store into an iterator's slot is enough to lose it. */
SEC("syscall")
__failure __msg("expected an initialized iter_num as arg #0")
int iter_partial_clobber(void *ctx)
{
	struct bpf_iter_num it;
	int *v;

	bpf_iter_num_new(&it, 0, 10);
	*(volatile int *)((char *)&it + 4) = 0;
	v = bpf_iter_num_next(&it);
	bpf_iter_num_destroy(&it);
	return v ? 1 : 0;
}

/* Once destroyed, the same stack slots may hold a new iterator. */
SEC("syscall")
__success __retval(3)
int iter_reuse_after_destroy(void *ctx)
{
	struct bpf_iter_num it;
	int *v, s = 0;

	bpf_iter_num_new(&it, 0, 3);
	bpf_iter_num_destroy(&it);
	bpf_iter_num_new(&it, 0, 3);
	while ((v = bpf_iter_num_next(&it)))
		s += *v;
	bpf_iter_num_destroy(&it);
	return s;
}
