//! The kfunc registry: registration per program type (`register_btf_kfunc_id_set()`), lookup
//! (`btf_kfunc_id_set_contains()`), destructors, trust declarations, and the host BTF that plays
//! the role of `vmlinux` BTF.

use crate::btf::{Member, ProtoError, Ty, TypeError, TypeTable, LINKAGE_STATIC};
use crate::ctype::{CType, HostType, HostTypeDesc, ParamDesc};
use crate::flags::{Deprecation, KfFlags};
use crate::prog::{bpf_prog_type_to_kfunc_hook, resolve_prog_type, BpfProgType, KfuncHook, ProgInfo};
use crate::set::{FilterVerdict, KfuncDesc, KfuncFilter, KfuncRef, KfuncSet};
use kfvm_vm::{HostFn, HostFns};
use std::collections::HashMap;

/// `BTF_KFUNC_SET_MAX_CNT`: most kfuncs one hook's (merged) set may hold.
pub const BTF_KFUNC_SET_MAX_CNT: usize = 256;
/// `BTF_KFUNC_FILTER_MAX_CNT`: most distinct filters one hook may hold.
pub const BTF_KFUNC_FILTER_MAX_CNT: usize = 16;

const EINVAL: i32 = 22;
const E2BIG: i32 = 7;
const EEXIST: i32 = 17;

/// Why a registration was refused. Nothing of a refused registration stays in the registry.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum RegisterError {
    /// `register_btf_kfunc_id_set()`: the set lacks `BTF_SET8_KFUNCS`.
    #[error(
        "set {set}: not a kfunc set (the kernel requires BTF_KFUNCS_START; build it with KfuncSet::new)"
    )]
    NotKfuncSet {
        /// The set.
        set: String,
    },
    /// `btf_populate_kfunc_set()`: the program type maps to `BTF_KFUNC_HOOK_MAX`.
    #[error(
        "set {set}: program type {} has no kfunc hook in Linux 6.18 (bpf_prog_type_to_kfunc_hook)",
        prog_type.c_name()
    )]
    NoHook {
        /// The set.
        set: String,
        /// The program type.
        prog_type: BpfProgType,
    },
    /// A prototype the kernel's registration checks (or one-register arguments) refuse.
    #[error("kfunc {kfunc}{}: {problem}", set.as_ref().map(|s| format!(" (set {s})")).unwrap_or_default())]
    Proto {
        /// The set, if the kfunc was being registered in one.
        set: Option<String>,
        /// The kfunc.
        kfunc: String,
        /// What is wrong.
        problem: ProtoError,
    },
    /// A type of the prototype could not be added.
    #[error("kfunc {kfunc}: {problem}")]
    Type {
        /// The kfunc (or type) being added.
        kfunc: String,
        /// What is wrong.
        problem: TypeError,
    },
    /// The hook's merged set would exceed `BTF_KFUNC_SET_MAX_CNT`.
    #[error("set {set}: hook {hook} would hold {count} kfuncs, more than BTF_KFUNC_SET_MAX_CNT ({BTF_KFUNC_SET_MAX_CNT})")]
    TooManyKfuncs {
        /// The set.
        set: String,
        /// The hook.
        hook: KfuncHook,
        /// How many it would hold.
        count: usize,
    },
    /// The hook already has `BTF_KFUNC_FILTER_MAX_CNT` filters.
    #[error(
        "set {set}: hook {hook} already has BTF_KFUNC_FILTER_MAX_CNT ({BTF_KFUNC_FILTER_MAX_CNT}) filters"
    )]
    TooManyFilters {
        /// The set.
        set: String,
        /// The hook.
        hook: KfuncHook,
    },
    /// Two different functions under one name.
    #[error("kfunc {name}: already declared by {first}, now by {second}")]
    DuplicateName {
        /// The name.
        name: String,
        /// The first definition (Rust path, or what it is).
        first: String,
        /// The second.
        second: String,
    },
    /// The same kfunc in one hook with two different flag sets.
    #[error("kfunc {kfunc}: registered in hook {hook} with flags {first} and again with {second}")]
    FlagConflict {
        /// The kfunc.
        kfunc: String,
        /// The hook.
        hook: KfuncHook,
        /// The flags already registered.
        first: KfFlags,
        /// The new flags.
        second: KfFlags,
    },
    /// A type has a destructor already.
    #[error("type {ty}: already has the destructor {first}")]
    DuplicateDtor {
        /// The type.
        ty: String,
        /// The destructor already registered.
        first: String,
    },
    /// A trust declaration names a field that is not a pointer member of the type.
    #[error("{ty}{suffix}: {problem}")]
    Trust {
        /// The type.
        ty: String,
        /// `__safe_rcu`, ...
        suffix: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl RegisterError {
    /// The errno the kernel returns for the same refusal (`EINVAL`, `E2BIG`, `EEXIST`).
    pub fn errno(&self) -> i32 {
        match self {
            RegisterError::TooManyKfuncs { .. } | RegisterError::TooManyFilters { .. } => E2BIG,
            RegisterError::DuplicateName { .. } | RegisterError::DuplicateDtor { .. } => EEXIST,
            _ => EINVAL,
        }
    }
}

/// One registration of a kfunc: the set it came in, the program type the set was registered
/// for, the hook that resolved to, and the flags there.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Registration {
    /// The set's name (`generic_btf_ids`).
    pub set: String,
    /// The program type passed to `register_btf_kfunc_id_set()`.
    pub prog_type: BpfProgType,
    /// The hook.
    pub hook: KfuncHook,
    /// The flags in that set.
    pub flags: KfFlags,
}

/// A kfunc (or destructor function) in the host BTF.
#[derive(Clone, Debug)]
pub struct RegisteredKfunc {
    desc: &'static KfuncDesc,
    btf_id: u32,
    proto_id: u32,
    is_kfunc: bool,
    fastcall_tagged: bool,
    registrations: Vec<Registration>,
}

impl RegisteredKfunc {
    /// Its name.
    pub fn name(&self) -> &'static str {
        self.desc.name
    }

    /// The id of its FUNC in the host BTF: the `imm` of a `call` to it, and the key of its
    /// native entry point.
    pub fn btf_id(&self) -> u32 {
        self.btf_id
    }

    /// The id of its FUNC_PROTO.
    pub fn proto_id(&self) -> u32 {
        self.proto_id
    }

    /// Its descriptor.
    pub fn desc(&self) -> &'static KfuncDesc {
        self.desc
    }

    /// Its deprecation, if any.
    pub fn deprecation(&self) -> Option<&Deprecation> {
        self.desc.deprecation.as_ref()
    }

    /// The native entry point.
    pub fn entry(&self) -> HostFn {
        self.desc.entry
    }

    /// Whether it is in a kfunc set (tagged `bpf_kfunc` in BTF). Destructor functions that are
    /// not kfuncs are in the BTF too, untagged, as in `vmlinux`.
    pub fn is_kfunc(&self) -> bool {
        self.is_kfunc
    }

    /// Every registration, in order.
    pub fn registrations(&self) -> &[Registration] {
        &self.registrations
    }

    /// The hooks it is registered in, in the kernel's hook order, without repeats.
    pub fn hooks(&self) -> Vec<KfuncHook> {
        let mut hooks: Vec<KfuncHook> = self.registrations.iter().map(|r| r.hook).collect();
        hooks.sort();
        hooks.dedup();
        hooks
    }

    /// The flags of its first registration (the kernel reports the flags of the hook a lookup
    /// found it in: see [`KfuncRegistry::btf_kfunc_id_set_contains`]).
    pub fn flags(&self) -> KfFlags {
        self.registrations.first().map(|r| r.flags).unwrap_or(self.desc.flags)
    }
}

/// What a nested-pointer trust declaration makes of a field (kernel/bpf/verifier.c
/// `BTF_TYPE_SAFE_RCU` and friends; the kernel emits shadow structs `<type>__safe_rcu` etc.).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NestedTrust {
    /// `__safe_rcu`: MEM_RCU, non-NULL, inside an RCU critical section.
    Rcu,
    /// `__safe_rcu_or_null`: MEM_RCU | PTR_MAYBE_NULL.
    RcuOrNull,
    /// `__safe_trusted`: PTR_TRUSTED, even outside RCU.
    Trusted,
    /// `__safe_trusted_or_null`: PTR_TRUSTED | PTR_MAYBE_NULL.
    TrustedOrNull,
}

impl NestedTrust {
    /// All four, in the order `check_ptr_to_btf_access()` consults them.
    pub const ALL: [NestedTrust; 4] =
        [NestedTrust::Trusted, NestedTrust::TrustedOrNull, NestedTrust::Rcu, NestedTrust::RcuOrNull];

    /// The shadow struct suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            NestedTrust::Rcu => "__safe_rcu",
            NestedTrust::RcuOrNull => "__safe_rcu_or_null",
            NestedTrust::Trusted => "__safe_trusted",
            NestedTrust::TrustedOrNull => "__safe_trusted_or_null",
        }
    }
}

/// A destructor: `register_btf_id_dtor_kfuncs()` pairs (`BTF_ID_LIST` of type, function).
#[derive(Clone, Copy, Debug)]
pub struct DtorKfunc {
    /// The kptr-storable type.
    pub ty: fn() -> &'static HostTypeDesc,
    /// Its destructor: `void dtor(void *p)` (any pointer parameter).
    pub dtor: &'static KfuncDesc,
}

impl DtorKfunc {
    /// `dtor` destroys objects of type `T`.
    pub fn new<T: HostType>(dtor: &'static KfuncDesc) -> Self {
        DtorKfunc { ty: T::host_type, dtor }
    }
}

#[derive(Clone, Default, Debug)]
struct HookTab {
    /// (FUNC id, flags), sorted by id.
    set: Vec<(u32, KfFlags)>,
    filters: Vec<KfuncFilter>,
    sets: Vec<String>,
}

/// The registry of a host's kfuncs and types: the host's answer to `vmlinux` BTF and the
/// kernel's `btf->kfunc_set_tab`.
///
/// ```
/// # use kfvm_kfunc::{kfunc, kfunc_set, BpfProgType, KfuncRegistry};
/// # #[kfunc] fn my_kfunc(x: u32) -> u32 { x }
/// # fn main() {
/// let mut reg = KfuncRegistry::new();
/// reg.register_kfunc_id_set(BpfProgType::Tracing, &kfunc_set!(my_ids { my_kfunc })).unwrap();
/// let btf: Vec<u8> = reg.btf(); // the host BTF (types, FUNCs tagged "bpf_kfunc")
/// let fns = reg.host_fns(); // BTF id -> native entry, for kfvm_vm::Program::load
/// let id = reg.kfunc("my_kfunc").unwrap().btf_id(); // the `imm` of `call my_kfunc`
/// # let _ = (btf, fns, id);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct KfuncRegistry {
    types: TypeTable,
    kfuncs: Vec<RegisteredKfunc>,
    by_name: HashMap<&'static str, usize>,
    by_id: HashMap<u32, usize>,
    hooks: Vec<HookTab>,
    dtors: Vec<(u32, u32)>,
    rcu_protected: Vec<u32>,
}

impl Default for KfuncRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl KfuncRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        KfuncRegistry {
            types: TypeTable::default(),
            kfuncs: Vec::new(),
            by_name: HashMap::new(),
            by_id: HashMap::new(),
            hooks: vec![HookTab::default(); KfuncHook::MAX],
            dtors: Vec::new(),
            rcu_protected: Vec::new(),
        }
    }

    /// Adds `desc`'s FUNC and FUNC_PROTO (and the types they use) if missing; its index.
    fn declare(&mut self, desc: &'static KfuncDesc) -> Result<usize, RegisterError> {
        if let Some(&i) = self.by_name.get(desc.name) {
            let existing = self.kfuncs[i].desc;
            if std::ptr::eq(existing, desc) {
                return Ok(i);
            }
            return Err(RegisterError::DuplicateName {
                name: desc.name.to_owned(),
                first: existing.rust_path.to_owned(),
                second: desc.rust_path.to_owned(),
            });
        }
        if self.types.ordinary_id(desc.name).is_some() {
            return Err(RegisterError::DuplicateName {
                name: desc.name.to_owned(),
                first: "a typedef of the host BTF".to_owned(),
                second: desc.rust_path.to_owned(),
            });
        }
        let type_err = |problem| RegisterError::Type { kfunc: desc.name.to_owned(), problem };
        let ret = self.types.lower(desc.ret).map_err(type_err)?;
        let mut params = Vec::with_capacity(desc.params.len());
        for p in desc.params {
            params.push((p.name.to_owned(), self.types.lower(p.ty).map_err(type_err)?));
        }
        let proto_id = self.types.lower_proto(ret, params);
        let btf_id =
            self.types.add(Ty::Func { name: desc.name.to_owned(), proto: proto_id, linkage: LINKAGE_STATIC });
        self.types.register_ordinary(desc.name, btf_id);
        let i = self.kfuncs.len();
        self.kfuncs.push(RegisteredKfunc {
            desc,
            btf_id,
            proto_id,
            is_kfunc: false,
            fastcall_tagged: false,
            registrations: Vec::new(),
        });
        self.by_name.insert(desc.name, i);
        self.by_id.insert(btf_id, i);
        Ok(i)
    }

    /// `register_btf_kfunc_id_set(prog_type, set)`: checks every prototype
    /// (`btf_check_kfunc_protos()`), then merges the set into the hook of `prog_type`
    /// (`BpfProgType::Unspec` is the COMMON hook) and adds its filter to the hook's filters.
    ///
    /// All or nothing: on error the registry is unchanged.
    pub fn register_kfunc_id_set(
        &mut self,
        prog_type: BpfProgType,
        set: &KfuncSet,
    ) -> Result<(), RegisterError> {
        if !set.is_kfunc_set() {
            return Err(RegisterError::NotKfuncSet { set: set.name().to_owned() });
        }
        let mut staged = self.clone();
        let mut ids = Vec::with_capacity(set.len());
        for e in set.entries() {
            let i = staged.declare(e.kfunc)?;
            let k = &staged.kfuncs[i];
            staged.types.check_kfunc_proto(k.btf_id, e.flags).map_err(|problem| RegisterError::Proto {
                set: Some(set.name().to_owned()),
                kfunc: e.kfunc.name.to_owned(),
                problem,
            })?;
            staged.tag_kfunc(i, e.flags);
            ids.push((i, e.flags));
        }
        let Some(hook) = bpf_prog_type_to_kfunc_hook(prog_type) else {
            return Err(RegisterError::NoHook { set: set.name().to_owned(), prog_type });
        };
        if !set.is_empty() {
            let tab = &mut staged.hooks[hook as usize];
            if let Some(f) = set.get_filter() {
                if !tab.filters.iter().any(|g| g.same(f)) {
                    if tab.filters.len() == BTF_KFUNC_FILTER_MAX_CNT {
                        return Err(RegisterError::TooManyFilters { set: set.name().to_owned(), hook });
                    }
                    tab.filters.push(f.clone());
                }
            }
            let count = tab.set.len() + set.len();
            if count > BTF_KFUNC_SET_MAX_CNT {
                return Err(RegisterError::TooManyKfuncs { set: set.name().to_owned(), hook, count });
            }
            for &(i, flags) in &ids {
                let id = staged.kfuncs[i].btf_id;
                match tab.set.iter().find(|(k, _)| *k == id) {
                    Some(&(_, first)) if first != flags => {
                        return Err(RegisterError::FlagConflict {
                            kfunc: staged.kfuncs[i].name().to_owned(),
                            hook,
                            first,
                            second: flags,
                        })
                    }
                    Some(_) => {}
                    None => tab.set.push((id, flags)),
                }
            }
            tab.set.sort_by_key(|(id, _)| *id);
            tab.sets.push(set.name().to_owned());
            for &(i, flags) in &ids {
                staged.kfuncs[i].registrations.push(Registration {
                    set: set.name().to_owned(),
                    prog_type,
                    hook,
                    flags,
                });
            }
        }
        *self = staged;
        Ok(())
    }

    /// Tags a FUNC as a kfunc (`DECL_TAG "bpf_kfunc"`, and `"bpf_fastcall"` for KF_FASTCALL),
    /// as pahole does for functions in kfunc sets.
    fn tag_kfunc(&mut self, i: usize, flags: KfFlags) {
        let k = &mut self.kfuncs[i];
        let id = k.btf_id;
        if !k.is_kfunc {
            k.is_kfunc = true;
            self.types.add(Ty::DeclTag { name: "bpf_kfunc".to_owned(), ty: id, component: -1 });
        }
        let k = &mut self.kfuncs[i];
        if flags.contains(KfFlags::FASTCALL) && !k.fastcall_tagged {
            k.fastcall_tagged = true;
            self.types.add(Ty::DeclTag { name: "bpf_fastcall".to_owned(), ty: id, component: -1 });
        }
    }

    /// Declares `desc` in the host BTF without registering it in any hook (the kernel has such
    /// functions: tagged kfuncs compiled in but registered only under some configuration).
    /// Its prototype is checked as for registration with its default flags.
    pub fn declare_kfunc(&mut self, desc: &'static KfuncDesc) -> Result<u32, RegisterError> {
        let mut staged = self.clone();
        let i = staged.declare(desc)?;
        let id = staged.kfuncs[i].btf_id;
        staged.types.check_kfunc_proto(id, desc.flags).map_err(|problem| RegisterError::Proto {
            set: None,
            kfunc: desc.name.to_owned(),
            problem,
        })?;
        staged.tag_kfunc(i, desc.flags);
        *self = staged;
        Ok(id)
    }

    /// Declares an ordinary kernel function (no kfunc: untagged, in no hook) in the host BTF, as
    /// `vmlinux` has every function: the `FUNC` that `fentry/`, `fexit/` and `fmod_ret/` programs
    /// attach to (`attach_btf_id`) and whose prototype types their context. Returns its id.
    pub fn declare_function(
        &mut self,
        name: &'static str,
        ret: &'static CType,
        params: &'static [ParamDesc],
    ) -> Result<u32, RegisterError> {
        if self.types.ordinary_id(name).is_some() || self.by_name.contains_key(name) {
            return Err(RegisterError::DuplicateName {
                name: name.to_owned(),
                first: "the host BTF".to_owned(),
                second: "a kernel function".to_owned(),
            });
        }
        let mut staged = self.clone();
        let type_err = |problem| RegisterError::Type { kfunc: name.to_owned(), problem };
        let ret = staged.types.lower(ret).map_err(type_err)?;
        let mut lowered = Vec::with_capacity(params.len());
        for p in params {
            lowered.push((p.name.to_owned(), staged.types.lower(p.ty).map_err(type_err)?));
        }
        let proto_id = staged.types.lower_proto(ret, lowered);
        let id =
            staged.types.add(Ty::Func { name: name.to_owned(), proto: proto_id, linkage: LINKAGE_STATIC });
        staged.types.register_ordinary(name, id);
        *self = staged;
        Ok(id)
    }

    /// `register_btf_id_dtor_kfuncs()`: destructors for kptr-storable types, each checked by
    /// `btf_check_dtor_kfuncs()` (`void dtor(T *)`). All or nothing.
    pub fn register_dtor_kfuncs(&mut self, dtors: &[DtorKfunc]) -> Result<(), RegisterError> {
        let mut staged = self.clone();
        for d in dtors {
            let desc = (d.ty)();
            let ty = staged
                .types
                .lower_host(desc)
                .map_err(|problem| RegisterError::Type { kfunc: d.dtor.name.to_owned(), problem })?;
            let i = staged.declare(d.dtor)?;
            let fid = staged.kfuncs[i].btf_id;
            staged.types.check_dtor_proto(fid).map_err(|problem| RegisterError::Proto {
                set: None,
                kfunc: d.dtor.name.to_owned(),
                problem,
            })?;
            if let Some(&(_, first)) = staged.dtors.iter().find(|(t, _)| *t == ty) {
                return Err(RegisterError::DuplicateDtor {
                    ty: desc.name.to_owned(),
                    first: staged.kfuncs[staged.by_id[&first]].name().to_owned(),
                });
            }
            staged.dtors.push((ty, fid));
        }
        staged.dtors.sort();
        *self = staged;
        Ok(())
    }

    /// `btf_find_dtor_kfunc()`: the FUNC id of the destructor of type `type_btf_id`.
    pub fn find_dtor_kfunc(&self, type_btf_id: u32) -> Option<u32> {
        self.dtors.iter().find(|(t, _)| *t == type_btf_id).map(|(_, f)| *f)
    }

    /// Adds a host type (and everything it refers to) to the host BTF; its id.
    pub fn add_type<T: HostType>(&mut self) -> Result<u32, RegisterError> {
        let desc = T::host_type();
        self.types
            .lower_host(desc)
            .map_err(|problem| RegisterError::Type { kfunc: desc.name.to_owned(), problem })
    }

    /// The id of the struct, union, enum (or forward declaration) named `name`.
    pub fn type_id(&self, name: &str) -> Option<u32> {
        self.types.tag_id(name)
    }

    /// The id of the typedef named `name`.
    pub fn typedef_id(&self, name: &str) -> Option<u32> {
        self.types.ordinary_id(name).filter(|id| matches!(self.types.get(*id), Some(Ty::Typedef { .. })))
    }

    /// Declares which pointer fields of `T` keep their trust when a program walks them: emits
    /// the shadow struct `<T>__safe_rcu` (etc.) whose members are those fields, with the same
    /// names and types, as the kernel's `BTF_TYPE_SAFE_RCU(struct T) { ... }` does.
    pub fn declare_nested_trust<T: HostType>(
        &mut self,
        kind: NestedTrust,
        fields: &[&str],
    ) -> Result<(), RegisterError> {
        let desc = T::host_type();
        let suffix = kind.suffix();
        let terr = |problem: String| RegisterError::Trust { ty: desc.name.to_owned(), suffix, problem };
        let mut staged = self.clone();
        let id = staged
            .types
            .lower_host(desc)
            .map_err(|problem| RegisterError::Type { kfunc: desc.name.to_owned(), problem })?;
        let Some(Ty::Struct { members, .. } | Ty::Union { members, .. }) = staged.types.get(id) else {
            return Err(terr(format!("{} is not a struct or union", desc.name)));
        };
        let mut shadow = Vec::with_capacity(fields.len());
        for (i, f) in fields.iter().enumerate() {
            let Some(m) = members.iter().find(|m| m.name == *f) else {
                return Err(terr(format!("struct {} has no member `{f}`", desc.name)));
            };
            if !matches!(staged.types.get(m.ty), Some(Ty::Ptr(_))) {
                return Err(terr(format!("member `{f}` is {}, not a pointer", staged.types.type_str(m.ty))));
            }
            shadow.push(Member { name: m.name.clone(), ty: m.ty, bit_offset: i as u32 * 64 });
        }
        let name = format!("{}{suffix}", desc.name);
        if staged.types.tag_id(&name).is_some() {
            return Err(terr("declared twice".to_owned()));
        }
        let sid = staged.types.add(Ty::Struct {
            name: name.clone(),
            size: fields.len() as u32 * 8,
            members: shadow,
        });
        staged.types.register_tag(&name, sid);
        *self = staged;
        Ok(())
    }

    /// `btf_nested_type_is_trusted()`: whether walking member `field_name` (whose pointee is type
    /// `field_btf_id`) of struct `walk_type_id` is declared `kind`.
    pub fn btf_nested_type_is_trusted(
        &self,
        walk_type_id: u32,
        field_name: &str,
        field_btf_id: u32,
        kind: NestedTrust,
    ) -> bool {
        let walk = self.types.skip_modifiers(walk_type_id);
        let Some(Ty::Struct { name, .. } | Ty::Union { name, .. }) = self.types.get(walk) else {
            return false;
        };
        let Some(safe_id) = self.types.tag_id(&format!("{name}{}", kind.suffix())) else { return false };
        let Some(Ty::Struct { members, .. }) = self.types.get(safe_id) else { return false };
        members.iter().any(|m| {
            let Some(Ty::Ptr(p)) = self.types.get(m.ty) else { return false };
            self.types.skip_modifiers(*p) == field_btf_id && m.name == field_name
        })
    }

    /// The trust declared for member `field` of the struct named `ty`, by name.
    pub fn nested_trust(&self, ty: &str, field: &str) -> Option<NestedTrust> {
        let id = self.types.tag_id(ty)?;
        let Some(Ty::Struct { members, .. } | Ty::Union { members, .. }) = self.types.get(id) else {
            return None;
        };
        let m = members.iter().find(|m| m.name == field)?;
        let Some(Ty::Ptr(p)) = self.types.get(m.ty) else { return None };
        let pointee = self.types.skip_modifiers(*p);
        NestedTrust::ALL.into_iter().find(|k| self.btf_nested_type_is_trusted(id, field, pointee, *k))
    }

    /// Adds `T` to `rcu_protected_types`: referenced kptrs of this type may be read under RCU
    /// (they load as MEM_RCU).
    pub fn add_rcu_protected_type<T: HostType>(&mut self) -> Result<(), RegisterError> {
        let id = self.add_type::<T>()?;
        if !self.rcu_protected.contains(&id) {
            self.rcu_protected.push(id);
        }
        Ok(())
    }

    /// `rcu_protected_object()`: whether type `btf_id` is in `rcu_protected_types`.
    pub fn is_rcu_protected_type(&self, btf_id: u32) -> bool {
        self.rcu_protected.contains(&self.types.skip_modifiers(btf_id))
    }

    /// `btf_type_ids_nocast_alias()` for two host types: their names are `X` and `X___init`.
    pub fn nocast_alias(&self, id1: u32, id2: u32) -> bool {
        let name = |id| self.types.get(self.types.skip_modifiers(id)).map(|t| t.name().to_owned());
        match (name(id1), name(id2)) {
            (Some(a), Some(b)) => btf_type_ids_nocast_alias(&a, &b),
            _ => false,
        }
    }

    /// `btf_kfunc_id_set_contains()`: the flags under which program `prog` may call the kfunc
    /// whose FUNC id is `btf_id`, or `None` (the verifier's "calling kernel function %s is not
    /// allowed"). The COMMON hook first, then the hook of `resolve_prog_type(prog)`; at each hook
    /// every filter runs first and any `Hidden` hides the kfunc at that hook.
    pub fn btf_kfunc_id_set_contains(&self, btf_id: u32, prog: &ProgInfo) -> Option<KfFlags> {
        if let Some(f) = self.hook_contains(KfuncHook::Common, btf_id, prog) {
            return Some(f);
        }
        let hook = bpf_prog_type_to_kfunc_hook(resolve_prog_type(prog))?;
        self.hook_contains(hook, btf_id, prog)
    }

    /// `__btf_kfunc_id_set_contains()` for one hook.
    fn hook_contains(&self, hook: KfuncHook, btf_id: u32, prog: &ProgInfo) -> Option<KfFlags> {
        let tab = &self.hooks[hook as usize];
        let name = self.by_id.get(&btf_id).map(|&i| self.kfuncs[i].name()).unwrap_or("");
        let kref = KfuncRef { btf_id, name };
        if tab.filters.iter().any(|f| f.check(prog, kref) == FilterVerdict::Hidden) {
            return None;
        }
        tab.set.binary_search_by_key(&btf_id, |(id, _)| *id).ok().map(|i| tab.set[i].1)
    }

    /// Whether `prog` may call the kfunc named `name`.
    pub fn is_allowed(&self, name: &str, prog: &ProgInfo) -> bool {
        self.kfunc(name).is_some_and(|k| self.btf_kfunc_id_set_contains(k.btf_id, prog).is_some())
    }

    /// The program types that may call the kfunc whose FUNC id is `btf_id`, each asked as a
    /// program with nothing else known ([`ProgInfo::new`]; filters see that too).
    pub fn allowed_prog_types(&self, btf_id: u32) -> Vec<BpfProgType> {
        BpfProgType::ALL
            .iter()
            .copied()
            .filter(|t| self.btf_kfunc_id_set_contains(btf_id, &ProgInfo::new(*t)).is_some())
            .collect()
    }

    /// The kfunc named `name` (or a destructor function).
    pub fn kfunc(&self, name: &str) -> Option<&RegisteredKfunc> {
        self.by_name.get(name).map(|&i| &self.kfuncs[i])
    }

    /// The kfunc whose FUNC id is `btf_id`.
    pub fn kfunc_by_id(&self, btf_id: u32) -> Option<&RegisteredKfunc> {
        self.by_id.get(&btf_id).map(|&i| &self.kfuncs[i])
    }

    /// Every function in the host BTF (kfuncs and destructors), in declaration order.
    pub fn kfuncs(&self) -> impl Iterator<Item = &RegisteredKfunc> {
        self.kfuncs.iter()
    }

    /// A hook's merged set: (FUNC id, flags), sorted by id.
    pub fn hook_set(&self, hook: KfuncHook) -> &[(u32, KfFlags)] {
        &self.hooks[hook as usize].set
    }

    /// A hook's filters.
    pub fn hook_filters(&self, hook: KfuncHook) -> &[KfuncFilter] {
        &self.hooks[hook as usize].filters
    }

    /// The native entry point of the function whose FUNC id is `btf_id`.
    pub fn entry(&self, btf_id: u32) -> Option<HostFn> {
        self.kfunc_by_id(btf_id).map(|k| k.entry())
    }

    /// Every kfunc's entry point under its BTF id, for `kfvm_vm::Program::load`.
    pub fn host_fns(&self) -> HostFns {
        let mut fns = HostFns::new();
        for k in self.kfuncs.iter().filter(|k| k.is_kfunc) {
            fns.kfunc(k.btf_id as i32, k.entry());
        }
        fns
    }

    /// The host BTF: every type and function, in id order.
    pub fn btf(&self) -> Vec<u8> {
        match self.types.encode() {
            Ok(bytes) => bytes,
            // Lowering refuses what BTF cannot count (TypeError::TooManyMembers), and kfuncs
            // have at most 5 parameters, so the builder has nothing to refuse.
            Err(e) => unreachable!("kfvm bug: host BTF not encodable: {e}"),
        }
    }

    /// The host BTF parsed and validated by `kfvm-btf`: what the linker resolves `__ksym`
    /// externs and CO-RE relocations against, and the verifier reads kfunc prototypes from.
    pub fn parsed_btf(&self) -> Result<kfvm_btf::Btf, kfvm_btf::BtfError> {
        kfvm_btf::Btf::from_vec(self.btf())
    }

    /// Number of types in the host BTF (the largest id).
    pub fn btf_type_count(&self) -> u32 {
        self.types.len()
    }

    /// The C spelling of type `btf_id` (`struct task_struct *`).
    pub fn type_str(&self, btf_id: u32) -> String {
        self.types.type_str(btf_id)
    }

    /// The C prototype of the kfunc named `name`, as bpftool prints it:
    /// `struct task_struct *bpf_task_acquire(struct task_struct *p)`.
    pub fn c_prototype(&self, name: &str) -> Option<String> {
        let k = self.kfunc(name)?;
        Some(self.types.decl(k.btf_id, ""))
    }

    /// The host BTF listed as `bpftool btf dump file F` prints it (`[3] PTR '(anon)' type_id=2`).
    pub fn btf_text(&self) -> Result<String, kfvm_btf::BtfError> {
        Ok(kfvm_btf::dump_raw(&self.parsed_btf()?))
    }

    /// The host BTF as a C header, the host's `vmlinux.h`: every type as
    /// `bpftool btf dump file F format c` prints it, then `extern <prototype> __weak __ksym;` for
    /// every kfunc (as bpftool 7.5+ adds them), deprecated ones also carrying
    /// `__attribute__((deprecated("...")))` so the compiler warns where they are called.
    pub fn c_header(&self) -> Result<String, kfvm_btf::BtfError> {
        let btf = self.parsed_btf()?;
        let opts = kfvm_btf::CDumpOptions { kfuncs: true, ..Default::default() };
        let mut out = kfvm_btf::dump_c(&btf, &opts)?;
        for k in self.kfuncs.iter().filter(|k| k.is_kfunc) {
            let Some(d) = k.deprecation() else { continue };
            let decl = kfvm_btf::c_decl(&btf, k.proto_id, k.name())?;
            let msg = d.to_string().replace('\\', "\\\\").replace('"', "\\\"");
            let line = format!("{decl} __weak __ksym;\n");
            let with = format!("{decl} __weak __ksym __attribute__((deprecated(\"{msg}\")));\n");
            out = out.replacen(&line, &with, 1);
        }
        Ok(out)
    }
}

/// `btf_type_ids_nocast_alias()` by name: `X` and `X___init` (either order) are the same type to
/// the walk but must not be cast into each other, so the verifier matches them strictly.
pub fn btf_type_ids_nocast_alias(name1: &str, name2: &str) -> bool {
    const SUFFIX: &str = "___init";
    let (short, long) = if name1.len() < name2.len() { (name1, name2) } else { (name2, name1) };
    long.len() - short.len() == SUFFIX.len() && long.ends_with(SUFFIX) && long.starts_with(short)
}
