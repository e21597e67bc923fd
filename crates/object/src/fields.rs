//! Special fields of a map value: what the kernel's `btf_parse_fields` finds in the value type
//! (`btf_find_field` in `kernel/bpf/btf.c`, Linux 6.18), read from the object's BTF.

use kfvm_btf::{Btf, Kind};

/// How a kptr field was tagged (`btf_find_kptr`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KptrKind {
    /// `__kptr_untrusted` (`BPF_KPTR_UNREF`).
    Unref,
    /// `__kptr` (`BPF_KPTR_REF`).
    Ref,
    /// `__percpu_kptr` (`BPF_KPTR_PERCPU`).
    Percpu,
    /// `__uptr` (`BPF_UPTR`).
    Uptr,
}

/// One special field (`struct btf_field_info`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum FieldKind {
    /// `struct bpf_spin_lock`.
    SpinLock,
    /// `struct bpf_res_spin_lock`.
    ResSpinLock,
    /// `struct bpf_timer`.
    Timer,
    /// `struct bpf_wq`.
    Workqueue,
    /// `struct bpf_task_work`.
    TaskWork,
    /// `struct bpf_list_head` with its `contains:TYPE:NODE` decl tag.
    ListHead {
        /// BTF id of the contained struct.
        value_type_id: u32,
        /// Name of the node field in it.
        node_name: String,
    },
    /// `struct bpf_list_node`.
    ListNode,
    /// `struct bpf_rb_root` with its `contains:TYPE:NODE` decl tag.
    RbRoot {
        /// BTF id of the contained struct.
        value_type_id: u32,
        /// Name of the node field in it.
        node_name: String,
    },
    /// `struct bpf_rb_node`.
    RbNode,
    /// `struct bpf_refcount`.
    Refcount,
    /// A pointer tagged as a kptr.
    Kptr {
        /// Which tag.
        kind: KptrKind,
        /// BTF id (object BTF) of the pointed-to struct.
        type_id: u32,
    },
}

/// A special field and its byte offset in the value.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SpecialField {
    /// Byte offset in the map value.
    pub offset: u32,
    /// What it is.
    pub kind: FieldKind,
}

/// Why the kernel would refuse the value type (`btf_parse_fields` returning an error); the
/// verifier turns this into the map-creation failure.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldError {
    /// The kernel's errno (`EINVAL`, `E2BIG`, `ENOENT`).
    pub errno: i32,
    /// What was found.
    pub message: String,
}

const EINVAL: i32 = 22;
const E2BIG: i32 = 7;
const ENOENT: i32 = 2;
const MAX_RESOLVE_DEPTH: u32 = 32;
/// `BTF_FIELDS_MAX`.
const BTF_FIELDS_MAX: usize = 11;

fn fail<T>(errno: i32, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError { errno, message: message.into() })
}

/// Size and alignment of a named special struct (`btf_field_type_size`/`_align`).
fn named_field(name: &str) -> Option<(FieldKind, bool, u32, u32)> {
    // (kind, is_unique, size, align)
    Some(match name {
        "bpf_spin_lock" => (FieldKind::SpinLock, true, 4, 4),
        "bpf_res_spin_lock" => (FieldKind::ResSpinLock, true, 8, 4),
        "bpf_timer" => (FieldKind::Timer, true, 16, 8),
        "bpf_wq" => (FieldKind::Workqueue, true, 16, 8),
        "bpf_task_work" => (FieldKind::TaskWork, true, 8, 8),
        "bpf_list_head" => (FieldKind::ListNode, false, 16, 8), // kind fixed up by the caller
        "bpf_list_node" => (FieldKind::ListNode, false, 24, 8),
        "bpf_rb_root" => (FieldKind::RbNode, false, 16, 8), // kind fixed up by the caller
        "bpf_rb_node" => (FieldKind::RbNode, false, 32, 8),
        "bpf_refcount" => (FieldKind::Refcount, false, 4, 4),
        _ => return None,
    })
}

/// `btf_find_field` over a map value type (a struct, or a `DATASEC` for global data), with every
/// field type enabled. Arrays of special fields are flattened as the kernel does.
pub fn find_special_fields(btf: &Btf, value_type_id: u32) -> Result<Vec<SpecialField>, FieldError> {
    let Some(t) = btf.get(value_type_id) else {
        return fail(EINVAL, format!("value type [{value_type_id}] not found"));
    };
    let mut out = Vec::new();
    match t.kind() {
        Kind::Struct | Kind::Union => find_struct_fields(btf, value_type_id, &mut out, 0)?,
        Kind::Datasec => {
            let mut seen = 0u32;
            for vsi in t.datasec_vars() {
                let Some(var) = btf.get(vsi.type_id) else { continue };
                field_one(btf, None, var.size_or_type(), -1, vsi.offset, vsi.size, &mut seen, &mut out, 0)?;
            }
        }
        _ => return Ok(out),
    }
    if out.len() > BTF_FIELDS_MAX {
        return fail(E2BIG, format!("{} special fields, at most {BTF_FIELDS_MAX}", out.len()));
    }
    Ok(out)
}

fn find_struct_fields(btf: &Btf, id: u32, out: &mut Vec<SpecialField>, level: u32) -> Result<(), FieldError> {
    let Some(t) = btf.get(id) else { return Ok(()) };
    let mut seen = 0u32;
    for m in t.members() {
        if m.bit_offset % 8 != 0 {
            return fail(EINVAL, "special field at a bit offset");
        }
        field_one(btf, Some(id), m.type_id, m.index as i32, m.bit_offset / 8, 0, &mut seen, out, level)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn field_one(
    btf: &Btf,
    parent: Option<u32>,
    mut var_type: u32,
    comp_idx: i32,
    off: u32,
    expected_size: u32,
    seen: &mut u32,
    out: &mut Vec<SpecialField>,
    level: u32,
) -> Result<(), FieldError> {
    let mut nelems: u32 = 1;
    let mut depth = 0;
    while let Some(a) = btf.get(var_type).and_then(|t| t.array()) {
        depth += 1;
        if depth >= MAX_RESOLVE_DEPTH {
            return fail(E2BIG, "array nesting too deep");
        }
        nelems = nelems.saturating_mul(a.nelems);
        var_type = a.elem_type;
    }
    if nelems == 0 {
        return Ok(());
    }
    let Some(t) = btf.get(var_type) else { return Ok(()) };
    let name = t.name();
    let is_struct = t.kind().is_composite();
    let named = if is_struct { named_field(name) } else { None };
    let start = out.len();
    let elem_size;
    if let Some((mut fk, unique, sz, align)) = named {
        let bit = 1u32 << bit_of(name);
        if unique {
            if *seen & bit != 0 {
                return fail(E2BIG, format!("more than one struct {name}"));
            }
            *seen |= bit;
        }
        if (expected_size != 0 && expected_size as u64 != sz as u64 * nelems as u64) || off % align != 0 {
            return Ok(());
        }
        if t.size_or_type() != sz {
            return Ok(());
        }
        if name == "bpf_list_head" || name == "bpf_rb_root" {
            let (value_type_id, node_name) = graph_root(btf, parent, comp_idx)?;
            fk = if name == "bpf_list_head" {
                FieldKind::ListHead { value_type_id, node_name }
            } else {
                FieldKind::RbRoot { value_type_id, node_name }
            };
        } else if nelems > 1 {
            return fail(EINVAL, format!("array of struct {name}"));
        }
        out.push(SpecialField { offset: off, kind: fk });
        elem_size = sz;
    } else if is_struct {
        let sz = t.size_or_type();
        if expected_size != 0 && expected_size as u64 != sz as u64 * nelems as u64 {
            return Ok(());
        }
        if level + 1 >= MAX_RESOLVE_DEPTH {
            return fail(E2BIG, "struct nesting too deep");
        }
        let mut nested = Vec::new();
        find_struct_fields(btf, var_type, &mut nested, level + 1)?;
        for f in &mut nested {
            f.offset += off;
        }
        out.extend(nested);
        elem_size = sz;
    } else {
        // BPF_KPTR candidates: anything that is not a struct
        if (expected_size != 0 && expected_size as u64 != 8 * nelems as u64) || off % 8 != 0 {
            return Ok(());
        }
        match kptr(btf, var_type)? {
            Some(k) => out.push(SpecialField { offset: off, kind: k }),
            None => return Ok(()),
        }
        elem_size = 8;
    }
    if nelems > 1 {
        let group: Vec<SpecialField> = out[start..].to_vec();
        if group.iter().any(|f| {
            !matches!(f.kind, FieldKind::Kptr { .. } | FieldKind::ListHead { .. } | FieldKind::RbRoot { .. })
        }) {
            return fail(EINVAL, "array of a special field that cannot repeat");
        }
        if out.len() + group.len() * (nelems as usize - 1) > BTF_FIELDS_MAX.max(out.len()) + 64 {
            return fail(E2BIG, "too many special fields");
        }
        for i in 1..nelems {
            for f in &group {
                out.push(SpecialField { offset: f.offset + i * elem_size, kind: f.kind.clone() });
            }
        }
    }
    Ok(())
}

fn bit_of(name: &str) -> u32 {
    match name {
        "bpf_spin_lock" => 0,
        "bpf_res_spin_lock" => 1,
        "bpf_timer" => 2,
        "bpf_wq" => 3,
        _ => 4,
    }
}

/// `btf_find_kptr`.
fn kptr(btf: &Btf, id: u32) -> Result<Option<FieldKind>, FieldError> {
    let mut t = btf.get(id);
    if let Some(v) = t.filter(|t| t.kind() == Kind::Volatile) {
        t = btf.get(v.size_or_type());
    }
    let Some(t) = t.filter(|t| t.kind() == Kind::Ptr) else { return Ok(None) };
    let Some(tag) = btf.get(t.size_or_type()) else { return Ok(None) };
    if tag.kind() != Kind::TypeTag || tag.kind_flag() {
        return Ok(None);
    }
    if btf.get(tag.size_or_type()).is_some_and(|n| n.kind() == Kind::TypeTag) {
        return fail(EINVAL, "more than one type tag on a kptr");
    }
    let value = tag.name();
    let k = match value {
        "kptr_untrusted" => KptrKind::Unref,
        "kptr" => KptrKind::Ref,
        "percpu_kptr" => KptrKind::Percpu,
        "uptr" => KptrKind::Uptr,
        // includes the pre-6.3 "kptr_ref" tag, which Linux 6.18 no longer knows
        other => return fail(EINVAL, format!("unknown kptr type tag \"{other}\"")),
    };
    match btf.strip_mods(tag.size_or_type()) {
        Ok(target) if target.kind().is_composite() => {
            Ok(Some(FieldKind::Kptr { kind: k, type_id: target.id() }))
        }
        _ => fail(EINVAL, "kptr does not point to a struct"),
    }
}

/// `btf_find_graph_root`: the `contains:TYPE:NODE` decl tag on the field.
fn graph_root(btf: &Btf, parent: Option<u32>, comp_idx: i32) -> Result<(u32, String), FieldError> {
    let Some(parent) = parent else {
        return fail(EINVAL, "graph root outside a struct has no contains: tag");
    };
    let mut found: Option<&str> = None;
    let component = u32::try_from(comp_idx).ok();
    for tag in btf.decl_tags(parent).into_iter().filter(|t| t.component == component) {
        let Some(v) = tag.value.strip_prefix("contains:") else { continue };
        if found.is_some() {
            return fail(EINVAL, "duplicate contains: tag");
        }
        found = Some(v);
    }
    let Some(v) = found else { return fail(EINVAL, "graph root without a contains: tag") };
    let Some((ty, node)) = v.split_once(':') else { return fail(EINVAL, format!("malformed contains:{v}")) };
    let Some(id) = btf.find_by_name_kind(ty, Kind::Struct).map(|t| t.id()) else {
        return fail(ENOENT, format!("contained type struct {ty} not found"));
    };
    if node.is_empty() {
        return fail(EINVAL, "contains: tag names no node field");
    }
    Ok((id, node.to_string()))
}
