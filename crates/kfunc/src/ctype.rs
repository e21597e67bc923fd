//! C types of host functions and host types, as `'static` data the macros generate and the
//! registry lowers into BTF.
//!
//! A [`CType`] is a tree of `&'static` references; host structs are reached through a function
//! ([`CType::Host`]) so self-referential types (`task_struct *real_parent`) are fine.
//! [`prim`] holds the kernel's integer types with their typedef chains (`u32` → `__u32` →
//! `unsigned int`), which is what real programs' BTF and `vmlinux.h` spell.

use std::fmt;
use std::marker::PhantomData;

/// The C type of a parameter, return value or member.
#[derive(Clone, Copy)]
pub enum CType {
    /// `void` (a return type, or behind a pointer).
    Void,
    /// A BTF INT.
    Int(IntType),
    /// A BTF FLOAT (host-type members only: kfuncs never take or return floats).
    Float {
        /// C name (`float`, `double`).
        name: &'static str,
        /// Size in bytes.
        size: u32,
    },
    /// A pointer.
    Ptr(&'static CType),
    /// An array of `len` elements.
    Array(&'static CType, u32),
    /// `const`.
    Const(&'static CType),
    /// `volatile`.
    Volatile(&'static CType),
    /// `__attribute__((btf_type_tag(tag)))` (`rcu`, `kptr`, `percpu_kptr`, `user`, ...).
    TypeTag(&'static str, &'static CType),
    /// A typedef.
    Typedef(&'static str, &'static CType),
    /// A host struct, union, enum, typedef or opaque type (`#[derive(HostType)]`).
    Host(fn() -> &'static HostTypeDesc),
    /// A function prototype (behind a pointer: a callback argument).
    FuncProto(&'static [ParamDesc], &'static CType),
}

impl fmt::Debug for CType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CType::Void => f.write_str("void"),
            CType::Int(i) => write!(f, "{}", i.name),
            CType::Float { name, .. } => f.write_str(name),
            CType::Ptr(t) => write!(f, "Ptr({t:?})"),
            CType::Array(t, n) => write!(f, "Array({t:?}, {n})"),
            CType::Const(t) => write!(f, "Const({t:?})"),
            CType::Volatile(t) => write!(f, "Volatile({t:?})"),
            CType::TypeTag(tag, t) => write!(f, "TypeTag({tag:?}, {t:?})"),
            CType::Typedef(n, _) => write!(f, "Typedef({n})"),
            CType::Host(h) => write!(f, "Host({})", h().name),
            CType::FuncProto(p, r) => write!(f, "FuncProto({p:?}) -> {r:?}"),
        }
    }
}

/// A BTF INT: name, size and encoding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IntType {
    /// C name (`unsigned int`, `_Bool`).
    pub name: &'static str,
    /// Size in bytes.
    pub size: u32,
    /// Signed (`BTF_INT_SIGNED`).
    pub signed: bool,
    /// `_Bool` (`BTF_INT_BOOL`).
    pub bool: bool,
}

/// A named parameter of a kfunc or of a callback prototype (the name may be empty).
#[derive(Clone, Copy, Debug)]
pub struct ParamDesc {
    /// The name, annotation suffix included (`buffer__szk`).
    pub name: &'static str,
    /// The type.
    pub ty: &'static CType,
}

/// A host type, as `#[derive(HostType)]` describes it.
#[derive(Debug)]
pub struct HostTypeDesc {
    /// The BTF (C) name: `task_struct`.
    pub name: &'static str,
    /// The Rust name: `TaskStruct`.
    pub rust_name: &'static str,
    /// What it is.
    pub kind: HostKind,
    /// `size_of` (0 for an opaque type).
    pub size: u32,
}

/// The kinds of host type.
#[derive(Debug)]
pub enum HostKind {
    /// A struct, with its members.
    Struct(&'static [MemberDesc]),
    /// A union, with its members.
    Union(&'static [MemberDesc]),
    /// An enum, with its enumerators.
    Enum(&'static [EnumeratorDesc]),
    /// A typedef of another type.
    Typedef(&'static CType),
    /// A type programs only point at: a BTF FWD (`struct name;`).
    Opaque,
}

/// A member of a host struct or union.
#[derive(Debug)]
pub struct MemberDesc {
    /// The C name (what CO-RE matches on).
    pub name: &'static str,
    /// Byte offset.
    pub offset: u32,
    /// The type.
    pub ty: &'static CType,
}

/// An enumerator of a host enum.
#[derive(Debug)]
pub struct EnumeratorDesc {
    /// The C name.
    pub name: &'static str,
    /// The value.
    pub value: i64,
}

/// A type with a C description: primitives, pointers, host types, callbacks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no C type for the host BTF",
    note = "host structs, unions and enums need `#[derive(HostType)]`; callbacks are `Callback<fn(..) -> R>`"
)]
pub trait BtfRepr {
    /// The C type.
    const CTYPE: CType;
}

/// A type `#[derive(HostType)]` describes.
pub trait HostType: BtfRepr {
    /// The description (a `static`: its address identifies the type).
    fn host_type() -> &'static HostTypeDesc;
}

/// The kernel's integer types, with the typedef chains of `vmlinux` BTF.
#[expect(missing_docs, reason = "each constant is named after its C type")]
pub mod prim {
    use super::{CType, IntType};

    const fn int(name: &'static str, size: u32, signed: bool) -> CType {
        CType::Int(IntType { name, size, signed, bool: false })
    }

    pub const CHAR: CType = int("char", 1, false);
    pub const SIGNED_CHAR: CType = int("signed char", 1, true);
    pub const UNSIGNED_CHAR: CType = int("unsigned char", 1, false);
    pub const SHORT: CType = int("short int", 2, true);
    pub const USHORT: CType = int("short unsigned int", 2, false);
    pub const INT: CType = int("int", 4, true);
    pub const UINT: CType = int("unsigned int", 4, false);
    pub const LONG: CType = int("long int", 8, true);
    pub const ULONG: CType = int("long unsigned int", 8, false);
    pub const LONGLONG: CType = int("long long int", 8, true);
    pub const ULONGLONG: CType = int("long long unsigned int", 8, false);
    pub const INT128: CType = int("__int128", 16, true);
    pub const UINT128: CType = int("__int128 unsigned", 16, false);
    pub const BOOL_: CType = CType::Int(IntType { name: "_Bool", size: 1, signed: false, bool: true });
    pub const FLOAT: CType = CType::Float { name: "float", size: 4 };
    pub const DOUBLE: CType = CType::Float { name: "double", size: 8 };

    pub const __U8: CType = CType::Typedef("__u8", &UNSIGNED_CHAR);
    pub const __U16: CType = CType::Typedef("__u16", &USHORT);
    pub const __U32: CType = CType::Typedef("__u32", &UINT);
    pub const __U64: CType = CType::Typedef("__u64", &ULONGLONG);
    pub const __S8: CType = CType::Typedef("__s8", &SIGNED_CHAR);
    pub const __S16: CType = CType::Typedef("__s16", &SHORT);
    pub const __S32: CType = CType::Typedef("__s32", &INT);
    pub const __S64: CType = CType::Typedef("__s64", &LONGLONG);
    pub const U8: CType = CType::Typedef("u8", &__U8);
    pub const U16: CType = CType::Typedef("u16", &__U16);
    pub const U32: CType = CType::Typedef("u32", &__U32);
    pub const U64: CType = CType::Typedef("u64", &__U64);
    pub const S8: CType = CType::Typedef("s8", &__S8);
    pub const S16: CType = CType::Typedef("s16", &__S16);
    pub const S32: CType = CType::Typedef("s32", &__S32);
    pub const S64: CType = CType::Typedef("s64", &__S64);
    pub const BOOL: CType = CType::Typedef("bool", &BOOL_);
    pub const __KERNEL_ULONG_T: CType = CType::Typedef("__kernel_ulong_t", &ULONG);
    pub const __KERNEL_SIZE_T: CType = CType::Typedef("__kernel_size_t", &__KERNEL_ULONG_T);
    pub const SIZE_T: CType = CType::Typedef("size_t", &__KERNEL_SIZE_T);
    pub const __KERNEL_LONG_T: CType = CType::Typedef("__kernel_long_t", &LONG);
    pub const __KERNEL_SSIZE_T: CType = CType::Typedef("__kernel_ssize_t", &__KERNEL_LONG_T);
    pub const SSIZE_T: CType = CType::Typedef("ssize_t", &__KERNEL_SSIZE_T);
    pub const __KERNEL_PID_T: CType = CType::Typedef("__kernel_pid_t", &INT);
    pub const PID_T: CType = CType::Typedef("pid_t", &__KERNEL_PID_T);
}

macro_rules! repr {
    ($($t:ty => $c:expr;)*) => {
        $(impl BtfRepr for $t { const CTYPE: CType = $c; })*
    };
}

// The Rust spelling decides the C one here; `#[kfunc]` and `#[derive(HostType)]` also map
// `c_int`, `c_long`, ... by name (see `kfvm-kfunc-macros`), which this trait cannot tell apart.
repr! {
    u8 => prim::U8;
    u16 => prim::U16;
    u32 => prim::U32;
    u64 => prim::U64;
    i8 => prim::S8;
    i16 => prim::S16;
    i32 => prim::S32;
    i64 => prim::S64;
    u128 => prim::UINT128;
    i128 => prim::INT128;
    usize => prim::SIZE_T;
    isize => prim::SSIZE_T;
    bool => prim::BOOL;
    f32 => prim::FLOAT;
    f64 => prim::DOUBLE;
    () => CType::Void;
    core::ffi::c_void => CType::Void;
}

impl<T: BtfRepr + ?Sized> BtfRepr for *mut T {
    const CTYPE: CType = CType::Ptr(&T::CTYPE);
}

impl<T: BtfRepr + ?Sized> BtfRepr for *const T {
    const CTYPE: CType = CType::Ptr(&CType::Const(&T::CTYPE));
}

impl<T: BtfRepr, const N: usize> BtfRepr for [T; N] {
    const CTYPE: CType = CType::Array(&T::CTYPE, N as u32);
}

/// A function signature usable as a BPF callback type: `fn(A, B) -> R` with up to five
/// parameters.
pub trait FnSig {
    /// The prototype (parameters unnamed).
    const PROTO: CType;
}

macro_rules! fn_sig {
    ($($a:ident),*) => {
        impl<$($a: BtfRepr,)* R: BtfRepr> FnSig for fn($($a),*) -> R {
            const PROTO: CType = CType::FuncProto(&[$(ParamDesc { name: "", ty: &$a::CTYPE }),*], &R::CTYPE);
        }
    };
}
fn_sig!();
fn_sig!(A);
fn_sig!(A, B);
fn_sig!(A, B, C);
fn_sig!(A, B, C, D);
fn_sig!(A, B, C, D, E);

/// A BPF callback argument (a BPF subprogram the kfunc may call back, such as the `less`
/// comparator of `bpf_rbtree_add_impl`): its BTF type is a pointer to the prototype `F`, and its
/// value is what the program passed (the callback's address as the verifier and runtime know it).
#[repr(transparent)]
pub struct Callback<F> {
    addr: u64,
    _sig: PhantomData<F>,
}

impl<F> Callback<F> {
    /// The callback as the program passed it.
    pub fn from_raw(addr: u64) -> Self {
        Callback { addr, _sig: PhantomData }
    }

    /// The value the program passed.
    pub fn addr(&self) -> u64 {
        self.addr
    }
}

impl<F> Clone for Callback<F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F> Copy for Callback<F> {}

impl<F> fmt::Debug for Callback<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Callback({:#x})", self.addr)
    }
}

impl<F: FnSig> BtfRepr for Callback<F> {
    const CTYPE: CType = CType::Ptr(&F::PROTO);
}
