//! Cgroup kfuncs (kernel/bpf/helpers.c, set `generic_btf_ids`), and the legacy
//! `bpf_cgroup_kptr_get`.

use crate::model::Kind;
use crate::run::{bad_arg, kernel, release};
use crate::types::Cgroup;
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx};
use std::sync::atomic::{AtomicU64, Ordering};

/// Acquires a reference to a cgroup (RCU-protected or trusted); NULL if it is being freed.
#[kfunc(acquire, rcu, ret_null)]
pub fn bpf_cgroup_acquire(ctx: &mut CallCtx, cgrp: *mut Cgroup) -> *mut Cgroup {
    let rc = kernel!(ctx, "bpf_cgroup_acquire");
    match rc.kernel.slot_of(cgrp) {
        None => bad_arg(ctx, "bpf_cgroup_acquire", 0, "a cgroup", cgrp as u64),
        Some(i) if rc.kernel.0.cache(Kind::Cgroup).try_get(i) => rc.own(cgrp),
        Some(_) => core::ptr::null_mut(),
    }
}

/// Releases a cgroup reference.
#[kfunc(release)]
pub fn bpf_cgroup_release(ctx: &mut CallCtx, cgrp: *mut Cgroup) {
    let rc = kernel!(ctx, "bpf_cgroup_release");
    release(ctx, rc, "bpf_cgroup_release", Kind::Cgroup, cgrp as u64, "a cgroup")
}

/// The ancestor of `cgrp` at `level` (0 is the root), referenced; NULL if `level` is deeper.
#[kfunc(acquire, rcu, ret_null)]
pub fn bpf_cgroup_ancestor(ctx: &mut CallCtx, cgrp: *mut Cgroup, level: c_int) -> *mut Cgroup {
    let rc = kernel!(ctx, "bpf_cgroup_ancestor");
    if rc.kernel.slot_of(cgrp).is_none() {
        return bad_arg(ctx, "bpf_cgroup_ancestor", 0, "a cgroup", cgrp as u64);
    }
    let Some(ancestor) = ancestor_at(cgrp, level) else { return core::ptr::null_mut() };
    match rc.kernel.slot_of(ancestor) {
        Some(i) if rc.kernel.0.cache(Kind::Cgroup).try_get(i) => rc.own(ancestor),
        _ => core::ptr::null_mut(),
    }
}

/// `cgrp->ancestors[level]`, if `level` is within `0..=cgrp->level`.
fn ancestor_at(cgrp: *const Cgroup, level: c_int) -> Option<*mut Cgroup> {
    // SAFETY: a live cgroup (checked by the caller); `ancestors[0..=level]` is filled at
    // creation and never changes.
    unsafe {
        if level > (*cgrp).level || level < 0 {
            return None;
        }
        Some(*(core::ptr::addr_of!((*cgrp).ancestors) as *const *mut Cgroup).add(level as usize))
    }
}

/// The cgroup with id `cgid` (its kernfs node id), referenced; NULL if there is none.
#[kfunc(acquire, ret_null)]
pub fn bpf_cgroup_from_id(ctx: &mut CallCtx, cgid: u64) -> *mut Cgroup {
    let rc = kernel!(ctx, "bpf_cgroup_from_id");
    rc.own(rc.kernel.cgroup_by_id(cgid).map_or(core::ptr::null_mut(), |c| c.into_raw()))
}

/// Destructor of referenced `struct cgroup` kptrs (`bpf_cgroup_release_dtor`; not a kfunc).
#[kfunc]
pub fn bpf_cgroup_release_dtor(ctx: &mut CallCtx, cgrp: *mut c_void) {
    let rc = kernel!(ctx, "bpf_cgroup_release_dtor");
    // A map drops the reference it held: no program owned it.
    if !rc.kernel.release_any(cgrp as u64) {
        bad_arg::<()>(ctx, "bpf_cgroup_release_dtor", 0, "a cgroup", cgrp as u64);
    }
}

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
pub fn bpf_cgroup_kptr_get(ctx: &mut CallCtx, cgrpp: *mut *mut Cgroup) -> *mut Cgroup {
    let rc = kernel!(ctx, "bpf_cgroup_kptr_get");
    let addr = cgrpp as u64;
    if addr % 8 != 0 || !ctx.can_access(addr, 8, false) {
        return bad_arg(ctx, "bpf_cgroup_kptr_get", 0, "a kptr field", addr);
    }
    // SAFETY: 8 aligned bytes of the run's memory (a map value); kptr fields are only ever
    // written atomically (`bpf_kptr_xchg`), so read it atomically too (`READ_ONCE`).
    let cgrp = unsafe { AtomicU64::from_ptr(addr as *mut u64) }.load(Ordering::Acquire) as *mut Cgroup;
    if cgrp.is_null() {
        return cgrp;
    }
    // "If the cgroup had been released, tryget will fail."
    match rc.kernel.slot_of(cgrp) {
        Some(i) if rc.kernel.0.cache(Kind::Cgroup).try_get(i) => rc.own(cgrp),
        _ => core::ptr::null_mut(),
    }
}
