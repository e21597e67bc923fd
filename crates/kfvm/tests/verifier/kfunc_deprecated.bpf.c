// SPDX-License-Identifier: MIT
/* KF_DEPRECATED, kfvm's concrete form of the flag kernel Documentation/bpf/kfuncs.rst describes:
 * the model keeps bpf_cgroup_kptr_get (a KF_KPTR_GET kfunc Linux removed in 6.4) as deprecated.
 * A call is accepted with a warning that names the replacement and the removal version (in the
 * log at every level, and in the verdict); `kfvm verify --deny-deprecated` refuses it (see
 * crates/cli/tests). The live kernel has no such kfunc, so these programs are kfvm's only. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct cgroup_value {
	struct cgroup __kptr *cgrp;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct cgroup_value);
	__uint(max_entries, 1);
} cgroups SEC(".maps");

SEC("tp_btf/cgroup_mkdir")
__success __log_level(1) __kfvm_only("bpf_cgroup_kptr_get was removed from Linux in 6.4")
__kfvm_run_arg("cgroup:1") __kfvm_run_arg("0")
__msg("warning: insn") __msg("kernel function bpf_cgroup_kptr_get is deprecated (use bpf_rcu_read_lock(); cgrp = *cgrpp")
__msg("removed in 6.4)")
int BPF_PROG(kptr_get_deprecated, struct cgroup *cgrp, const char *path)
{
	u32 key = 0;
	struct cgroup_value *v = bpf_map_lookup_elem(&cgroups, &key);
	struct cgroup *c;

	if (!v)
		return 0;
	c = bpf_cgroup_kptr_get(&v->cgrp);
	if (!c)
		return 0;
	bpf_cgroup_release(c);
	return 0;
}

/* KF_KPTR_GET kfuncs of Linux 6.3: the argument is the address of a referenced kptr field. */
SEC("tp_btf/cgroup_mkdir")
__failure __kfvm_only("bpf_cgroup_kptr_get was removed from Linux in 6.4")
__msg("arg#0 expected pointer to map value")
int BPF_PROG(kptr_get_not_map_value, struct cgroup *cgrp, const char *path)
{
	struct cgroup *slot = cgrp, *c;

	c = bpf_cgroup_kptr_get(&slot);
	if (c)
		bpf_cgroup_release(c);
	return 0;
}

/* The acquired cgroup must be released, as any reference. */
SEC("tp_btf/cgroup_mkdir")
__failure __kfvm_only("bpf_cgroup_kptr_get was removed from Linux in 6.4")
__msg("Unreleased reference id=")
__kfvm_msg("hint: release the reference acquired by bpf_cgroup_kptr_get() at insn")
int BPF_PROG(kptr_get_leak, struct cgroup *cgrp, const char *path)
{
	u32 key = 0;
	struct cgroup_value *v = bpf_map_lookup_elem(&cgroups, &key);

	if (!v)
		return 0;
	return bpf_cgroup_kptr_get(&v->cgrp) != 0;
}
