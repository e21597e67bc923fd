// Per-CPU objects in __percpu_kptr fields of map values: bpf_kptr_xchg() moves them in (inside
// an RCU read section the moved pointer stays readable as an RCU per-CPU pointer), loads give
// percpu RCU pointers in RCU read sections and untrusted ones outside, stores are refused.
// Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

#define bpf_percpu_obj_new(type) \
	((type __percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(p) bpf_percpu_obj_drop_impl(p, NULL)

struct kfvm_cnt { long a; };
struct pval { struct kfvm_cnt __percpu_kptr *pc; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, int); __type(value, struct pval); } pm SEC(".maps");

long sink;

/* Per-CPU objects are allocated in TC programs: kfvm's runtime does not allocate them yet, and
 * runs no TC programs. TC programs are not sleepable: always in an RCU read section. */
SEC("tc")
__description("a per-CPU object moves into a __percpu_kptr field; the moved pointer stays readable as an RCU pointer")
__success __log_level(2)
__msg("R0=percpu_ptr_or_null_kfvm_cnt(id=")
__msg("=percpu_rcu_ptr_kfvm_cnt()")
int pc_xchg(struct __sk_buff *skb)
{
	int k = 0;
	struct pval *v = bpf_map_lookup_elem(&pm, &k);
	struct kfvm_cnt __percpu_kptr *c, *old;

	if (!v)
		return 0;
	c = bpf_percpu_obj_new(struct kfvm_cnt);
	if (!c)
		return 0;
	old = bpf_kptr_xchg(&v->pc, c);
	sink = (long)c;
	if (old)
		bpf_percpu_obj_drop(old);
	return 0;
}

SEC("tc")
__description("bpf_kptr_xchg() does not tell a plain allocated object from a per-CPU one (check_reg_type() drops MEM_PERCPU)")
__success
int pc_xchg_not_percpu(struct __sk_buff *skb)
{
	int k = 0;
	struct pval *v = bpf_map_lookup_elem(&pm, &k);
	struct kfvm_cnt *c, *old;

	if (!v)
		return 0;
	c = bpf_obj_new_impl(bpf_core_type_id_local(struct kfvm_cnt), NULL);
	if (!c)
		return 0;
	old = bpf_kptr_xchg(&v->pc, c);
	if (old)
		bpf_percpu_obj_drop(old);
	return 0;
}

SEC("syscall")
__description("outside an RCU read section (sleepable) a __percpu_kptr loads untrusted")
__success __log_level(2) __msg("=untrusted_ptr_or_null_kfvm_cnt(id=")
int pc_load(void *ctx)
{
	int k = 0;
	struct pval *v = bpf_map_lookup_elem(&pm, &k);
	struct kfvm_cnt __percpu_kptr *c;
	if (!v) return 0;
	c = v->pc;
	return c != 0;
}
SEC("syscall")
__description("inside an RCU read section a __percpu_kptr loads as a per-CPU RCU pointer")
__success __log_level(2) __msg("=percpu_rcu_ptr_or_null_kfvm_cnt(id=")
int pc_load_rcu(void *ctx)
{
	int k = 0, r = 0;
	struct pval *v = bpf_map_lookup_elem(&pm, &k);
	struct kfvm_cnt __percpu_kptr *c;
	if (!v) return 0;
	bpf_rcu_read_lock();
	c = v->pc;
	if (c)
		r = 1;
	bpf_rcu_read_unlock();
	return r;
}
SEC("syscall")
__description("a __percpu_kptr field is written with bpf_kptr_xchg() only")
__failure __msg("store to referenced kptr disallowed")
int pc_store(void *ctx)
{
	int k = 0;
	struct pval *v = bpf_map_lookup_elem(&pm, &k);
	if (!v) return 0;
	v->pc = 0;
	return 0;
}
SEC("syscall")
__description("a __percpu_kptr field is read whole")
__failure __msg("percpu_kptr access size must be BPF_DW")
int pc_u32(void *ctx)
{
	int k = 0;
	struct pval *v = bpf_map_lookup_elem(&pm, &k);
	if (!v) return 0;
	return *(u32 *)&v->pc;
}
