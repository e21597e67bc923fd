//! Task kfuncs (kernel/bpf/helpers.c, set `generic_btf_ids`).

use crate::model::Kind;
use crate::run::{bad_arg, kernel, release};
use crate::types::{Cgroup, CssSet, TaskStruct};
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx};

/// Acquires a reference to a task (RCU-protected or trusted); NULL if its usage count is zero.
#[kfunc(acquire, rcu, ret_null)]
pub fn bpf_task_acquire(ctx: &mut CallCtx, p: *mut TaskStruct) -> *mut TaskStruct {
    let rc = kernel!(ctx, "bpf_task_acquire");
    match rc.kernel.slot_of(p) {
        None => bad_arg(ctx, "bpf_task_acquire", 0, "a task_struct", p as u64),
        Some(i) if rc.kernel.0.cache(Kind::Task).try_get(i) => rc.own(p),
        Some(_) => core::ptr::null_mut(),
    }
}

/// Releases a reference acquired with `bpf_task_acquire` or `bpf_task_from_pid`.
#[kfunc(release)]
pub fn bpf_task_release(ctx: &mut CallCtx, p: *mut TaskStruct) {
    let rc = kernel!(ctx, "bpf_task_release");
    release(ctx, rc, "bpf_task_release", Kind::Task, p as u64, "a task_struct")
}

/// The task with global pid `pid`, referenced; NULL if there is none.
#[kfunc(acquire, ret_null)]
pub fn bpf_task_from_pid(ctx: &mut CallCtx, pid: s32) -> *mut TaskStruct {
    let rc = kernel!(ctx, "bpf_task_from_pid");
    rc.own(rc.kernel.task(pid).map_or(core::ptr::null_mut(), |t| t.into_raw()))
}

/// The task with pid `vpid` in the caller's pid namespace, referenced; NULL if there is none.
/// (The model has one pid namespace.)
#[kfunc(acquire, ret_null)]
pub fn bpf_task_from_vpid(ctx: &mut CallCtx, vpid: s32) -> *mut TaskStruct {
    let rc = kernel!(ctx, "bpf_task_from_vpid");
    rc.own(rc.kernel.task(vpid).map_or(core::ptr::null_mut(), |t| t.into_raw()))
}

/// The task's cgroup v2 cgroup (`task_dfl_cgroup`), if `task` is a live task.
pub(crate) fn task_dfl_cgroup(k: &crate::Kernel, task: *const TaskStruct) -> Option<*mut Cgroup> {
    k.slot_of(task)?;
    // SAFETY: a live task (its slot is allocated; the run's RCU section keeps it); `cgroups`
    // is set at creation and pinned by the task.
    let cset: *mut CssSet = unsafe { (*task).cgroups };
    if cset.is_null() {
        return None;
    }
    // SAFETY: the css_set is pinned by the task.
    Some(unsafe { (*cset).dfl_cgrp })
}

/// `cgroup_is_descendant(cgrp, ancestor)`.
pub(crate) fn cgroup_is_descendant(cgrp: *const Cgroup, ancestor: *const Cgroup) -> bool {
    // SAFETY: both are live cgroups (checked by the callers); `ancestors[0..=level]` is filled.
    unsafe {
        let (l, al) = ((*cgrp).level, (*ancestor).level);
        if l < al || al < 0 {
            return false;
        }
        let anc = core::ptr::addr_of!((*cgrp).ancestors) as *const *mut Cgroup;
        core::ptr::eq(*anc.add(al as usize), ancestor)
    }
}

/// Whether `task` is in the cgroup `ancestor` or one of its descendants.
#[kfunc(rcu)]
pub fn bpf_task_under_cgroup(ctx: &mut CallCtx, task: *mut TaskStruct, ancestor: *mut Cgroup) -> c_long {
    let rc = kernel!(ctx, "bpf_task_under_cgroup");
    let Some(cgrp) = task_dfl_cgroup(&rc.kernel, task) else {
        return bad_arg(ctx, "bpf_task_under_cgroup", 0, "a task_struct", task as u64);
    };
    if rc.kernel.slot_of(ancestor).is_none() {
        return bad_arg(ctx, "bpf_task_under_cgroup", 1, "a cgroup", ancestor as u64);
    }
    cgroup_is_descendant(cgrp, ancestor) as c_long
}

/// The task's cgroup in the cgroup v1 hierarchy `hierarchy_id`, referenced; NULL if none. The
/// model has no cgroup v1 hierarchy: always NULL.
#[kfunc(acquire, rcu, ret_null)]
pub fn bpf_task_get_cgroup1(ctx: &mut CallCtx, task: *mut TaskStruct, hierarchy_id: c_int) -> *mut Cgroup {
    let rc = kernel!(ctx, "bpf_task_get_cgroup1");
    let _ = hierarchy_id;
    if rc.kernel.slot_of(task).is_none() {
        return bad_arg(ctx, "bpf_task_get_cgroup1", 0, "a task_struct", task as u64);
    }
    core::ptr::null_mut()
}

/// Destructor of referenced `struct task_struct` kptrs (`bpf_task_release_dtor`; not a kfunc).
#[kfunc]
pub fn bpf_task_release_dtor(ctx: &mut CallCtx, p: *mut c_void) {
    let rc = kernel!(ctx, "bpf_task_release_dtor");
    // A map drops the reference it held: no program owned it.
    if !rc.kernel.release_any(p as u64) {
        bad_arg::<()>(ctx, "bpf_task_release_dtor", 0, "a task_struct", p as u64);
    }
}
