//! The host BTF type table: lowering [`CType`]s into BTF types, the kernel's registration-time
//! prototype checks over them, C declarations, and the BTF encoding.
//!
//! Ids are assigned in the order types are first needed and never change; anonymous types are
//! shared (one `PTR -> struct task_struct`), named types are keyed by name.

use crate::ctype::{CType, HostKind, HostTypeDesc};
use crate::flags::KfFlags;
use std::collections::HashMap;

/// `BTF_FUNC_STATIC`: the linkage `vmlinux` BTF gives every function, kfuncs included.
pub(crate) const LINKAGE_STATIC: u16 = 0;
/// `BTF_MAX_VLEN`: most members, enumerators or parameters one type may have.
const MAX_VLEN: usize = 0xffff;

/// A member of a struct or union.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) ty: u32,
    pub(crate) bit_offset: u32,
}

/// One BTF type.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Ty {
    Int { name: String, size: u32, signed: bool, bool: bool },
    Float { name: String, size: u32 },
    Ptr(u32),
    Array { elem: u32, index: u32, len: u32 },
    Struct { name: String, size: u32, members: Vec<Member> },
    Union { name: String, size: u32, members: Vec<Member> },
    Enum { name: String, size: u32, signed: bool, values: Vec<(String, i64)> },
    Fwd { name: String, union: bool },
    Typedef { name: String, ty: u32 },
    Volatile(u32),
    Const(u32),
    TypeTag { name: String, ty: u32 },
    Func { name: String, proto: u32, linkage: u16 },
    FuncProto { ret: u32, params: Vec<(String, u32)> },
    DeclTag { name: String, ty: u32, component: i32 },
}

impl Ty {
    pub(crate) fn name(&self) -> &str {
        match self {
            Ty::Int { name, .. }
            | Ty::Float { name, .. }
            | Ty::Struct { name, .. }
            | Ty::Union { name, .. }
            | Ty::Enum { name, .. }
            | Ty::Fwd { name, .. }
            | Ty::Typedef { name, .. }
            | Ty::TypeTag { name, .. }
            | Ty::Func { name, .. }
            | Ty::DeclTag { name, .. } => name,
            _ => "",
        }
    }
}

/// Why a type could not be added.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum TypeError {
    /// Two different host types want the same C name.
    #[error("host type `{name}` is defined twice, differently ({first} and {second})")]
    Conflict {
        /// The C name.
        name: String,
        /// The first definition (Rust name).
        first: String,
        /// The second.
        second: String,
    },
    /// More members or enumerators than BTF can count.
    #[error("host type `{name}` has {count} members; BTF allows at most 65535")]
    TooManyMembers {
        /// The C name.
        name: String,
        /// How many.
        count: usize,
    },
    /// A host type without a C name.
    #[error("host type {rust_name} has an empty BTF name (only structs, unions and enums may be anonymous)")]
    EmptyName {
        /// Its Rust name.
        rust_name: String,
    },
}

/// Why a kfunc prototype is refused at registration: the kernel's `btf_check_kfunc_protos()` /
/// `btf_check_iter_kfuncs()` rules (each `-EINVAL` there, with no message), and what kfvm's
/// one-register-per-argument ABI cannot express.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ProtoError {
    /// `btf_check_kfunc_protos()`: the FUNC has no name.
    #[error("a kfunc needs a name")]
    NoName,
    /// Not a C identifier.
    #[error("`{0}` is not a C identifier")]
    BadName(String),
    /// More arguments than R1–R5.
    #[error("takes {0} arguments; a kfunc takes at most 5 (MAX_BPF_FUNC_ARGS: R1-R5)")]
    TooManyArgs(usize),
    /// A struct, union or array passed or returned by value.
    #[error(
        "{what} is {ty} by value; kfunc arguments and results are scalars or pointers (one register each)"
    )]
    ByValue {
        /// `arg#1` or `the return value`.
        what: String,
        /// The C type.
        ty: String,
    },
    /// A float, `void` or over-wide integer argument.
    #[error("{what} has type {ty}, which does not fit a BPF register")]
    NotARegister {
        /// `arg#1` or `the return value`.
        what: String,
        /// The C type.
        ty: String,
    },
    /// Two parameters with the same name.
    #[error("two parameters are named `{0}`")]
    DuplicateParam(String),
    /// `btf_check_iter_kfuncs()`: not exactly one of the iterator flags.
    #[error("an iterator kfunc has exactly one of KF_ITER_NEW, KF_ITER_NEXT, KF_ITER_DESTROY (has {0})")]
    IterFlags(KfFlags),
    /// `btf_check_iter_kfuncs()`: no arguments.
    #[error("an iterator kfunc takes the iterator as its first argument; this one takes none")]
    IterNoArgs,
    /// `btf_check_iter_kfuncs()`: argument 0 is not a struct pointer.
    #[error("an iterator kfunc's first argument must be `struct bpf_iter_<type> *`, not {0}")]
    IterArgNotStructPtr(String),
    /// `btf_check_iter_kfuncs()`: the struct is not named `bpf_iter_<type>`.
    #[error("an iterator kfunc's first argument must point to `struct bpf_iter_<type>`, not `struct {0}`")]
    IterStructName(String),
    /// `btf_check_iter_kfuncs()`: the iterator's size.
    #[error(
        "struct {name} is {size} bytes; an iterator's size must be a non-zero multiple of 8 (stack slots)"
    )]
    IterSize {
        /// The struct.
        name: String,
        /// Its size.
        size: u32,
    },
    /// `btf_check_iter_kfuncs()`: naming pattern.
    #[error("iterator kfunc must be named `{expected}` (bpf_iter_<type>_{{new,next,destroy}})")]
    IterName {
        /// The expected name.
        expected: String,
    },
    /// `btf_check_iter_kfuncs()`: extra arguments.
    #[error(
        "only an iterator constructor (KF_ITER_NEW) takes arguments besides the iterator; this one takes {0}"
    )]
    IterExtraArgs(usize),
    /// `btf_check_iter_kfuncs()`: `_next` must return a pointer.
    #[error("bpf_iter_<type>_next must return a pointer, not {0}")]
    IterNextRet(String),
    /// `btf_check_iter_kfuncs()`: `_destroy` must return void.
    #[error("bpf_iter_<type>_destroy must return void, not {0}")]
    IterDestroyRet(String),
    /// `btf_check_dtor_kfuncs()`: not `void dtor(T *)`.
    #[error("a destructor kfunc must be `void {name}(type *p)`, not `{proto}`")]
    DtorProto {
        /// The destructor.
        name: String,
        /// Its prototype.
        proto: String,
    },
}

/// The table.
#[derive(Clone, Default, Debug)]
pub(crate) struct TypeTable {
    /// `types[i]` has id `i + 1`.
    types: Vec<Ty>,
    /// Anonymous types and ints, by value.
    anon: HashMap<Ty, u32>,
    /// Struct/union/enum/fwd by name (C's tag namespace).
    tags: HashMap<String, u32>,
    /// Typedefs and functions by name (C's ordinary namespace).
    ordinary: HashMap<String, u32>,
    /// Which host description defined a tag type (address of its `static`, and Rust name).
    host: HashMap<u32, (usize, &'static str)>,
    /// Anonymous host structs/unions/enums, by the address of their description.
    anon_host: HashMap<usize, u32>,
}

impl TypeTable {
    pub(crate) fn len(&self) -> u32 {
        self.types.len() as u32
    }

    pub(crate) fn get(&self, id: u32) -> Option<&Ty> {
        id.checked_sub(1).and_then(|i| self.types.get(i as usize))
    }

    fn push(&mut self, ty: Ty) -> u32 {
        self.types.push(ty);
        self.types.len() as u32
    }

    fn set(&mut self, id: u32, ty: Ty) {
        self.types[id as usize - 1] = ty;
    }

    /// An anonymous type (or int), shared.
    fn anon(&mut self, ty: Ty) -> u32 {
        if let Some(&id) = self.anon.get(&ty) {
            return id;
        }
        let id = self.push(ty.clone());
        self.anon.insert(ty, id);
        id
    }

    /// Appends a type without sharing (FUNC, DECL_TAG, shadow structs).
    pub(crate) fn add(&mut self, ty: Ty) -> u32 {
        self.push(ty)
    }

    /// The id of the struct/union/enum/fwd named `name`.
    pub(crate) fn tag_id(&self, name: &str) -> Option<u32> {
        self.tags.get(name).copied()
    }

    /// The id of the typedef or function named `name`.
    pub(crate) fn ordinary_id(&self, name: &str) -> Option<u32> {
        self.ordinary.get(name).copied()
    }

    pub(crate) fn register_ordinary(&mut self, name: &str, id: u32) {
        self.ordinary.insert(name.to_owned(), id);
    }

    pub(crate) fn register_tag(&mut self, name: &str, id: u32) {
        self.tags.insert(name.to_owned(), id);
    }

    /// A FUNC_PROTO, shared with identical ones.
    pub(crate) fn lower_proto(&mut self, ret: u32, params: Vec<(String, u32)>) -> u32 {
        self.anon(Ty::FuncProto { ret, params })
    }

    /// The id of `ct`, adding what is missing.
    pub(crate) fn lower(&mut self, ct: &CType) -> Result<u32, TypeError> {
        Ok(match *ct {
            CType::Void => 0,
            CType::Int(i) => {
                self.anon(Ty::Int { name: i.name.to_owned(), size: i.size, signed: i.signed, bool: i.bool })
            }
            CType::Float { name, size } => self.anon(Ty::Float { name: name.to_owned(), size }),
            CType::Ptr(t) => {
                let t = self.lower(t)?;
                self.anon(Ty::Ptr(t))
            }
            CType::Array(t, len) => {
                let elem = self.lower(t)?;
                let index = self.lower(&crate::ctype::prim::INT)?;
                self.anon(Ty::Array { elem, index, len })
            }
            CType::Const(t) => {
                let t = self.lower(t)?;
                self.anon(Ty::Const(t))
            }
            CType::Volatile(t) => {
                let t = self.lower(t)?;
                self.anon(Ty::Volatile(t))
            }
            CType::TypeTag(tag, t) => {
                let t = self.lower(t)?;
                self.anon(Ty::TypeTag { name: tag.to_owned(), ty: t })
            }
            CType::Typedef(name, t) => {
                if let Some(id) = self.ordinary_id(name) {
                    return Ok(id);
                }
                let t = self.lower(t)?;
                let id = self.push(Ty::Typedef { name: name.to_owned(), ty: t });
                self.ordinary.insert(name.to_owned(), id);
                id
            }
            CType::FuncProto(params, ret) => {
                let ret = self.lower(ret)?;
                let mut ps = Vec::with_capacity(params.len());
                for p in params {
                    ps.push((p.name.to_owned(), self.lower(p.ty)?));
                }
                self.anon(Ty::FuncProto { ret, params: ps })
            }
            CType::Host(f) => self.lower_host(f())?,
        })
    }

    /// The id of a host type, adding it (and what it refers to) if missing.
    pub(crate) fn lower_host(&mut self, desc: &'static HostTypeDesc) -> Result<u32, TypeError> {
        let addr = desc as *const HostTypeDesc as usize;
        if desc.name.is_empty() {
            // An anonymous struct, union or enum (`typedef struct { int counter; } atomic_t;`):
            // one BTF type per Rust definition.
            if matches!(desc.kind, HostKind::Typedef(_) | HostKind::Opaque) {
                return Err(TypeError::EmptyName { rust_name: desc.rust_name.to_owned() });
            }
            if let Some(&id) = self.anon_host.get(&addr) {
                return Ok(id);
            }
            let union = matches!(desc.kind, HostKind::Union(_));
            let id = self.push(Ty::Fwd { name: String::new(), union });
            self.anon_host.insert(addr, id);
            self.fill_host(id, desc)?;
            return Ok(id);
        }
        if let HostKind::Typedef(t) = desc.kind {
            if let Some(id) = self.ordinary_id(desc.name) {
                return match self.host.get(&id) {
                    Some(&(a, _)) if a == addr => Ok(id),
                    Some(&(_, first)) => Err(self.conflict(desc, first)),
                    None => Err(self.conflict(desc, "a built-in typedef")),
                };
            }
            let target = self.lower(t)?;
            let id = self.push(Ty::Typedef { name: desc.name.to_owned(), ty: target });
            self.ordinary.insert(desc.name.to_owned(), id);
            self.host.insert(id, (addr, desc.rust_name));
            return Ok(id);
        }
        if let Some(id) = self.tag_id(desc.name) {
            let existing_is_fwd = matches!(self.get(id), Some(Ty::Fwd { .. }));
            match self.host.get(&id) {
                Some(&(a, _)) if a == addr => return Ok(id),
                _ if matches!(desc.kind, HostKind::Opaque) => return Ok(id),
                _ if existing_is_fwd => {
                    // A forward declaration gets its definition: fill the same id in.
                    self.host.insert(id, (addr, desc.rust_name));
                    self.fill_host(id, desc)?;
                    return Ok(id);
                }
                Some(&(_, first)) => return Err(self.conflict(desc, first)),
                None => return Err(self.conflict(desc, "another definition")),
            }
        }
        let union = matches!(desc.kind, HostKind::Union(_));
        let id = self.push(Ty::Fwd { name: desc.name.to_owned(), union });
        self.tags.insert(desc.name.to_owned(), id);
        self.host.insert(id, (addr, desc.rust_name));
        self.fill_host(id, desc)?;
        Ok(id)
    }

    fn conflict(&self, desc: &HostTypeDesc, first: &str) -> TypeError {
        TypeError::Conflict {
            name: desc.name.to_owned(),
            first: first.to_owned(),
            second: desc.rust_name.to_owned(),
        }
    }

    fn fill_host(&mut self, id: u32, desc: &'static HostTypeDesc) -> Result<(), TypeError> {
        let name = desc.name.to_owned();
        let ty = match desc.kind {
            HostKind::Opaque => return Ok(()),
            HostKind::Typedef(_) => return Ok(()),
            HostKind::Struct(ms) | HostKind::Union(ms) if ms.len() > MAX_VLEN => {
                return Err(TypeError::TooManyMembers { name, count: ms.len() })
            }
            HostKind::Enum(vs) if vs.len() > MAX_VLEN => {
                return Err(TypeError::TooManyMembers { name, count: vs.len() })
            }
            HostKind::Struct(ms) | HostKind::Union(ms) => {
                let mut members = Vec::with_capacity(ms.len());
                for m in ms {
                    members.push(Member {
                        name: m.name.to_owned(),
                        ty: self.lower(m.ty)?,
                        bit_offset: m.offset * 8,
                    });
                }
                if matches!(desc.kind, HostKind::Union(_)) {
                    Ty::Union { name, size: desc.size, members }
                } else {
                    Ty::Struct { name, size: desc.size, members }
                }
            }
            HostKind::Enum(vs) => Ty::Enum {
                name,
                size: desc.size,
                signed: vs.iter().any(|v| v.value < 0),
                values: vs.iter().map(|v| (v.name.to_owned(), v.value)).collect(),
            },
        };
        self.set(id, ty);
        Ok(())
    }

    /// `btf_type_skip_modifiers()`: skips const, volatile, type tags and typedefs.
    pub(crate) fn skip_modifiers(&self, mut id: u32) -> u32 {
        for _ in 0..64 {
            match self.get(id) {
                Some(
                    Ty::Const(t) | Ty::Volatile(t) | Ty::TypeTag { ty: t, .. } | Ty::Typedef { ty: t, .. },
                ) => id = *t,
                _ => break,
            }
        }
        id
    }

    fn is_ptr(&self, id: u32) -> bool {
        matches!(self.get(self.skip_modifiers(id)), Some(Ty::Ptr(_)))
    }

    /// The C spelling of type `id` (`struct task_struct *`, `u32`).
    pub(crate) fn type_str(&self, id: u32) -> String {
        self.decl(id, "")
    }

    /// A C declaration of `inner` with type `id` (`inner` may be empty).
    pub(crate) fn decl(&self, id: u32, inner: &str) -> String {
        let join = |base: &str, inner: &str| {
            if inner.is_empty() {
                base.to_owned()
            } else {
                format!("{base} {inner}")
            }
        };
        let Some(ty) = self.get(id) else { return join("void", inner) };
        match ty {
            Ty::Int { name, .. } | Ty::Float { name, .. } | Ty::Typedef { name, .. } => join(name, inner),
            Ty::Struct { name, .. } => join(&format!("struct {name}"), inner),
            Ty::Union { name, .. } => join(&format!("union {name}"), inner),
            Ty::Enum { name, .. } => join(&format!("enum {name}"), inner),
            Ty::Fwd { name, union } => {
                join(&format!("{} {name}", if *union { "union" } else { "struct" }), inner)
            }
            Ty::Ptr(t) => {
                let wrap = matches!(self.get(*t), Some(Ty::Array { .. } | Ty::FuncProto { .. }));
                if wrap {
                    self.decl(*t, &format!("(*{inner})"))
                } else {
                    self.decl(*t, &format!("*{inner}"))
                }
            }
            Ty::Const(t) | Ty::Volatile(t) => {
                let q = if matches!(ty, Ty::Const(_)) { "const" } else { "volatile" };
                if matches!(self.get(*t), Some(Ty::Ptr(_))) {
                    self.decl(*t, &join(q, inner))
                } else {
                    format!("{q} {}", self.decl(*t, inner))
                }
            }
            Ty::TypeTag { name, ty } => {
                let attr = format!("__attribute__((btf_type_tag(\"{name}\")))");
                self.decl(*ty, &join(&attr, inner))
            }
            Ty::Array { elem, len, .. } => self.decl(*elem, &format!("{inner}[{len}]")),
            Ty::FuncProto { ret, params } => {
                let ps = if params.is_empty() {
                    "void".to_owned()
                } else {
                    params.iter().map(|(n, t)| self.decl(*t, n)).collect::<Vec<_>>().join(", ")
                };
                self.decl(*ret, &format!("{inner}({ps})"))
            }
            Ty::Func { name, proto, .. } => self.decl(*proto, if inner.is_empty() { name } else { inner }),
            Ty::DeclTag { .. } => inner.to_owned(),
        }
    }

    /// The FUNC_PROTO of FUNC `func_id`: (name, return type, params).
    #[expect(clippy::type_complexity, reason = "a private accessor")]
    pub(crate) fn func_parts(&self, func_id: u32) -> Option<(&str, u32, &[(String, u32)])> {
        let Some(Ty::Func { name, proto, .. }) = self.get(func_id) else { return None };
        let Some(Ty::FuncProto { ret, params }) = self.get(*proto) else { return None };
        Some((name, *ret, params))
    }

    /// `btf_check_kfunc_protos()`, then what one register per argument cannot express.
    pub(crate) fn check_kfunc_proto(&self, func_id: u32, flags: KfFlags) -> Result<(), ProtoError> {
        // "any kfunc should be FUNC -> FUNC_PROTO" and "sanity check kfunc name"
        let Some((name, ret, params)) = self.func_parts(func_id) else { return Err(ProtoError::NoName) };
        if name.is_empty() {
            return Err(ProtoError::NoName);
        }
        let ident_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident_ok {
            return Err(ProtoError::BadName(name.to_owned()));
        }
        if flags.intersects(KfFlags::ITER_ANY) {
            self.check_iter_kfunc(name, ret, params, flags)?;
        }
        if params.len() > 5 {
            return Err(ProtoError::TooManyArgs(params.len()));
        }
        for (i, (pname, pty)) in params.iter().enumerate() {
            if !pname.is_empty() && params[..i].iter().any(|(n, _)| n == pname) {
                return Err(ProtoError::DuplicateParam(pname.clone()));
            }
            self.check_register(&format!("arg#{i}"), *pty, false)?;
        }
        self.check_register("the return value", ret, true)
    }

    fn check_register(&self, what: &str, id: u32, is_ret: bool) -> Result<(), ProtoError> {
        let real = self.skip_modifiers(id);
        match self.get(real) {
            None if is_ret => Ok(()),
            None => Err(ProtoError::NotARegister { what: what.to_owned(), ty: "void".to_owned() }),
            Some(Ty::Struct { .. } | Ty::Union { .. } | Ty::Array { .. } | Ty::Fwd { .. }) => {
                Err(ProtoError::ByValue { what: what.to_owned(), ty: self.type_str(id) })
            }
            Some(Ty::Float { .. }) => {
                Err(ProtoError::NotARegister { what: what.to_owned(), ty: self.type_str(id) })
            }
            Some(Ty::Int { size, .. }) if *size > 8 => {
                Err(ProtoError::NotARegister { what: what.to_owned(), ty: self.type_str(id) })
            }
            _ => Ok(()),
        }
    }

    /// `btf_check_iter_kfuncs()` of kernel/bpf/btf.c, rule for rule.
    fn check_iter_kfunc(
        &self,
        name: &str,
        ret: u32,
        params: &[(String, u32)],
        flags: KfFlags,
    ) -> Result<(), ProtoError> {
        let iter = flags & KfFlags::ITER_ANY;
        // exactly one of KF_ITER_{NEW,NEXT,DESTROY} can be set
        if iter.bits().count_ones() != 1 {
            return Err(ProtoError::IterFlags(iter));
        }
        // any BPF iter kfunc should have `struct bpf_iter_<type> *` first arg
        let Some((_, arg0)) = params.first() else { return Err(ProtoError::IterNoArgs) };
        let t = self.skip_modifiers(*arg0);
        let Some(Ty::Ptr(pointee)) = self.get(t) else {
            return Err(ProtoError::IterArgNotStructPtr(self.type_str(*arg0)));
        };
        let s = self.skip_modifiers(*pointee);
        let Some(Ty::Struct { name: sname, size, .. }) = self.get(s) else {
            return Err(ProtoError::IterArgNotStructPtr(self.type_str(*arg0)));
        };
        let Some(iter_name) = sname.strip_prefix("bpf_iter_") else {
            return Err(ProtoError::IterStructName(sname.clone()));
        };
        // sizeof(struct bpf_iter_<type>) should be a multiple of 8 to fit nicely in stack slots
        if *size == 0 || size % 8 != 0 {
            return Err(ProtoError::IterSize { name: sname.clone(), size: *size });
        }
        let sfx = if iter.contains(KfFlags::ITER_NEW) {
            "new"
        } else if iter.contains(KfFlags::ITER_NEXT) {
            "next"
        } else {
            "destroy"
        };
        let expected = format!("bpf_iter_{iter_name}_{sfx}");
        if name != expected {
            return Err(ProtoError::IterName { expected });
        }
        // only iter constructor should have extra arguments
        if !iter.contains(KfFlags::ITER_NEW) && params.len() != 1 {
            return Err(ProtoError::IterExtraArgs(params.len() - 1));
        }
        if iter.contains(KfFlags::ITER_NEXT) && !self.is_ptr(ret) {
            return Err(ProtoError::IterNextRet(self.type_str(ret)));
        }
        // bpf_iter_<type>_destroy() should return void (no modifier skipping in the kernel)
        if iter.contains(KfFlags::ITER_DESTROY) && ret != 0 {
            return Err(ProtoError::IterDestroyRet(self.type_str(ret)));
        }
        Ok(())
    }

    /// `btf_check_dtor_kfuncs()`: `void dtor(<any pointer>)`.
    pub(crate) fn check_dtor_proto(&self, func_id: u32) -> Result<(), ProtoError> {
        let Some((name, ret, params)) = self.func_parts(func_id) else { return Err(ProtoError::NoName) };
        let ok = ret == 0 && params.len() == 1 && matches!(self.get(params[0].1), Some(Ty::Ptr(_)));
        if ok {
            Ok(())
        } else {
            Err(ProtoError::DtorProto { name: name.to_owned(), proto: self.decl(func_id, "") })
        }
    }

    /// The BTF blob, written with `kfvm_btf::BtfBuilder` (ids are assigned in the same order,
    /// so each id here is the id there).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, kfvm_btf::BtfError> {
        use kfvm_btf::{FuncLinkage, IntEncoding, NewMember};
        let mut b = kfvm_btf::BtfBuilder::new();
        let members = |ms: &[Member]| -> Vec<(String, u32, u32)> {
            ms.iter().map(|m| (m.name.clone(), m.ty, m.bit_offset)).collect()
        };
        for ty in &self.types {
            match ty {
                Ty::Int { name, size, signed, bool } => {
                    let enc = if *bool {
                        IntEncoding::BOOL
                    } else if *signed {
                        IntEncoding::SIGNED
                    } else {
                        IntEncoding::NONE
                    };
                    b.add_int(name, *size, enc)
                }
                Ty::Float { name, size } => b.add_float(name, *size),
                Ty::Ptr(t) => b.add_ptr(*t),
                Ty::Const(t) => b.add_const(*t),
                Ty::Volatile(t) => b.add_volatile(*t),
                Ty::Typedef { name, ty } => b.add_typedef(name, *ty),
                Ty::TypeTag { name, ty } => b.add_type_tag(name, *ty),
                Ty::Array { elem, index, len } => b.add_array(*elem, *index, *len),
                Ty::Struct { name, size, members: ms } | Ty::Union { name, size, members: ms } => {
                    let owned = members(ms);
                    let nm: Vec<NewMember<'_>> =
                        owned.iter().map(|(n, t, off)| NewMember::new(n, *t, *off)).collect();
                    if matches!(ty, Ty::Struct { .. }) {
                        b.add_struct(name, *size, &nm)
                    } else {
                        b.add_union(name, *size, &nm)
                    }
                }
                Ty::Enum { name, size, signed, values } => {
                    let wide = values.iter().any(|(_, v)| *v < i32::MIN as i64 || *v > u32::MAX as i64);
                    if wide {
                        let vs: Vec<(&str, u64)> =
                            values.iter().map(|(n, v)| (n.as_str(), *v as u64)).collect();
                        b.add_enum64(name, *size, *signed, &vs)
                    } else {
                        let vs: Vec<(&str, i64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
                        b.add_enum(name, *size, *signed, &vs)
                    }
                }
                Ty::Fwd { name, union } => b.add_fwd(name, *union),
                Ty::Func { name, proto, linkage } => {
                    let l =
                        if *linkage == LINKAGE_STATIC { FuncLinkage::Static } else { FuncLinkage::Global };
                    b.add_func(name, *proto, l)
                }
                Ty::FuncProto { ret, params } => {
                    let ps: Vec<(&str, u32)> = params.iter().map(|(n, t)| (n.as_str(), *t)).collect();
                    b.add_func_proto(*ret, &ps)
                }
                Ty::DeclTag { name, ty, component } => {
                    b.add_decl_tag(name, *ty, u32::try_from(*component).ok())
                }
            };
        }
        b.finish()
    }
}
