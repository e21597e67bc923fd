//! Local objects (`bpf_obj_new`/`drop`), refcounts, linked lists and rbtrees
//! (kernel/bpf/helpers.c, set `generic_btf_ids`).

use crate::run::{bad_arg, kernel};
use crate::types::{BpfListHead, BpfListNode, BpfRbNode, BpfRbRoot};
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx, Callback};

/// The `less` comparator of `bpf_rbtree_add_impl`.
pub type RbLess = Callback<fn(*mut BpfRbNode, *const BpfRbNode) -> bool>;

/// Allocates a program-local object of the program's BTF type `local_type_id__k`
/// (`bpf_obj_new()` in bpf_experimental.h), zeroed, referenced; NULL on failure. Its size is
/// the type's in the program's BTF ([`crate::RunCtx::obj_sizes`], what the kernel's verifier
/// patches into the call).
#[kfunc(acquire, ret_null)]
pub fn bpf_obj_new_impl(ctx: &mut CallCtx, local_type_id__k: u64, meta__ign: *mut c_void) -> *mut c_void {
    let rc = kernel!(ctx, "bpf_obj_new_impl");
    let _ = meta__ign;
    let id = local_type_id__k as u32;
    let Some(&(_, size)) = rc.obj_sizes.iter().find(|(t, _)| *t == id) else {
        ctx.fail(format!("kfunc bpf_obj_new_impl: type id {id} is no struct of the program's BTF"));
        return core::ptr::null_mut();
    };
    if size as usize > crate::model::BPF_OBJ_MAX_SIZE {
        return core::ptr::null_mut();
    }
    rc.own(rc.kernel.alloc_obj(size as usize).map_or(core::ptr::null_mut(), |p| p as *mut c_void))
}

/// Frees an object from `bpf_obj_new_impl` (after the RCU grace period).
#[kfunc(release)]
pub fn bpf_obj_drop_impl(ctx: &mut CallCtx, p__alloc: *mut c_void, meta__ign: *mut c_void) {
    let rc = kernel!(ctx, "bpf_obj_drop_impl");
    let _ = meta__ign;
    if !rc.disown(p__alloc as u64) {
        ctx.fail(format!(
            "kfunc bpf_obj_drop_impl: arg#0: the program drops {:#x}, which it does not own",
            p__alloc as u64
        ));
        return;
    }
    if !rc.kernel.free_obj(p__alloc as u64) {
        bad_arg::<()>(ctx, "bpf_obj_drop_impl", 0, "an object of bpf_obj_new", p__alloc as u64);
    }
}

declare! {
    /// Allocates a per-CPU program-local object, referenced; NULL on failure.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_percpu_obj_new_impl(local_type_id__k: u64, meta__ign: *mut c_void) -> *mut c_void;

    /// Frees an object from `bpf_percpu_obj_new_impl`.
    #[kfunc(release)]
    pub fn bpf_percpu_obj_drop_impl(p__alloc: *mut c_void, meta__ign: *mut c_void);

    /// A new owning reference to a refcounted local object; NULL if its count already hit zero.
    #[kfunc(acquire, ret_null, rcu)]
    pub fn bpf_refcount_acquire_impl(p__refcounted_kptr: *mut c_void, meta__ign: *mut c_void) -> *mut c_void;

    /// Pushes `node` at the front of `head` (takes the reference); 0, or -EINVAL if in a list.
    #[kfunc]
    pub fn bpf_list_push_front_impl(
        head: *mut BpfListHead,
        node: *mut BpfListNode,
        meta__ign: *mut c_void,
        off: u64,
    ) -> c_int;

    /// Pushes `node` at the back of `head`.
    #[kfunc]
    pub fn bpf_list_push_back_impl(
        head: *mut BpfListHead,
        node: *mut BpfListNode,
        meta__ign: *mut c_void,
        off: u64,
    ) -> c_int;

    /// Removes and returns the first node (owning reference); NULL if empty.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_list_pop_front(head: *mut BpfListHead) -> *mut BpfListNode;

    /// Removes and returns the last node; NULL if empty.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_list_pop_back(head: *mut BpfListHead) -> *mut BpfListNode;

    /// The first node (non-owning); NULL if empty.
    #[kfunc(ret_null)]
    pub fn bpf_list_front(head: *mut BpfListHead) -> *mut BpfListNode;

    /// The last node (non-owning); NULL if empty.
    #[kfunc(ret_null)]
    pub fn bpf_list_back(head: *mut BpfListHead) -> *mut BpfListNode;

    /// Inserts `node` ordered by the BPF callback `less`.
    #[kfunc]
    pub fn bpf_rbtree_add_impl(
        root: *mut BpfRbRoot,
        node: *mut BpfRbNode,
        less: RbLess,
        meta__ign: *mut c_void,
        off: u64,
    ) -> c_int;

    /// Removes `node`, returning an owning reference; NULL if it was not in the tree.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_rbtree_remove(root: *mut BpfRbRoot, node: *mut BpfRbNode) -> *mut BpfRbNode;

    /// The leftmost node (non-owning); NULL if empty.
    #[kfunc(ret_null)]
    pub fn bpf_rbtree_first(root: *mut BpfRbRoot) -> *mut BpfRbNode;

    /// The root node (non-owning); NULL if empty.
    #[kfunc(ret_null)]
    pub fn bpf_rbtree_root(root: *mut BpfRbRoot) -> *mut BpfRbNode;

    /// The left child of `node`; NULL if none.
    #[kfunc(ret_null)]
    pub fn bpf_rbtree_left(root: *mut BpfRbRoot, node: *mut BpfRbNode) -> *mut BpfRbNode;

    /// The right child of `node`; NULL if none.
    #[kfunc(ret_null)]
    pub fn bpf_rbtree_right(root: *mut BpfRbRoot, node: *mut BpfRbNode) -> *mut BpfRbNode;
}
