//! How `#[kfunc]` entry points turn registers into Rust values and back.
//!
//! Arguments arrive as R1–R5 (`u64`); each parameter type says how to read its register
//! ([`KfuncArg`]): integers are truncated to their width (a BPF program may leave garbage above
//! a 32-bit argument, as the C calling convention allows), `bool` is the low byte being
//! non-zero, pointers are the address. The return value goes back to R0 ([`KfuncRet`]):
//! integers narrower than 64 bits are **zero-extended** from their width (what the kernel's
//! zero-extension rule for 32-bit sub-registers gives a program), `bool` is 0 or 1.
//!
//! References (`&T`, `Option<&T>`) are checked before the function runs ([`ref_arg`]): NULL,
//! misaligned, or outside the memory the run may read ends the run with an error instead of
//! creating an invalid reference.

use kfvm_vm::CallCtx;
use std::fmt;

use crate::ctype::Callback;

/// A type a kfunc parameter can have: read from one register.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a kfunc parameter",
    note = "kfunc parameters are integers, bool, raw pointers, `&T`/`Option<&T>` to host types, or `Callback<fn(..) -> R>`: BPF passes each argument in one 64-bit register"
)]
pub trait KfuncArg: Sized {
    /// The parameter's value in register `r`.
    fn from_reg(r: u64) -> Self;
}

/// A type a kfunc can return in R0.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a kfunc return type",
    note = "kfuncs return `()`, integers, bool or raw pointers (`*mut T`)"
)]
pub trait KfuncRet: Sized {
    /// R0 for this value.
    fn into_reg(self) -> u64;
    /// Zero / NULL / false: what a kfunc returns when it ends the run with an error.
    fn zeroed() -> Self;
}

macro_rules! ints {
    ($($t:ty => $u:ty;)*) => {$(
        impl KfuncArg for $t {
            #[inline(always)]
            fn from_reg(r: u64) -> Self {
                r as $t
            }
        }
        impl KfuncRet for $t {
            #[inline(always)]
            fn into_reg(self) -> u64 {
                self as $u as u64
            }
            fn zeroed() -> Self {
                0
            }
        }
    )*};
}

ints! {
    u8 => u8; u16 => u16; u32 => u32; u64 => u64; usize => usize;
    i8 => u8; i16 => u16; i32 => u32; i64 => u64; isize => usize;
}

impl KfuncArg for bool {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        r as u8 != 0
    }
}

impl KfuncRet for bool {
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self as u64
    }
    fn zeroed() -> Self {
        false
    }
}

impl KfuncRet for () {
    #[inline(always)]
    fn into_reg(self) -> u64 {
        0
    }
    fn zeroed() -> Self {}
}

impl<T> KfuncArg for *mut T {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        r as usize as *mut T
    }
}

impl<T> KfuncArg for *const T {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        r as usize as *const T
    }
}

impl<T> KfuncRet for *mut T {
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self as usize as u64
    }
    fn zeroed() -> Self {
        core::ptr::null_mut()
    }
}

impl<T> KfuncRet for *const T {
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self as usize as u64
    }
    fn zeroed() -> Self {
        core::ptr::null()
    }
}

impl<F> KfuncArg for Callback<F> {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        Callback::from_raw(r)
    }
}

/// Why a reference argument was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefArgError {
    /// NULL where `&T` was expected.
    Null,
    /// Not aligned for `T`.
    Misaligned {
        /// The address.
        addr: u64,
        /// `align_of::<T>()`.
        align: usize,
    },
    /// `size_of::<T>()` bytes at the address are not memory the run may read.
    NotAccessible {
        /// The address.
        addr: u64,
        /// `size_of::<T>()`.
        size: usize,
    },
}

impl fmt::Display for RefArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefArgError::Null => f.write_str("NULL pointer"),
            RefArgError::Misaligned { addr, align } => {
                write!(f, "pointer {addr:#x} is not {align}-byte aligned")
            }
            RefArgError::NotAccessible { addr, size } => {
                write!(f, "{size} bytes at {addr:#x} are not memory the program may read")
            }
        }
    }
}

/// Reads a reference argument: `None` for NULL, an error for a pointer that is misaligned or
/// outside the run's readable memory ([`CallCtx::can_access`]).
///
/// The reference is only valid during the call (its lifetime is the caller's to pick: the
/// generated entry points never let it escape). Like any `&T`, it promises the object does not
/// change during the call except through interior mutability.
pub fn ref_arg<'a, T>(ctx: &CallCtx, r: u64) -> Result<Option<&'a T>, RefArgError> {
    if r == 0 {
        return Ok(None);
    }
    let align = core::mem::align_of::<T>();
    if r % align as u64 != 0 {
        return Err(RefArgError::Misaligned { addr: r, align });
    }
    let size = core::mem::size_of::<T>();
    if !ctx.can_access(r, size as u64, false) {
        return Err(RefArgError::NotAccessible { addr: r, size });
    }
    // SAFETY: non-NULL and aligned, and `can_access` says the `size_of::<T>()` bytes at `r` are
    // memory of this run (the stack or a region the host registered, alive for the whole run).
    Ok(Some(unsafe { &*(r as usize as *const T) }))
}

/// Ends the run because argument `argno` of kfunc `name` was refused; returns R0 = 0.
#[cold]
pub fn arg_fail(ctx: &mut CallCtx, name: &str, argno: usize, why: RefArgError) -> u64 {
    ctx.fail(format!("kfunc {name}: arg#{argno}: {why}"));
    0
}

/// The body of a kfunc the host declares but does not implement yet: ends the run with
/// `kfunc NAME is not implemented by this host yet` and returns zero.
#[cold]
pub fn not_implemented<R: KfuncRet>(ctx: &mut CallCtx, name: &str) -> R {
    ctx.fail(format!("kfunc {name} is not implemented by this host yet"));
    R::zeroed()
}
