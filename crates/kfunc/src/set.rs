//! Kfunc descriptors, ID sets (`BTF_KFUNCS_START` / `BTF_ID_FLAGS`) and hook filters.

use crate::annot::{param_annotations, ArgAnnots};
use crate::ctype::{CType, ParamDesc};
use crate::flags::{Deprecation, KfFlags};
use crate::prog::ProgInfo;
use kfvm_vm::HostFn;
use std::fmt;
use std::sync::Arc;

/// Everything kfvm knows about one kfunc, as `#[kfunc]` generates it (`my_fn::KFUNC`).
#[derive(Clone, Copy)]
pub struct KfuncDesc {
    /// The name programs call (`bpf_task_acquire`).
    pub name: &'static str,
    /// The BPF parameters (R1–R5), names with annotation suffixes.
    pub params: &'static [ParamDesc],
    /// The return type.
    pub ret: &'static CType,
    /// The flags `BTF_ID_FLAGS` gives it by default.
    pub flags: KfFlags,
    /// Set when the kfunc is deprecated.
    pub deprecation: Option<Deprecation>,
    /// The native entry point (R1–R5 in, R0 out).
    pub entry: HostFn,
    /// Where the Rust function lives (`kfvm_kernel::kfuncs::task::bpf_task_acquire`).
    pub rust_path: &'static str,
}

impl KfuncDesc {
    /// The annotations of each parameter, from its name.
    pub fn annotations(&self) -> impl Iterator<Item = ArgAnnots> + '_ {
        self.params.iter().map(|p| param_annotations(p.name))
    }
}

impl fmt::Debug for KfuncDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KfuncDesc")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("ret", &self.ret)
            .field("flags", &self.flags)
            .field("deprecation", &self.deprecation)
            .field("rust_path", &self.rust_path)
            .finish()
    }
}

/// One entry of a set: `BTF_ID_FLAGS(func, name, flags)`.
#[derive(Clone, Copy, Debug)]
pub struct SetEntry {
    /// The kfunc.
    pub kfunc: &'static KfuncDesc,
    /// Its flags in this set.
    pub flags: KfFlags,
}

/// What a hook filter decides for one (program, kfunc) pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FilterVerdict {
    /// No objection (the kernel filter returned 0).
    Visible,
    /// Hide the kfunc from this program at this hook (the kernel filter returned non-zero).
    Hidden,
}

/// The kfunc a filter is asked about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KfuncRef<'a> {
    /// Its BTF id in the host BTF.
    pub btf_id: u32,
    /// Its name.
    pub name: &'a str,
}

type FilterFn = dyn Fn(&ProgInfo, KfuncRef<'_>) -> FilterVerdict + Send + Sync;

/// A hook filter (`btf_kfunc_filter_t`): a host closure that can hide kfuncs from a program.
///
/// As in the kernel, a set's filter is attached to the *hook*, and every filter of a hook is
/// asked about every kfunc looked up through that hook, not only the kfuncs of its own set: a
/// filter must answer [`FilterVerdict::Visible`] for kfuncs it does not own (the kernel's filters
/// start with `if (!btf_id_set8_contains(&their_set, kfunc_id)) return 0;`). At most 16 distinct
/// filters per hook; registering the same filter (a clone) again does not count twice.
#[derive(Clone)]
pub struct KfuncFilter {
    name: Arc<str>,
    f: Arc<FilterFn>,
}

impl KfuncFilter {
    /// A filter named `name` (for messages and listings).
    pub fn new(
        name: impl Into<String>,
        f: impl Fn(&ProgInfo, KfuncRef<'_>) -> FilterVerdict + Send + Sync + 'static,
    ) -> Self {
        KfuncFilter { name: Arc::from(name.into()), f: Arc::new(f) }
    }

    /// The filter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Asks the filter.
    pub fn check(&self, prog: &ProgInfo, kfunc: KfuncRef<'_>) -> FilterVerdict {
        (self.f)(prog, kfunc)
    }

    /// Whether `other` is this same filter (a clone of it).
    pub fn same(&self, other: &KfuncFilter) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }
}

impl fmt::Debug for KfuncFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KfuncFilter({})", self.name)
    }
}

/// A kfunc ID set with its flags and optional filter (`struct btf_kfunc_id_set`).
///
/// [`KfuncSet::new`] is `BTF_KFUNCS_START(name)`: the set is marked as a kfunc set
/// (`BTF_SET8_KFUNCS`), which registration requires. [`KfuncSet::plain`] is a
/// `BTF_SET8_START` set without that mark, which registration refuses, as the kernel does.
#[derive(Clone, Debug)]
pub struct KfuncSet {
    name: String,
    is_kfunc_set: bool,
    entries: Vec<SetEntry>,
    filter: Option<KfuncFilter>,
}

impl KfuncSet {
    /// An empty kfunc set (`BTF_KFUNCS_START(name)`).
    pub fn new(name: impl Into<String>) -> Self {
        KfuncSet { name: name.into(), is_kfunc_set: true, entries: Vec::new(), filter: None }
    }

    /// An empty ID set *not* marked as a kfunc set (`BTF_SET8_START`): registering it fails.
    pub fn plain(name: impl Into<String>) -> Self {
        KfuncSet { is_kfunc_set: false, ..KfuncSet::new(name) }
    }

    /// Adds `kfunc` with its default flags (`BTF_ID_FLAGS(func, name, <its #[kfunc] flags>)`).
    pub fn kfunc(self, kfunc: &'static KfuncDesc) -> Self {
        self.kfunc_with_flags(kfunc, kfunc.flags)
    }

    /// Adds `kfunc` with `flags` for this set.
    pub fn kfunc_with_flags(mut self, kfunc: &'static KfuncDesc, flags: KfFlags) -> Self {
        self.entries.push(SetEntry { kfunc, flags });
        self
    }

    /// Attaches a filter (`.filter` of `struct btf_kfunc_id_set`).
    pub fn filter(mut self, filter: KfuncFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is marked as a kfunc set.
    pub fn is_kfunc_set(&self) -> bool {
        self.is_kfunc_set
    }

    /// The entries.
    pub fn entries(&self) -> &[SetEntry] {
        &self.entries
    }

    /// The filter.
    pub fn get_filter(&self) -> Option<&KfuncFilter> {
        self.filter.as_ref()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Builds a [`KfuncSet`] from `#[kfunc]` functions:
///
/// ```
/// # use kfvm_kfunc::{kfunc, kfunc_set};
/// # mod sub { #[kfvm_kfunc::kfunc] pub fn other() {} }
/// #[kfunc(acquire, ret_null)]
/// fn my_lookup(id: u64) -> *mut u64 { core::ptr::null_mut() }
/// #[kfunc(release)]
/// fn my_release(p: *mut u64) {}
/// fn main() {
///     let set = kfunc_set!(my_kfunc_ids { my_lookup, my_release, sub::other });
///     assert_eq!(set.len(), 3);
/// }
/// ```
///
/// Each name is a `#[kfunc]` function (its `KFUNC` descriptor is used, with its flags).
#[macro_export]
macro_rules! kfunc_set {
    ($name:ident { $($($seg:ident)::+),* $(,)? }) => {
        $crate::KfuncSet::new(::core::stringify!($name)) $(.kfunc(&$($seg)::+::KFUNC))*
    };
}
