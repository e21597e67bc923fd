//! Dynptr kfuncs (kernel/bpf/helpers.c `common_btf_ids`; the skb/xdp constructors are in
//! net/core/filter.c).

use crate::types::{BpfDynptr, SkBuffUapi, TaskStruct, XdpMd};
use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// Initializes `ptr__uninit` over the packet of the `__sk_buff` context `s`.
    #[kfunc(trusted_args)]
    pub fn bpf_dynptr_from_skb(s: *mut SkBuffUapi, flags: u64, ptr__uninit: *mut BpfDynptr) -> c_int;

    /// Initializes `ptr__uninit` over the skb metadata area.
    #[kfunc(trusted_args)]
    pub fn bpf_dynptr_from_skb_meta(skb_: *mut SkBuffUapi, flags: u64, ptr__uninit: *mut BpfDynptr) -> c_int;

    /// Initializes `ptr__uninit` over the XDP frame of context `x`.
    #[kfunc]
    pub fn bpf_dynptr_from_xdp(x: *mut XdpMd, flags: u64, ptr__uninit: *mut BpfDynptr) -> c_int;

    /// A read-only pointer to `buffer__szk` bytes at `offset` (direct, or copied into
    /// `buffer__opt`); NULL if out of range.
    #[kfunc(ret_null)]
    pub fn bpf_dynptr_slice(p: *const BpfDynptr, offset: u32, buffer__opt: *mut c_void, buffer__szk: u32) -> *mut c_void;

    /// Like `bpf_dynptr_slice`, writable.
    #[kfunc(ret_null)]
    pub fn bpf_dynptr_slice_rdwr(
        p: *const BpfDynptr,
        offset: u32,
        buffer__opt: *mut c_void,
        buffer__szk: u32,
    ) -> *mut c_void;

    /// Narrows the dynptr to `[start, end)`.
    #[kfunc]
    pub fn bpf_dynptr_adjust(p: *const BpfDynptr, start: u32, end: u32) -> c_int;

    /// Whether the dynptr is NULL (invalid).
    #[kfunc]
    pub fn bpf_dynptr_is_null(p: *const BpfDynptr) -> bool;

    /// Whether the dynptr is read-only.
    #[kfunc]
    pub fn bpf_dynptr_is_rdonly(p: *const BpfDynptr) -> bool;

    /// The dynptr's size.
    #[kfunc]
    pub fn bpf_dynptr_size(p: *const BpfDynptr) -> __u32;

    /// Initializes `clone__uninit` as a copy of `p`.
    #[kfunc]
    pub fn bpf_dynptr_clone(p: *const BpfDynptr, clone__uninit: *mut BpfDynptr) -> c_int;

    /// Copies `size` bytes between dynptrs.
    #[kfunc]
    pub fn bpf_dynptr_copy(dst_ptr: *mut BpfDynptr, dst_off: u32, src_ptr: *mut BpfDynptr, src_off: u32, size: u32) -> c_int;

    /// Fills `size` bytes at `offset` with `val`.
    #[kfunc]
    pub fn bpf_dynptr_memset(p: *mut BpfDynptr, offset: u32, size: u32, val: u8) -> c_int;

    /// Reads user memory into the dynptr.
    #[kfunc]
    pub fn bpf_probe_read_user_dynptr(dptr: *mut BpfDynptr, off: u32, size: u32, unsafe_ptr__ign: *const c_void) -> c_int;

    /// Reads kernel memory into the dynptr.
    #[kfunc]
    pub fn bpf_probe_read_kernel_dynptr(dptr: *mut BpfDynptr, off: u32, size: u32, unsafe_ptr__ign: *const c_void) -> c_int;

    /// Reads a user string into the dynptr.
    #[kfunc]
    pub fn bpf_probe_read_user_str_dynptr(
        dptr: *mut BpfDynptr,
        off: u32,
        size: u32,
        unsafe_ptr__ign: *const c_void,
    ) -> c_int;

    /// Reads a kernel string into the dynptr.
    #[kfunc]
    pub fn bpf_probe_read_kernel_str_dynptr(
        dptr: *mut BpfDynptr,
        off: u32,
        size: u32,
        unsafe_ptr__ign: *const c_void,
    ) -> c_int;

    /// Copies user memory into the dynptr (may fault in pages: sleepable).
    #[kfunc(sleepable)]
    pub fn bpf_copy_from_user_dynptr(dptr: *mut BpfDynptr, off: u32, size: u32, unsafe_ptr__ign: *const c_void) -> c_int;

    /// Copies a user string into the dynptr (sleepable).
    #[kfunc(sleepable)]
    pub fn bpf_copy_from_user_str_dynptr(
        dptr: *mut BpfDynptr,
        off: u32,
        size: u32,
        unsafe_ptr__ign: *const c_void,
    ) -> c_int;

    /// Copies another task's user memory into the dynptr (sleepable).
    #[kfunc(sleepable, trusted_args)]
    pub fn bpf_copy_from_user_task_dynptr(
        dptr: *mut BpfDynptr,
        off: u32,
        size: u32,
        unsafe_ptr__ign: *const c_void,
        tsk: *mut TaskStruct,
    ) -> c_int;

    /// Copies a string from another task's user memory into the dynptr (sleepable).
    #[kfunc(sleepable, trusted_args)]
    pub fn bpf_copy_from_user_task_str_dynptr(
        dptr: *mut BpfDynptr,
        off: u32,
        size: u32,
        unsafe_ptr__ign: *const c_void,
        tsk: *mut TaskStruct,
    ) -> c_int;
}
