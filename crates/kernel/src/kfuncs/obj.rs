//! Local objects (`bpf_obj_new`/`drop`), refcounts, linked lists and rbtrees
//! (kernel/bpf/helpers.c, set `generic_btf_ids`).

use crate::types::{BpfListHead, BpfListNode, BpfRbNode, BpfRbRoot};
use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;
use kfvm_kfunc::Callback;

/// The `less` comparator of `bpf_rbtree_add_impl`.
pub type RbLess = Callback<fn(*mut BpfRbNode, *const BpfRbNode) -> bool>;

declare! {
    /// Allocates a program-local object of the program's BTF type `local_type_id__k`
    /// (`bpf_obj_new()` in bpf_experimental.h), referenced; NULL on failure.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_obj_new_impl(local_type_id__k: u64, meta__ign: *mut c_void) -> *mut c_void;

    /// Frees an object from `bpf_obj_new_impl`.
    #[kfunc(release)]
    pub fn bpf_obj_drop_impl(p__alloc: *mut c_void, meta__ign: *mut c_void);

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
