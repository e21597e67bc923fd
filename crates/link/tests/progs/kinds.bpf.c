// SPDX-License-Identifier: MIT
/*
 * Every CO-RE relocation kind, on types this file defines itself ("local" types), relocated by
 * tests against kinds_target.bpf.c's types (the "kernel" types, laid out differently), against
 * the kfvm kernel model and against this machine's vmlinux. Rebuild: ./build.sh.
 *
 * What the target does to each local field (see kinds_target.bpf.c):
 *   a       moves                       -> offsets patched (LDX, ST, STX, ALU)
 *   grow    u32 -> u64 (unsigned)       -> load size patched
 *   sgrow   s32 -> s64 (signed)         -> load poisoned (fail_memsz_adjust)
 *   gone    missing                     -> field_exists 0, reads poisoned
 *   bf1/bf2 bitfields move and resize   -> byte_off/byte_sz/lshift/rshift/signed
 *   in.y, arr[2].x, flex[3]             -> nested, array, flexible array
 *   u2      anonymous union member that the target nests one level deeper
 *   e       enum kt_e: values change, KT_GONE missing, KT_BIG is 64-bit
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __pai __attribute__((preserve_access_index))

enum kt_e { KT_A = 1, KT_B = 2, KT_GONE = 3, KT_NEG = -5 };
enum kt_big { KT_BIG = 0x100000000ULL };

struct kt_inner {
	int x;
	int y;
} __pai;

struct kt {
	int a;
	char b;
	unsigned int bf1 : 3;
	int bf2 : 5;
	unsigned long long u64f;
	unsigned int grow;
	int sgrow;
	struct kt_inner in;
	struct kt_inner arr[4];
	int gone;
	union {
		int u1;
		long u2;
	};
	void *ptr;
	enum kt_e e;
	int flex[];
} __pai;

typedef struct kt kt_t;

/* a flavor: the kernel struct as a newer kernel has it (the target has no `added`) */
struct kt___new {
	int a;
	int added;
} __pai;

/* a flavor the target has under its own flavored name */
struct kt_flav {
	int only;
} __pai;

struct kt_missing {
	int z;
} __pai;

/* for TYPE_MATCHES: matches the target's, and one that does not */
struct kt_match {
	int m;
	long n;
} __pai;
struct kt_nomatch {
	int m;
	char n;
} __pai;

__u64 out[64];
int sink;

SEC("syscall")
int fields(struct kt *k)
{
	/* LDX offsets (and sizes) */
	out[0] = k->a;
	out[1] = k->grow;
	out[2] = k->in.y;
	out[3] = k->arr[2].x;
	out[4] = k->u2;
	out[5] = k->flex[3];
	out[6] = (long)k->ptr;
	out[7] = k->e;
	/* ST and STX offsets */
	k->a = 7;
	k->in.x = sink;
	/* ALU (address computation through BPF_CORE_READ) */
	out[8] = BPF_CORE_READ(k, in.y);
	out[9] = bpf_core_field_offset(k->arr[1].y);
	out[10] = bpf_core_field_size(k->grow);
	out[11] = bpf_core_field_size(k->arr);
	out[12] = bpf_core_field_exists(k->gone);
	out[13] = bpf_core_field_exists(k->a);
	out[14] = __builtin_preserve_field_info(k->bf2, BPF_FIELD_SIGNED);
	out[15] = __builtin_preserve_field_info(k->bf1, BPF_FIELD_SIGNED);
	out[16] = BPF_CORE_READ_BITFIELD(k, bf1);
	out[17] = BPF_CORE_READ_BITFIELD(k, bf2);
	out[18] = bpf_core_field_offset(k->b);
	return 0;
}

SEC("syscall")
int poisoned(struct kt *k)
{
	/* a field the target lacks, read without an existence check */
	if (sink)
		out[20] = k->gone;
	/* a signed field that grew: libbpf refuses to change the load size */
	out[21] = k->sgrow;
	return 0;
}

SEC("syscall")
int types(void *ctx)
{
	out[30] = bpf_core_type_id_local(struct kt);
	out[31] = bpf_core_type_id_kernel(struct kt);
	out[32] = bpf_core_type_exists(struct kt);
	out[33] = bpf_core_type_exists(struct kt_missing);
	out[34] = bpf_core_type_size(struct kt);
	out[35] = bpf_core_type_size(kt_t);
	out[36] = bpf_core_type_exists(kt_t);
	out[37] = bpf_core_type_matches(struct kt_match);
	out[38] = bpf_core_type_matches(struct kt_nomatch);
	out[39] = bpf_core_type_id_kernel(struct kt_missing);
	out[40] = bpf_core_type_size(struct kt_missing);
	out[41] = bpf_core_type_exists(struct kt_flav);
	return 0;
}

SEC("syscall")
int enums(void *ctx)
{
	out[42] = bpf_core_enum_value_exists(enum kt_e, KT_A);
	out[43] = bpf_core_enum_value_exists(enum kt_e, KT_GONE);
	out[44] = bpf_core_enum_value(enum kt_e, KT_B);
	out[45] = bpf_core_enum_value(enum kt_e, KT_NEG);
	out[46] = bpf_core_enum_value(enum kt_big, KT_BIG);
	if (bpf_core_enum_value_exists(enum kt_e, KT_GONE))
		out[47] = bpf_core_enum_value(enum kt_e, KT_GONE);
	return 0;
}

SEC("syscall")
int flavors(struct kt *k)
{
	struct kt___new *n = (void *)k;

	out[50] = n->a;
	if (bpf_core_field_exists(n->added))
		out[51] = n->added;
	out[52] = bpf_core_field_exists(((struct kt_flav *)k)->only);
	return 0;
}

/* a subprogram with CO-RE reads, linked into two programs */
static __noinline int sub(struct kt *k)
{
	return k->a + k->in.y;
}

SEC("syscall")
int calls_sub1(struct kt *k)
{
	return sub(k);
}

SEC("syscall")
int calls_sub2(struct kt *k)
{
	return sub(k) + 1;
}

/* not loaded by default: libbpf skips its relocations */
SEC("?syscall")
int not_loaded(struct kt *k)
{
	return k->grow;
}

char LICENSE[] SEC("license") = "GPL";
