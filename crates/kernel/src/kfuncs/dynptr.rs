//! Dynptr kfuncs (kernel/bpf/helpers.c `common_btf_ids`; the skb/xdp constructors are in
//! net/core/filter.c), and the dynptr layout the runtime's dynptr helpers share
//! (`bpf_dynptr_from_mem`, `bpf_dynptr_read`, `bpf_ringbuf_reserve_dynptr`, ...).
//!
//! `struct bpf_dynptr` holds the kernel's `struct bpf_dynptr_kern { void *data; u32 size;
//! u32 offset; }`: the low 24 bits of `size` are the size, bits 28–30 the type, bit 31 read-only.
//! An XDP dynptr's `data` is the packet's first byte (kfvm's packets are linear).

use crate::run::{bad_arg, kernel};
use crate::types::{BpfDynptr, SkBuffUapi, TaskStruct, XdpMd};
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx};

/// `BPF_DYNPTR_TYPE_LOCAL`.
pub const DYNPTR_TYPE_LOCAL: u32 = 1;
/// `BPF_DYNPTR_TYPE_RINGBUF`.
pub const DYNPTR_TYPE_RINGBUF: u32 = 2;
/// `BPF_DYNPTR_TYPE_XDP`.
pub const DYNPTR_TYPE_XDP: u32 = 4;
/// `DYNPTR_MAX_SIZE`.
pub const DYNPTR_MAX_SIZE: u32 = (1 << 24) - 1;
const DYNPTR_RDONLY_BIT: u32 = 1 << 31;
const DYNPTR_TYPE_SHIFT: u32 = 28;
const DYNPTR_SIZE_MASK: u32 = 0xff_ffff;
const EINVAL: i32 = 22;
const E2BIG: i32 = 7;
const ERANGE: i32 = 34;
const EFAULT: i32 = 14;

/// `struct bpf_dynptr_kern`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct DynptrKern {
    /// Start of the memory (NULL: an invalid dynptr).
    pub data: u64,
    /// Size, type and read-only bit.
    pub size: u32,
    /// Offset of the view in `data`.
    pub offset: u32,
}

impl DynptrKern {
    /// `bpf_dynptr_init`.
    pub fn new(data: u64, ty: u32, offset: u32, size: u32, rdonly: bool) -> DynptrKern {
        let size = (size & DYNPTR_SIZE_MASK)
            | (ty << DYNPTR_TYPE_SHIFT)
            | if rdonly { DYNPTR_RDONLY_BIT } else { 0 };
        DynptrKern { data, size, offset }
    }
    /// `__bpf_dynptr_size`.
    pub fn len(&self) -> u32 {
        self.size & DYNPTR_SIZE_MASK
    }
    /// Whether the size is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The type.
    pub fn ty(&self) -> u32 {
        (self.size & !DYNPTR_RDONLY_BIT) >> DYNPTR_TYPE_SHIFT
    }
    /// Whether it is read-only.
    pub fn rdonly(&self) -> bool {
        self.size & DYNPTR_RDONLY_BIT != 0
    }
    /// `bpf_dynptr_check_off_len`.
    pub fn check_off_len(&self, offset: u32, len: u32) -> Result<(), i32> {
        let size = self.len();
        if len > size || offset > size - len {
            return Err(-E2BIG);
        }
        Ok(())
    }
    /// The address of byte `offset` of the view.
    pub fn addr(&self, offset: u32) -> u64 {
        self.data + self.offset as u64 + offset as u64
    }
}

/// Reads the dynptr at `p` (`write`: the run may also write it); `None` after ending the run.
pub fn load(ctx: &mut CallCtx, name: &str, argno: usize, p: u64, write: bool) -> Option<DynptrKern> {
    if p % 8 != 0 || !ctx.can_access(p, 16, write) {
        bad_arg::<()>(ctx, name, argno, "a bpf_dynptr", p);
        return None;
    }
    // SAFETY: 16 readable, 8-aligned bytes of the run's memory (checked above).
    Some(unsafe { core::ptr::read(p as *const DynptrKern) })
}

/// Writes a dynptr to `p` (which the run may write); `false` after ending the run.
pub fn store(ctx: &mut CallCtx, name: &str, argno: usize, p: u64, d: DynptrKern) -> bool {
    if p % 8 != 0 || !ctx.can_access(p, 16, true) {
        bad_arg::<()>(ctx, name, argno, "a bpf_dynptr", p);
        return false;
    }
    // SAFETY: 16 writable, 8-aligned bytes of the run's memory (checked above).
    unsafe { core::ptr::write(p as *mut DynptrKern, d) };
    true
}

/// Copies `len` bytes between memory the run may access (`src` readable, `dst` writable);
/// `-EFAULT` otherwise.
pub fn copy(ctx: &CallCtx, dst: u64, src: u64, len: u32) -> Result<(), i32> {
    if len == 0 {
        return Ok(());
    }
    if !ctx.can_access(src, len as u64, false) || !ctx.can_access(dst, len as u64, true) {
        return Err(-EFAULT);
    }
    // SAFETY: both ranges are memory of the run (checked above); they may overlap.
    unsafe { core::ptr::copy(src as *const u8, dst as *mut u8, len as usize) };
    Ok(())
}

/// Initializes `ptr__uninit` over the XDP frame of context `x`.
#[kfunc]
pub fn bpf_dynptr_from_xdp(
    ctx: &mut CallCtx,
    x: *mut XdpMd,
    flags: u64,
    ptr__uninit: *mut BpfDynptr,
) -> c_int {
    let rc = kernel!(ctx, "bpf_dynptr_from_xdp");
    let _ = x;
    let p = ptr__uninit as u64;
    let Some((data, end)) = rc.packet else {
        store(ctx, "bpf_dynptr_from_xdp", 2, p, DynptrKern::default());
        return -EINVAL;
    };
    if flags != 0 {
        store(ctx, "bpf_dynptr_from_xdp", 2, p, DynptrKern::default());
        return -EINVAL;
    }
    store(
        ctx,
        "bpf_dynptr_from_xdp",
        2,
        p,
        DynptrKern::new(data, DYNPTR_TYPE_XDP, 0, (end - data) as u32, false),
    );
    0
}

fn slice(
    ctx: &mut CallCtx,
    name: &str,
    p: *const BpfDynptr,
    offset: u32,
    buffer: *mut c_void,
    len: u32,
    rdwr: bool,
) -> *mut c_void {
    let Some(d) = load(ctx, name, 0, p as u64, false) else { return core::ptr::null_mut() };
    if d.data == 0 || d.check_off_len(offset, len).is_err() || (rdwr && d.rdonly()) {
        return core::ptr::null_mut();
    }
    let _ = buffer; // kfvm's packets are linear: the slice always points into the data
    d.addr(offset) as *mut c_void
}

/// A read-only pointer to `buffer__szk` bytes at `offset` (direct, or copied into
/// `buffer__opt`); NULL if out of range.
#[kfunc(ret_null)]
pub fn bpf_dynptr_slice(
    ctx: &mut CallCtx,
    p: *const BpfDynptr,
    offset: u32,
    buffer__opt: *mut c_void,
    buffer__szk: u32,
) -> *mut c_void {
    slice(ctx, "bpf_dynptr_slice", p, offset, buffer__opt, buffer__szk, false)
}

/// Like `bpf_dynptr_slice`, writable (NULL for a read-only dynptr).
#[kfunc(ret_null)]
pub fn bpf_dynptr_slice_rdwr(
    ctx: &mut CallCtx,
    p: *const BpfDynptr,
    offset: u32,
    buffer__opt: *mut c_void,
    buffer__szk: u32,
) -> *mut c_void {
    slice(ctx, "bpf_dynptr_slice_rdwr", p, offset, buffer__opt, buffer__szk, true)
}

/// Narrows the dynptr to `[start, end)`.
#[kfunc]
pub fn bpf_dynptr_adjust(ctx: &mut CallCtx, p: *const BpfDynptr, start: u32, end: u32) -> c_int {
    let Some(mut d) = load(ctx, "bpf_dynptr_adjust", 0, p as u64, true) else { return 0 };
    if d.data == 0 {
        return -EINVAL;
    }
    if start > end {
        return -EINVAL;
    }
    if end > d.len() {
        return -ERANGE;
    }
    d.offset += start;
    d.size = (d.size & !DYNPTR_SIZE_MASK) | (end - start);
    store(ctx, "bpf_dynptr_adjust", 0, p as u64, d);
    0
}

/// Whether the dynptr is NULL (invalid).
#[kfunc]
pub fn bpf_dynptr_is_null(ctx: &mut CallCtx, p: *const BpfDynptr) -> bool {
    load(ctx, "bpf_dynptr_is_null", 0, p as u64, false).is_none_or(|d| d.data == 0)
}

/// Whether the dynptr is read-only.
#[kfunc]
pub fn bpf_dynptr_is_rdonly(ctx: &mut CallCtx, p: *const BpfDynptr) -> bool {
    load(ctx, "bpf_dynptr_is_rdonly", 0, p as u64, false).is_some_and(|d| d.data != 0 && d.rdonly())
}

/// The dynptr's size (`-EINVAL` for an invalid one).
#[kfunc]
pub fn bpf_dynptr_size(ctx: &mut CallCtx, p: *const BpfDynptr) -> __u32 {
    match load(ctx, "bpf_dynptr_size", 0, p as u64, false) {
        Some(d) if d.data != 0 => d.len(),
        _ => (-EINVAL) as u32,
    }
}

/// Initializes `clone__uninit` as a copy of `p`.
#[kfunc]
pub fn bpf_dynptr_clone(ctx: &mut CallCtx, p: *const BpfDynptr, clone__uninit: *mut BpfDynptr) -> c_int {
    let Some(d) = load(ctx, "bpf_dynptr_clone", 0, p as u64, false) else { return 0 };
    if d.data == 0 {
        store(ctx, "bpf_dynptr_clone", 1, clone__uninit as u64, DynptrKern::default());
        return -EINVAL;
    }
    store(ctx, "bpf_dynptr_clone", 1, clone__uninit as u64, d);
    0
}

/// Copies `size` bytes between dynptrs.
#[kfunc]
pub fn bpf_dynptr_copy(
    ctx: &mut CallCtx,
    dst_ptr: *mut BpfDynptr,
    dst_off: u32,
    src_ptr: *mut BpfDynptr,
    src_off: u32,
    size: u32,
) -> c_int {
    let Some(dst) = load(ctx, "bpf_dynptr_copy", 0, dst_ptr as u64, false) else { return 0 };
    let Some(src) = load(ctx, "bpf_dynptr_copy", 2, src_ptr as u64, false) else { return 0 };
    if dst.data == 0 || src.data == 0 || dst.rdonly() {
        return -EINVAL;
    }
    if let Err(e) = dst.check_off_len(dst_off, size).and(src.check_off_len(src_off, size)) {
        return e;
    }
    match copy(ctx, dst.addr(dst_off), src.addr(src_off), size) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// Fills `size` bytes at `offset` with `val`.
#[kfunc]
pub fn bpf_dynptr_memset(ctx: &mut CallCtx, p: *mut BpfDynptr, offset: u32, size: u32, val: u8) -> c_int {
    let Some(d) = load(ctx, "bpf_dynptr_memset", 0, p as u64, false) else { return 0 };
    if d.data == 0 || d.rdonly() {
        return -EINVAL;
    }
    if let Err(e) = d.check_off_len(offset, size) {
        return e;
    }
    let a = d.addr(offset);
    if size > 0 && !ctx.can_access(a, size as u64, true) {
        return -EFAULT;
    }
    // SAFETY: `size` writable bytes of the run's memory (checked above).
    unsafe { core::ptr::write_bytes(a as *mut u8, val, size as usize) };
    0
}

/// Reads `size` bytes (a string of at most `size` with `str`) from `src` into the dynptr at
/// `off`: memory of the model is read (`-EFAULT` elsewhere, as a faulting probe read).
#[expect(clippy::too_many_arguments, reason = "the kfunc's five arguments, its name and two modes")]
fn probe_into(
    ctx: &mut CallCtx,
    name: &str,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    src: u64,
    user: bool,
    str: bool,
) -> c_int {
    let Some(d) = load(ctx, name, 0, dptr as u64, false) else { return 0 };
    if d.data == 0 || d.rdonly() {
        return -EINVAL;
    }
    if let Err(e) = d.check_off_len(off, size) {
        return e;
    }
    if user {
        return -EFAULT; // the model has no user memory
    }
    if !str {
        return match copy(ctx, d.addr(off), src, size) {
            Ok(()) => 0,
            Err(e) => e,
        };
    }
    let mut n = 0u32;
    while n + 1 < size {
        if !ctx.can_access(src + n as u64, 1, false) {
            return -EFAULT;
        }
        // SAFETY: one readable byte (checked above).
        let b = unsafe { *((src + n as u64) as *const u8) };
        if b == 0 {
            break;
        }
        n += 1;
    }
    if size == 0 {
        return 0;
    }
    if copy(ctx, d.addr(off), src, n).is_err() || !ctx.can_access(d.addr(off + n), 1, true) {
        return -EFAULT;
    }
    // SAFETY: writable, checked above.
    unsafe { *(d.addr(off + n) as *mut u8) = 0 };
    (n + 1) as c_int
}

/// Reads user memory into the dynptr (the model has none: `-EFAULT`).
#[kfunc]
pub fn bpf_probe_read_user_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
) -> c_int {
    probe_into(ctx, "bpf_probe_read_user_dynptr", dptr, off, size, unsafe_ptr__ign as u64, true, false)
}

/// Reads kernel memory (the model's objects) into the dynptr.
#[kfunc]
pub fn bpf_probe_read_kernel_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
) -> c_int {
    probe_into(ctx, "bpf_probe_read_kernel_dynptr", dptr, off, size, unsafe_ptr__ign as u64, false, false)
}

/// Reads a user string into the dynptr (`-EFAULT`).
#[kfunc]
pub fn bpf_probe_read_user_str_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
) -> c_int {
    probe_into(ctx, "bpf_probe_read_user_str_dynptr", dptr, off, size, unsafe_ptr__ign as u64, true, true)
}

/// Reads a kernel string into the dynptr: its length with the NUL.
#[kfunc]
pub fn bpf_probe_read_kernel_str_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
) -> c_int {
    probe_into(ctx, "bpf_probe_read_kernel_str_dynptr", dptr, off, size, unsafe_ptr__ign as u64, false, true)
}

/// Copies user memory into the dynptr (`-EFAULT`: the model has no user memory).
#[kfunc(sleepable)]
pub fn bpf_copy_from_user_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
) -> c_int {
    probe_into(ctx, "bpf_copy_from_user_dynptr", dptr, off, size, unsafe_ptr__ign as u64, true, false)
}

/// Copies a user string into the dynptr (`-EFAULT`).
#[kfunc(sleepable)]
pub fn bpf_copy_from_user_str_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
) -> c_int {
    probe_into(ctx, "bpf_copy_from_user_str_dynptr", dptr, off, size, unsafe_ptr__ign as u64, true, true)
}

/// Copies another task's user memory into the dynptr (`-EFAULT`).
#[kfunc(sleepable, trusted_args)]
pub fn bpf_copy_from_user_task_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
    tsk: *mut TaskStruct,
) -> c_int {
    let _ = tsk;
    probe_into(ctx, "bpf_copy_from_user_task_dynptr", dptr, off, size, unsafe_ptr__ign as u64, true, false)
}

/// Copies a string from another task's user memory into the dynptr (`-EFAULT`).
#[kfunc(sleepable, trusted_args)]
pub fn bpf_copy_from_user_task_str_dynptr(
    ctx: &mut CallCtx,
    dptr: *mut BpfDynptr,
    off: u32,
    size: u32,
    unsafe_ptr__ign: *const c_void,
    tsk: *mut TaskStruct,
) -> c_int {
    let _ = tsk;
    probe_into(ctx, "bpf_copy_from_user_task_str_dynptr", dptr, off, size, unsafe_ptr__ign as u64, true, true)
}

declare! {
    /// Initializes `ptr__uninit` over the packet of the `__sk_buff` context `s`.
    #[kfunc(trusted_args)]
    pub fn bpf_dynptr_from_skb(s: *mut SkBuffUapi, flags: u64, ptr__uninit: *mut BpfDynptr) -> c_int;

    /// Initializes `ptr__uninit` over the skb metadata area.
    #[kfunc(trusted_args)]
    pub fn bpf_dynptr_from_skb_meta(skb_: *mut SkBuffUapi, flags: u64, ptr__uninit: *mut BpfDynptr) -> c_int;

}
