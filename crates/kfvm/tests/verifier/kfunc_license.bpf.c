// SPDX-License-Identifier: MIT
/* kfuncs are for GPL-compatible programs only (add_kfunc_call). Checked against the live
 * kernel. */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "MIT";

SEC("tc")
__failure __msg("cannot call kernel function from non-GPL compatible program")
int kfunc_in_non_gpl(struct __sk_buff *skb)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

/* Without kfuncs, an MIT program loads. */
SEC("tc")
__success
int no_kfunc_in_non_gpl(struct __sk_buff *skb)
{
	return skb->len > 10;
}
