//! Linking: binds a loaded object ([`kfvm_object::Object`]) to a host — kfuncs, kernel types,
//! Kconfig — the way `bpf_object__load()` does before `BPF_PROG_LOAD` (libbpf v1.6, the libbpf
//! of Linux 6.18).
//!
//! ```no_run
//! use kfvm_link::{link, Target};
//!
//! let obj = kfvm_object::Object::open("prog.bpf.o").unwrap();
//! let host = Target::from_registry(&kfvm_kernel::registry()).unwrap();
//! let linked = link(&obj, &host).unwrap();
//! for p in &linked.programs {
//!     for c in &p.kfunc_calls {
//!         println!("{}: insn {} calls {} (BTF id {:?})", p.name, c.insn, c.name, c.btf_id);
//!     }
//! }
//! ```
//!
//! [`link`] runs libbpf's steps in libbpf's order:
//!
//! 1. **Externs** ([`ResolvedExtern`], `bpf_object__resolve_externs`): `.kconfig` values into the
//!    `.kconfig` map; `__ksym` functions to the target's `FUNC`s by (essential) name with their
//!    prototypes compared by [`relo_core::types_are_compat`]; typed `__ksym` variables to its
//!    `VAR`s; typeless ones to symbol addresses. Strong misses fail with libbpf's message
//!    (`extern (func ksym) 'X': not found in kernel or module BTFs`); weak misses stay
//!    unresolved.
//! 2. **CO-RE** ([`relo_core`], `bpf_object__relocate_core`): every record of `.BTF.ext`, in file
//!    order, with one candidate cache for the object, patched into the function it belongs to
//!    (and so into every program that function was linked into). Programs that are not loaded
//!    by default (`SEC("?...")`) are relocated last, as libbpf skips them.
//! 3. **Data** (`bpf_object__relocate_data`): kfunc calls get `BPF_PSEUDO_KFUNC_CALL` and the
//!    target `FUNC` id (calls of an unresolved weak kfunc become libbpf's poison call
//!    `call 2002000000 + extern index`, [`POISON_CALL_KFUNC_BASE`]); typed ksym loads get
//!    `BPF_PSEUDO_BTF_ID`; `.kconfig` loads and map references keep *map indices*
//!    (`BPF_PSEUDO_MAP_IDX`/`BPF_PSEUDO_MAP_IDX_VALUE`, as libbpf's loader generator writes them)
//!    for the runtime to bind.
//!
//! The result, [`LinkedObject`], holds one [`LinkedProgram`] per program: instructions ready
//! for the verifier and the VM, the kfunc id of every call, the applied CO-RE relocations, and
//! func_info/line_info. Nothing panics on bad input; errors ([`LinkError`]) carry libbpf's errno
//! and words.

#![deny(missing_docs)]

mod externs;
mod linked;
pub mod relo_core;
mod target;

pub use externs::{ExternValue, ResolvedExtern};
pub use linked::{
    link, AppliedCore, KfuncCall, KsymLoad, LinkedObject, LinkedProgram, MapRef, POISON_CALL_KFUNC_BASE,
};
pub use relo_core::{CoreError, Errno, Log};
pub use target::{kernel_version, parse_kernel_release, Target, MODEL_KERNEL_VERSION};

/// Which step failed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LinkErrorKind {
    /// The object's BTF could not be read, or is missing where it is needed.
    Btf,
    /// An extern could not be resolved (or its Kconfig value is unusable).
    Extern,
    /// A CO-RE relocation failed (not poisoned: refused).
    Core,
}

/// Why an object could not be linked: libbpf's errno and its message.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{message}")]
pub struct LinkError {
    /// The step.
    pub kind: LinkErrorKind,
    /// The errno libbpf returns.
    pub errno: Errno,
    /// What is wrong, in libbpf's words (`extern (func ksym) 'bpf_foo': not found in kernel or
    /// module BTFs`, `prog 'p': relo #3: field offset ambiguity: 32 != 64`).
    pub message: String,
}

impl From<CoreError> for LinkError {
    fn from(e: CoreError) -> Self {
        LinkError { kind: LinkErrorKind::Core, errno: e.errno, message: e.message }
    }
}
