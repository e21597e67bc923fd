//! The kfunc model: how a kfvm host exposes typed functions to BPF programs the way Linux 6.18
//! does (kernel Documentation/bpf/kfuncs.rst).
//!
//! - [`KfFlags`]: the `KF_*` flags with the kernel's values (plus the legacy `KF_KPTR_GET`), and
//!   [`Deprecation`], the concrete form of the documented-only `KF_DEPRECATED`.
//! - [`annot`]: argument annotations carried by parameter names (`__sz`, `__k`, `__nullable`,
//!   ...), as `btf_param_match_suffix()` reads them.
//! - [`prog`]: program types (`enum bpf_prog_type`), kfunc hooks (`enum btf_kfunc_hook`) and
//!   `bpf_prog_type_to_kfunc_hook()`.
//! - [`macro@kfunc`] and [`macro@HostType`]: define a kfunc from a Rust function (native entry point
//!   of type [`kfvm_vm::HostFn`], no boxing) and describe host types for BTF.
//! - [`KfuncSet`] (`BTF_KFUNCS_START`/`BTF_ID_FLAGS`), [`KfuncFilter`] (per-hook filters),
//!   [`KfuncRegistry`]: registration per program type with the kernel's checks, lookup
//!   ([`KfuncRegistry::btf_kfunc_id_set_contains`]), destructors, nested-pointer trust, and the
//!   host BTF blob that plays the role of `vmlinux` BTF.
//!
//! Adding a kfunc to a host:
//!
//! ```
//! use kfvm_kfunc::{kfunc, kfunc_set, BpfProgType, KfuncRegistry, ProgInfo};
//!
//! #[kfunc]
//! fn my_double(x: u64) -> u64 {
//!     x * 2
//! }
//!
//! fn main() {
//!     let mut reg = KfuncRegistry::new();
//!     reg.register_kfunc_id_set(BpfProgType::Unspec, &kfunc_set!(my_ids { my_double })).unwrap();
//!     assert_eq!(reg.c_prototype("my_double").unwrap(), "u64 my_double(u64 x)");
//!     assert!(reg.is_allowed("my_double", &ProgInfo::new(BpfProgType::Xdp)));
//! }
//! ```
//!
//! `#[kfunc]` functions are module-level items: the generated module reaches the function
//! through `super::`, which a function declared inside another function's body is not.
//!
//! What cannot be a kfunc does not compile. A struct by value (BPF passes one register per
//! argument):
//!
//! ```compile_fail
//! use kfvm_kfunc::{kfunc, HostType};
//! #[derive(HostType)]
//! #[repr(C)]
//! pub struct Pair { pub a: u64, pub b: u64 }
//! #[kfunc]
//! fn by_value(p: Pair) -> u64 { p.a }
//! ```
//!
//! A type with no C description (`#[derive(HostType)]` missing):
//!
//! ```compile_fail
//! use kfvm_kfunc::kfunc;
//! pub struct NotDescribed(u64);
//! #[kfunc]
//! fn f(p: *mut NotDescribed) {}
//! ```
//!
//! Six arguments, a float, `&mut T` (arguments may alias), a `String`:
//!
//! ```compile_fail
//! #[kfvm_kfunc::kfunc]
//! fn six(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64) {}
//! ```
//!
//! ```compile_fail
//! #[kfvm_kfunc::kfunc]
//! fn float(x: f64) {}
//! ```
//!
//! ```compile_fail
//! #[kfvm_kfunc::kfunc]
//! fn alias(x: &mut u64) {}
//! ```
//!
//! ```compile_fail
//! #[kfvm_kfunc::kfunc]
//! fn text(s: String) {}
//! ```
//!
//! A crate that depends on `kfvm` only writes `#[kfunc(crate = "kfvm::kfunc")]` and
//! `#[btf(crate = "kfvm::kfunc")]`.

#![deny(missing_docs)]

pub mod abi;
pub mod annot;
mod btf;
pub mod ctype;
mod flags;
pub mod prog;
mod registry;
mod set;
pub mod types;

pub use annot::{param_annotations, ArgAnnots};
pub use btf::{ProtoError, TypeError};
pub use ctype::{BtfRepr, CType, Callback, HostType, HostTypeDesc};
pub use flags::{BadVersion, Deprecation, KfFlags, UnknownFlag, Version, KF_NAMES};
pub use kfvm_kfunc_macros::{kfunc, HostType};
pub use kfvm_vm::{CallCtx, HostFn};
pub use prog::{bpf_prog_type_to_kfunc_hook, resolve_prog_type, BpfProgType, KfuncHook, ProgInfo};
pub use registry::{
    btf_type_ids_nocast_alias, DtorKfunc, KfuncRegistry, NestedTrust, RegisterError, RegisteredKfunc,
    Registration, BTF_KFUNC_FILTER_MAX_CNT, BTF_KFUNC_SET_MAX_CNT,
};
pub use set::{FilterVerdict, KfuncDesc, KfuncFilter, KfuncRef, KfuncSet, SetEntry};
