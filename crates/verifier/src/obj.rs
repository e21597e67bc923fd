//! Program-allocated objects: `bpf_obj_new_impl()` returns a referenced, maybe-NULL
//! `PTR_TO_BTF_ID | MEM_ALLOC` pointer to a struct of the program's own BTF (object
//! [`BTF_PROG`], the local type id given as the `__k` constant); its scalar fields are read and
//! written through `btf_struct_access()` ([`crate::btf_access`]); `bpf_obj_drop_impl()`
//! (`__alloc`) releases it. A program that loses one leaks it: `Unreleased reference` at exit.

use crate::env::{Env, BTF_PROG};
use crate::error::{Errno, Result};
use crate::log::VerifierLog;
use crate::state::*;
use crate::verbose;

/// Which `_impl` kfunc an allocated-object argument or return belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ObjKfunc {
    /// `bpf_obj_new_impl` / `bpf_obj_drop_impl`.
    Plain,
    /// `bpf_percpu_obj_new_impl` / `bpf_percpu_obj_drop_impl`.
    Percpu,
}

/// The return value of `bpf_obj_new_impl()` / `bpf_percpu_obj_new_impl()` (the special-kfunc
/// part of `check_kfunc_call()`): `R0` points to the struct `local_type_id` (the `__k` constant)
/// of the program's BTF. The caller adds `PTR_MAYBE_NULL` with a fresh id (`KF_RET_NULL`) and
/// the reference (`KF_ACQUIRE`).
pub fn mark_obj_new_ret(env: &mut Env<'_>, kind: ObjKfunc, local_type_id: Option<u64>) -> Result<()> {
    let Some(value) = local_type_id else {
        return Err(env.verifier_bug("bpf_obj_new without a constant type id"));
    };
    if value as u32 as u64 != value {
        return Err(env.reject(Errno::Inval, "local type ID argument must be in range [0, U32_MAX]"));
    }
    let ret_btf_id = value as u32;
    let opts = env.opts;
    // The program may come without BTF.
    let Some(pbtf) = opts.prog_btf.as_ref().map(|p| &*p.btf) else {
        return Err(env.reject(Errno::Inval, "bpf_obj_new/bpf_percpu_obj_new requires prog BTF"));
    };
    let ret_t = pbtf.get(ret_btf_id).filter(|t| ret_btf_id != 0 && t.kind() == kfvm_btf::Kind::Struct);
    let Some(ret_t) = ret_t else {
        env.hint =
            Some("bpf_obj_new() allocates structs: pass bpf_core_type_id_local() of a struct type".into());
        return Err(
            env.reject(Errno::Inval, "bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct")
        );
    };
    if kind == ObjKfunc::Percpu {
        if !btf_type_is_scalar_struct(&mut env.log, pbtf, ret_t.id(), 0) {
            return Err(env
                .reject(Errno::Inval, "bpf_percpu_obj_new type ID argument must be of a struct of scalars"));
        }
        if has_special_fields(pbtf, ret_t.id()) {
            return Err(env.reject(
                Errno::Inval,
                "bpf_percpu_obj_new type ID argument must not contain special fields",
            ));
        }
    }
    let r0 = env.reg_mut(0);
    r0.mark_known_zero();
    r0.ty = PTR_TO_BTF_ID | MEM_ALLOC;
    r0.btf = BTF_PROG;
    r0.btf_id = ret_btf_id;
    if kind == ObjKfunc::Percpu {
        r0.ty |= MEM_PERCPU;
    }
    Ok(())
}

/// Mirrors `__btf_type_is_scalar_struct()`: a struct whose members are scalars, non-empty
/// arrays of scalars or such structs, nested at most 3 levels.
pub fn btf_type_is_scalar_struct(log: &mut VerifierLog, btf: &kfvm_btf::Btf, id: u32, rec: u32) -> bool {
    let Ok(t) = btf.skip_mods_and_typedefs(id) else { return false };
    if !matches!(t.kind(), kfvm_btf::Kind::Struct | kfvm_btf::Kind::Union) {
        return false;
    }
    for m in t.members() {
        let Ok(mt) = btf.skip_mods_and_typedefs(m.type_id) else { return false };
        if mt.kind() == kfvm_btf::Kind::Array {
            let Some(a) = mt.array().filter(|a| a.nelems != 0) else { return false };
            let Ok(e) = btf.skip_mods_and_typedefs(a.elem_type) else { return false };
            if !matches!(e.kind(), kfvm_btf::Kind::Int | kfvm_btf::Kind::Enum) {
                return false;
            }
            continue;
        }
        match mt.kind() {
            kfvm_btf::Kind::Int | kfvm_btf::Kind::Enum => {}
            kfvm_btf::Kind::Struct | kfvm_btf::Kind::Union => {
                if rec >= 3 {
                    verbose!(log, "max struct nesting depth exceeded\n");
                    return false;
                }
                if !btf_type_is_scalar_struct(log, btf, mt.id(), rec + 1) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

/// A field of a local struct the kernel manages (`struct btf_field`): its kind's name as
/// `btf_field_type_name()` gives it, offset and size.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BtfField {
    /// `btf_field_type_name()`: `bpf_spin_lock`, `bpf_list_head`, `kptr`, ...
    pub name: &'static str,
    /// `offset`.
    pub offset: u32,
    /// `size`.
    pub size: u32,
    /// For a kptr field (`kptr`, `percpu_kptr`): the pointee, the type after the pointer's tags,
    /// and whether the field holds a reference (`BPF_KPTR_REF`: `__kptr`, not
    /// `__kptr_untrusted`).
    pub kptr: Option<(u32, bool)>,
}

/// The special struct types `btf_parse_struct_metas()` looks for in local types, with their
/// `btf_field_type_name()`.
const SPECIAL_STRUCTS: &[(&str, &str)] = &[
    ("bpf_spin_lock", "bpf_spin_lock"),
    ("bpf_res_spin_lock", "bpf_res_spin_lock"),
    ("bpf_list_head", "bpf_list_head"),
    ("bpf_list_node", "bpf_list_node"),
    ("bpf_rb_root", "bpf_rb_root"),
    ("bpf_rb_node", "bpf_rb_node"),
    ("bpf_refcount", "bpf_refcount"),
];

/// Mirrors `btf_find_struct_meta()` (the record `btf_parse_struct_metas()` made of local struct
/// `id`): its special fields, in nested structs and arrays too; empty for a plain struct.
pub fn btf_find_struct_meta(btf: &kfvm_btf::Btf, id: u32) -> Vec<BtfField> {
    let mut out = Vec::new();
    collect_fields(btf, id, 0, 0, &mut out);
    out
}

fn collect_fields(btf: &kfvm_btf::Btf, id: u32, base: u32, level: u32, out: &mut Vec<BtfField>) {
    let Ok(t) = btf.skip_mods_and_typedefs(id) else { return };
    if !matches!(t.kind(), kfvm_btf::Kind::Struct | kfvm_btf::Kind::Union) || level > 3 {
        return;
    }
    for m in t.members() {
        if m.bit_offset % 8 != 0 {
            continue;
        }
        let off = base + m.bit_offset / 8;
        // An array of n elements holds n fields.
        let (mut elem, mut n) = (m.type_id, 1u32);
        if let Ok(a) = btf.skip_mods_and_typedefs(m.type_id) {
            if let Some(info) = a.array().filter(|_| a.kind() == kfvm_btf::Kind::Array) {
                elem = info.elem_type;
                n = info.nelems;
            }
        }
        let Ok(et) = btf.skip_mods_and_typedefs(elem) else { continue };
        let size = btf.resolve_size(et.id()).unwrap_or(0);
        let mut kptr = None;
        let kind = if et.kind() == kfvm_btf::Kind::Ptr {
            // kptrs are pointers with a kptr type tag.
            match btf.ptr_type_tags(elem) {
                Ok(tags) if tags.has("kptr") || tags.has("kptr_untrusted") => {
                    kptr = Some((tags.target, tags.has("kptr")));
                    Some("kptr")
                }
                Ok(tags) if tags.has("percpu_kptr") => {
                    kptr = Some((tags.target, false));
                    Some("percpu_kptr")
                }
                _ => None,
            }
        } else if et.kind() == kfvm_btf::Kind::Struct {
            SPECIAL_STRUCTS.iter().find(|(s, _)| *s == et.name()).map(|(_, n)| *n)
        } else {
            None
        };
        for i in 0..n {
            let o = off + i * size;
            match kind {
                Some(name) => out.push(BtfField { name, offset: o, size, kptr }),
                None if matches!(et.kind(), kfvm_btf::Kind::Struct | kfvm_btf::Kind::Union) => {
                    collect_fields(btf, et.id(), o, level + 1, out)
                }
                None => {}
            }
        }
    }
}

/// Whether a local struct holds a field the kernel manages (`btf_find_struct_meta()` finds a
/// record).
fn has_special_fields(btf: &kfvm_btf::Btf, id: u32) -> bool {
    !btf_find_struct_meta(btf, id).is_empty()
}

/// The part of `btf_struct_access()` for allocated objects: an access to `[off, off + size)`
/// of local struct `id` that touches one of its special fields is refused
/// (`direct access to %s is disallowed`).
pub fn alloc_obj_special_field_at(btf: &kfvm_btf::Btf, id: u32, off: i32, size: i32) -> Option<&'static str> {
    btf_find_struct_meta(btf, id)
        .into_iter()
        .find(|f| {
            (off as i64) < f.offset as i64 + f.size as i64 && (f.offset as i64) < off as i64 + size as i64
        })
        .map(|f| f.name)
}

/// The kptr fields of local struct `id` of program BTF `btf` (the `BPF_KPTR` fields of its
/// `btf_struct_meta` record), each pointee resolved as `btf_parse_kptr()` does: a struct of the
/// kernel BTF `kernel` by name, else the program's own type (an object of `bpf_obj_new`).
pub fn alloc_obj_kptrs(btf: &kfvm_btf::Btf, id: u32, kernel: &kfvm_btf::Btf) -> Vec<crate::env::KptrField> {
    btf_find_struct_meta(btf, id)
        .into_iter()
        .filter_map(|f| {
            let (pointee, referenced) = f.kptr?;
            let name = btf.get(pointee).map(|t| t.name()).unwrap_or("");
            let host = Some(name)
                .filter(|n| !n.is_empty())
                .and_then(|n| kernel.find_by_name_kind(n, kfvm_btf::Kind::Struct))
                .map(|t| t.id());
            let (kbtf, kid) = match host {
                Some(kid) => (crate::env::BTF_VMLINUX, kid),
                None => (BTF_PROG, pointee),
            };
            Some(crate::env::KptrField {
                off: f.offset,
                referenced,
                percpu: f.name == "percpu_kptr",
                btf: kbtf,
                btf_id: kid,
            })
        })
        .collect()
}

/// The offset of the `bpf_spin_lock` of local struct `id` (`rec->spin_lock_off`), if it has one.
pub fn alloc_obj_spin_lock_off(btf: &kfvm_btf::Btf, id: u32) -> Option<u32> {
    btf_find_struct_meta(btf, id).into_iter().find(|f| f.name == "bpf_spin_lock").map(|f| f.offset)
}

/// The `KF_ARG_PTR_TO_ALLOC_BTF_ID` case of `check_kfunc_args()` (`__alloc`): argument `argno`
/// (register `argno + 1`) of `bpf_obj_drop_impl()` must be a referenced object from
/// `bpf_obj_new_impl()` (`bpf_percpu_obj_drop_impl()`: from `bpf_percpu_obj_new_impl()`).
/// Returns the object's BTF object and type (`meta->arg_btf`, `meta->arg_btf_id`).
pub fn process_alloc_arg(env: &mut Env<'_>, argno: usize, kind: Option<ObjKfunc>) -> Result<(u32, u32)> {
    let reg = env.reg(argno + 1).clone();
    if reg.ty == PTR_TO_BTF_ID | MEM_ALLOC {
        if kind != Some(ObjKfunc::Plain) {
            return Err(env.reject(Errno::Inval, format!("arg#{argno} expected for bpf_obj_drop_impl()")));
        }
    } else if reg.ty == PTR_TO_BTF_ID | MEM_ALLOC | MEM_PERCPU {
        if kind != Some(ObjKfunc::Percpu) {
            return Err(
                env.reject(Errno::Inval, format!("arg#{argno} expected for bpf_percpu_obj_drop_impl()"))
            );
        }
    } else {
        env.hint = Some("bpf_obj_drop() frees only objects that bpf_obj_new() returned".into());
        return Err(env.reject(Errno::Inval, format!("arg#{argno} expected pointer to allocated object")));
    }
    if reg.ref_obj_id == 0 {
        return Err(env.reject(Errno::Inval, "allocated object must be referenced"));
    }
    Ok((reg.btf, reg.btf_id))
}

/// The kind of allocated-object kfunc `name` is, if it is one.
pub fn obj_kfunc_kind(name: &str) -> Option<ObjKfunc> {
    match name {
        "bpf_obj_new_impl" | "bpf_obj_drop_impl" => Some(ObjKfunc::Plain),
        "bpf_percpu_obj_new_impl" | "bpf_percpu_obj_drop_impl" => Some(ObjKfunc::Percpu),
        _ => None,
    }
}
