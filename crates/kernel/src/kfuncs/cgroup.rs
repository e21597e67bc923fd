//! Cgroup kfuncs (kernel/bpf/helpers.c, set `generic_btf_ids`), and the legacy
//! `bpf_cgroup_kptr_get`.

use crate::types::Cgroup;
use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// Acquires a reference to a cgroup (RCU-protected or trusted); NULL if it is being freed.
    #[kfunc(acquire, rcu, ret_null)]
    pub fn bpf_cgroup_acquire(cgrp: *mut Cgroup) -> *mut Cgroup;

    /// Releases a cgroup reference.
    #[kfunc(release)]
    pub fn bpf_cgroup_release(cgrp: *mut Cgroup);

    /// The ancestor of `cgrp` at `level` (0 is the root), referenced; NULL if `level` is deeper.
    #[kfunc(acquire, rcu, ret_null)]
    pub fn bpf_cgroup_ancestor(cgrp: *mut Cgroup, level: c_int) -> *mut Cgroup;

    /// The cgroup with id `cgid` (its kernfs node id), referenced; NULL if there is none.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_cgroup_from_id(cgid: u64) -> *mut Cgroup;

    /// Destructor of referenced `struct cgroup` kptrs (`bpf_cgroup_release_dtor`; not a kfunc).
    #[kfunc]
    pub fn bpf_cgroup_release_dtor(cgrp: *mut c_void);

    /// Legacy (Linux 6.2–6.3): a new reference to the cgroup stored as a kptr at `*cgrpp` in a
    /// map value.
    #[kfunc(
        acquire,
        kptr_get,
        ret_null,
        deprecated(
            note = "KF_KPTR_GET kfuncs were removed from Linux in 6.4",
            replacement = "bpf_rcu_read_lock(); cgrp = *cgrpp (an RCU-protected kptr load); bpf_cgroup_acquire(cgrp); bpf_rcu_read_unlock()",
            removed_in = "6.4"
        )
    )]
    pub fn bpf_cgroup_kptr_get(cgrpp: *mut *mut Cgroup) -> *mut Cgroup;
}
