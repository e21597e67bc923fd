// SPDX-License-Identifier: MIT
/*
 * The "kernel" side of kinds.bpf.c: the same type names, laid out differently. Only this file's
 * BTF is used (extracted to kinds_target.btf by build.sh), as a target BTF; it has no global
 * variable, so no DATASEC for libbpf to fix up first.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

enum kt_e { KT_B = 20, KT_A = 10, KT_NEG = -7 };
enum kt_big { KT_BIG = 0x300000000ULL };

struct kt_inner {
	long pad;
	int y;
	int x;
};

struct kt {
	__u64 head;
	unsigned int bf1 : 7;
	unsigned int : 9;
	int bf2 : 12;
	char b;
	int a;
	unsigned long grow;
	long sgrow;
	struct kt_inner in;
	struct kt_inner arr[3];
	struct {
		void *ptr;
		union {
			long u2;
			int u1;
		};
	};
	enum kt_e e;
	__u64 u64f;
	int flex[];
};

typedef struct kt kt_t;

struct kt_flav___v2 {
	long only;
};

struct kt_match {
	int m;
	long n;
	int extra;
};

struct kt_nomatch {
	int m;
	int n;
};

/* two flavors of one struct that disagree: relocations against them are ambiguous */
struct amb___a {
	long pad;
	int x;
};
struct amb___b {
	int x;
};

/* two flavors with x at the same offset but of different sizes */
struct amb2___a {
	int x;
};
struct amb2___b {
	char x;
};

/* Each type reaches BTF in full as the pointee of a program's parameter (a pointer one level
 * deeper would only leave a FWD). */
#define USE(name, type)                   \
	SEC("syscall")                    \
	int use_##name(type *p)           \
	{                                 \
		return 0;                 \
	}

USE(kt, struct kt)
USE(kt_t, kt_t)
USE(kt_flav, struct kt_flav___v2)
USE(kt_match, struct kt_match)
USE(kt_nomatch, struct kt_nomatch)
USE(amb_a, struct amb___a)
USE(amb_b, struct amb___b)
USE(amb2_a, struct amb2___a)
USE(amb2_b, struct amb2___b)
USE(kt_e, enum kt_e)
USE(kt_big, enum kt_big)
