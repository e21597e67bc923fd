//! Task kfuncs (kernel/bpf/helpers.c, set `generic_btf_ids`).

use crate::types::{Cgroup, TaskStruct};
use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// Acquires a reference to a task (RCU-protected or trusted); NULL if its usage count is zero.
    #[kfunc(acquire, rcu, ret_null)]
    pub fn bpf_task_acquire(p: *mut TaskStruct) -> *mut TaskStruct;

    /// Releases a reference acquired with `bpf_task_acquire` or `bpf_task_from_pid`.
    #[kfunc(release)]
    pub fn bpf_task_release(p: *mut TaskStruct);

    /// The task with global pid `pid`, referenced; NULL if there is none.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_task_from_pid(pid: s32) -> *mut TaskStruct;

    /// The task with pid `vpid` in the caller's pid namespace, referenced; NULL if there is none.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_task_from_vpid(vpid: s32) -> *mut TaskStruct;

    /// Whether `task` is in the cgroup `ancestor` or one of its descendants.
    #[kfunc(rcu)]
    pub fn bpf_task_under_cgroup(task: *mut TaskStruct, ancestor: *mut Cgroup) -> c_long;

    /// The task's cgroup in the cgroup v1 hierarchy `hierarchy_id`, referenced; NULL if none.
    #[kfunc(acquire, rcu, ret_null)]
    pub fn bpf_task_get_cgroup1(task: *mut TaskStruct, hierarchy_id: c_int) -> *mut Cgroup;

    /// Destructor of referenced `struct task_struct` kptrs (`bpf_task_release_dtor`; not a kfunc).
    #[kfunc]
    pub fn bpf_task_release_dtor(p: *mut c_void);
}
