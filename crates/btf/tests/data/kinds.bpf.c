// SPDX-License-Identifier: MIT
// Type shapes for kfvm-btf's tests: every BTF kind clang emits, bitfields, packed and aligned
// structs, anonymous members, type and decl tags, an extern kfunc, globals in several DATASECs,
// subprograms (func_info/line_info) and CO-RE relocations of every family.
// Rebuild kinds.bpf.o and the expected files with ./rebuild.sh.

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int s32;
typedef long long s64;

#define SEC(n) __attribute__((section(n), used))
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))
#define __rcu __attribute__((btf_type_tag("rcu")))
#define __kptr __attribute__((btf_type_tag("kptr")))
#define __percpu __attribute__((btf_type_tag("percpu")))
#define __ksym __attribute__((section(".ksyms")))
#define __pai __attribute__((preserve_access_index))

enum color { RED, GREEN = 5, BLUE = -1 };
enum big64 { BIG_A = 0x100000000ULL, BIG_B = 1 };
enum small8 { S_A = 1, S_B = 200 } __attribute__((packed));
enum { ANON_CONST_A = 7, ANON_CONST_B = 8 };

struct list_head {
	struct list_head *next, *prev;
};

struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 12;
	unsigned long long d : 40;
	u8 e;
	_Bool f : 1;
	u16 g;
};

struct packed_s {
	u8 a;
	u32 b;
	u16 c;
} __attribute__((packed));

struct aligned_s {
	u8 a;
	u64 b __attribute__((aligned(16)));
	u8 c;
};

struct fwd_only;
union fwd_union;

struct nested {
	int kind;
	union {
		struct {
			u32 lo, hi;
		} parts;
		u64 all;
	};
	enum { NESTED_ONE = 1, NESTED_TWO } e;
	struct list_head list;
	void (*cb)(struct nested *, int);
	int (*ops[4])(void);
	const volatile int cv;
	char *restrict rp;
	int matrix[3][4];
	struct fwd_only *fwd;
	union fwd_union *fu;
	float f;
	double d;
	__int128 big;
	enum small8 s8v;
	enum big64 b64;
	struct bits bits;
	struct packed_s ps;
	struct aligned_s as;
};

struct tagged {
	int __user *uptr;
	struct list_head __rcu *rcu_ptr;
	struct list_head __kptr *kptr;
	int __percpu *pcpu;
	int plain __tag("member_tag");
} __tag("struct_tag");

typedef int (*handler_t)(void *ctx, int flags, ...);
typedef struct {
	int a;
	handler_t h;
} anon_typedef_t;

struct flex {
	u32 len;
	u8 data[];
};

struct empty {};

struct ctx_like {
	u32 data;
	u32 data_end;
} __pai;

struct core_target {
	int x;
	struct {
		short y;
		unsigned int z : 4;
	} in;
	int arr[8];
} __pai;

struct nested g_nested;
struct tagged g_tagged __tag("var_tag");
anon_typedef_t g_anon;
struct flex *g_flex;
struct empty g_empty;
const volatile u32 cfg_val = 3;
u64 counter SEC(".data.counters") = 1;
enum color g_color = GREEN;

extern int bpf_kfunc_test(struct list_head *h, u32 flags) __ksym;

__attribute__((noinline)) __tag("sub_tag") int sub(struct nested *n __tag("arg_tag"), int x)
{
	return n->kind + x + (int)cfg_val;
}

static __attribute__((noinline)) long static_sub(struct core_target *t)
{
	long v = t->in.y;

	v += __builtin_preserve_field_info(t->in.z, 2);   /* FIELD_EXISTS */
	v += __builtin_preserve_field_info(t->arr[3], 1); /* FIELD_BYTE_SIZE */
	v += __builtin_preserve_field_info(t->in.z, 4);   /* FIELD_LSHIFT_U64 */
	return v;
}

SEC("xdp") int prog(struct ctx_like *ctx)
{
	long r = ctx->data_end - ctx->data;

	r += sub(&g_nested, 2);
	r += static_sub((struct core_target *)(long)ctx->data);
	r += __builtin_btf_type_id(*(struct nested *)0, 0);                  /* TYPE_ID_LOCAL */
	r += __builtin_preserve_type_info(*(struct core_target *)0, 0);      /* TYPE_EXISTS */
	r += __builtin_preserve_type_info(*(struct core_target *)0, 1);      /* TYPE_SIZE */
	r += __builtin_preserve_enum_value(*(typeof(enum color) *)GREEN, 1); /* ENUMVAL_VALUE */
	r += bpf_kfunc_test(&g_nested.list, 0);
	r += g_tagged.plain + g_anon.a + (g_flex ? g_flex->len : 0) + counter + g_color;
	return r & 1 ? 2 : 1;
}

char LICENSE[] SEC("license") = "GPL";
