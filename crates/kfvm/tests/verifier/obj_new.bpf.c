// Objects the program allocates from its own BTF types (bpf_obj_new_impl, bpf_obj_drop_impl):
// field accesses, leaks, releases, and the mistakes the verifier refuses. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kfvm_misc.h"


#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(p) bpf_obj_drop_impl(p, NULL)

char _license[] SEC("license") = "GPL";

struct point {
	long x;
	long y;
};

struct obj_sample {
	int id;
	struct point pts[2];
	char tag[4];
};

SEC("syscall")
__success __retval(7)
int obj_new_drop(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);
	long r;

	if (!p)
		return 0;
	p->x = 3;
	p->y = 4;
	r = p->x + p->y;
	bpf_obj_drop(p);
	return r;
}

SEC("syscall")
__success __retval(42)
int obj_nested_fields(void *ctx)
{
	struct obj_sample *s = bpf_obj_new(struct obj_sample);
	int r;

	if (!s)
		return 0;
	s->id = 40;
	s->pts[1].y = 2;
	s->tag[3] = 'x';
	r = s->id + s->pts[1].y;
	bpf_obj_drop(s);
	return r;
}

SEC("syscall")
__failure __msg("Unreleased reference id=")
int obj_leak(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	p->x = 1;
	return 0;
}

SEC("syscall")
__failure __msg("invalid mem access 'ptr_or_null_'")
int obj_no_null_check(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	p->x = 1;
	bpf_obj_drop(p);
	return 0;
}

SEC("syscall")
__failure __msg("invalid mem access 'scalar'")
int obj_use_after_drop(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	bpf_obj_drop(p);
	return p->x;
}

SEC("syscall")
__failure __msg("access beyond struct point at off 16 size 8")
int obj_out_of_bounds(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);
	long r;

	if (!p)
		return 0;
	r = ((long *)p)[2];
	bpf_obj_drop(p);
	return r;
}

SEC("syscall")
__failure __msg("R1 must be referenced or trusted")
int obj_drop_stack(void *ctx)
{
	struct point pt = {};

	bpf_obj_drop(&pt);
	return 0;
}

SEC("syscall")
__failure __msg("bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct")
int obj_new_not_struct(void *ctx)
{
	long *p = bpf_obj_new_impl(bpf_core_type_id_local(long), NULL);

	if (p)
		bpf_obj_drop(p);
	return 0;
}

SEC("syscall")
__failure __msg("must have zero offset when passed to release func or trusted arg to kfunc")
int obj_drop_offset(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	bpf_obj_drop(&p->y);
	return 0;
}

SEC("syscall")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
int obj_drop_maybe_null(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	bpf_obj_drop(p);
	return 0;
}

#define bpf_percpu_obj_new(type) \
	((type __percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(p) bpf_percpu_obj_drop_impl(p, NULL)

struct counters {
	long hits;
	long misses[2];
};

struct deep3 {
	long v;
};
struct deep2 {
	struct deep3 d;
};
struct deep1 {
	struct deep2 d;
};
struct deep0 {
	struct deep1 d;
};
struct deep {
	struct deep0 d;
};

struct with_ptr {
	long v;
	long *p;
};

/* A per-CPU object of scalars (a TC program: kfvm's runtime does not allocate per-CPU objects
 * yet, and it runs no TC programs). */
SEC("tc")
__success
int percpu_new_drop(struct __sk_buff *skb)
{
	struct counters __percpu_kptr *c = bpf_percpu_obj_new(struct counters);

	if (!c)
		return 0;
	bpf_percpu_obj_drop(c);
	return 0;
}

/* Per-CPU memory is not accessed directly. */
SEC("syscall")
__failure __msg("access percpu memory: off=0")
int percpu_direct_access(void *ctx)
{
	struct counters __percpu_kptr *c = bpf_percpu_obj_new(struct counters);
	long r;

	if (!c)
		return 0;
	r = c->hits;
	bpf_percpu_obj_drop(c);
	return r;
}

SEC("syscall")
__failure __msg("bpf_percpu_obj_new type ID argument must be of a struct of scalars")
int percpu_with_pointer(void *ctx)
{
	struct with_ptr __percpu_kptr *c = bpf_percpu_obj_new(struct with_ptr);

	if (c)
		bpf_percpu_obj_drop(c);
	return 0;
}

SEC("syscall")
__failure __msg("max struct nesting depth exceeded")
__msg("bpf_percpu_obj_new type ID argument must be of a struct of scalars")
int percpu_too_deep(void *ctx)
{
	struct deep __percpu_kptr *c = bpf_percpu_obj_new(struct deep);

	if (c)
		bpf_percpu_obj_drop(c);
	return 0;
}

/* Each allocation has its own drop (the message names the one the object needs). */
SEC("syscall")
__failure __msg("arg#0 expected for bpf_obj_drop_impl()")
int percpu_dropped_plain(void *ctx)
{
	struct counters *c = bpf_obj_new(struct counters);

	if (c)
		bpf_percpu_obj_drop(c);
	return 0;
}

SEC("syscall")
__failure __msg("arg#0 expected for bpf_percpu_obj_drop_impl()")
int plain_dropped_percpu(void *ctx)
{
	struct counters __percpu_kptr *c = bpf_percpu_obj_new(struct counters);

	if (c)
		bpf_obj_drop(c);
	return 0;
}

/* Objects made in an iterator loop, each dropped in the same iteration. */
SEC("syscall")
__success __retval(10)
int obj_in_loop(void *ctx)
{
	struct bpf_iter_num it;
	struct point *p;
	int n = 0;

	bpf_iter_num_new(&it, 0, 10);
	while (bpf_iter_num_next(&it)) {
		p = bpf_obj_new(struct point);
		if (!p)
			continue;
		p->x = 1;
		n += p->x;
		bpf_obj_drop(p);
	}
	bpf_iter_num_destroy(&it);
	return n;
}

/* ... and one kept past its iteration leaks. */
SEC("syscall")
__failure __msg("Unreleased reference id=")
int obj_in_loop_leak(void *ctx)
{
	struct bpf_iter_num it;
	struct point *p;

	bpf_iter_num_new(&it, 0, 10);
	while (bpf_iter_num_next(&it)) {
		p = bpf_obj_new(struct point);
		if (p)
			p->x = 1;
	}
	bpf_iter_num_destroy(&it);
	return 0;
}

struct locked {
	long a;
	struct bpf_spin_lock lock;
	long b;
};

/* An object with its own lock (a TC program: kfvm's runtime takes spin locks in map values
 * only, and it runs no TC programs). */
SEC("tc")
__success
int obj_with_lock(struct __sk_buff *skb)
{
	struct locked *p = bpf_obj_new(struct locked);
	long r;

	if (!p)
		return 0;
	bpf_spin_lock(&p->lock);
	p->a = 1;
	r = p->a;
	bpf_spin_unlock(&p->lock);
	bpf_obj_drop(p);
	return r;
}

/* The lock is the kernel's, not data. */
SEC("syscall")
__failure __msg("direct access to bpf_spin_lock is disallowed")
int obj_lock_direct(void *ctx)
{
	struct locked *p = bpf_obj_new(struct locked);
	int r;

	if (!p)
		return 0;
	r = *(volatile int *)&p->lock;
	bpf_obj_drop(p);
	return r;
}

SEC("syscall")
__failure __msg("function calls are not allowed while holding a lock")
int obj_drop_in_lock(void *ctx)
{
	struct locked *p = bpf_obj_new(struct locked);

	if (!p)
		return 0;
	bpf_spin_lock(&p->lock);
	bpf_obj_drop(p);
	return 0;
}

/* The type id is a constant (__k). */
SEC("syscall")
__failure __msg("R1 must be a known constant")
int obj_new_var_id(void *ctx)
{
	u64 id = bpf_get_prandom_u32();
	struct locked *p = bpf_obj_new_impl(id, NULL);

	if (p)
		bpf_obj_drop(p);
	return 0;
}

/* After the first drop the pointer is no object any more. */
SEC("syscall")
__failure __msg("R1 must be referenced or trusted")
int obj_drop_twice(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	bpf_obj_drop(p);
	bpf_obj_drop(p);
	return 0;
}

/* Socket filters have no allocator. */
SEC("socket")
__failure __msg("calling kernel function bpf_obj_new_impl is not allowed")
int obj_new_socket_filter(void *ctx)
{
	struct point *p = bpf_obj_new(struct point);

	if (p)
		bpf_obj_drop(p);
	return 0;
}
