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
//! ```ignore
//! use kfvm_kfunc::{kfunc, kfunc_set, BpfProgType, KfuncRegistry};
//!
//! #[kfunc(ret_null)]
//! fn my_double(x: u64) -> u64 { x * 2 }
//!
//! let mut reg = KfuncRegistry::new();
//! reg.register_kfunc_id_set(BpfProgType::Unspec, &kfunc_set!(my_ids { my_double }))?;
//! ```

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
