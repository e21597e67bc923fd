//! Validation of parsed BTF, run once by [`Btf`]'s constructors.
//!
//! Three passes over this part's types (a split part's base was validated when it was parsed):
//!
//! 1. Per type (libbpf's `btf_validate_type` plus the structural checks of the kernel's
//!    `btf_check_meta`): name offsets inside the string space, referenced ids in range, vlen and
//!    kind_flag only where the kind uses them, names present where required (FUNC, VAR, tags,
//!    typedefs) and absent where the kernel forbids them (PTR, ARRAY, FUNC_PROTO, modifiers), INT
//!    encodings, member offsets inside their struct,
//!    decl tag component indexes, DATASEC entries.
//! 2. Pointer chains: following PTR and modifiers/typedefs must end (a `typedef T *T` loop).
//! 3. Value containment (the kernel's `btf_resolve` in struct/array mode): following
//!    modifiers, typedefs, array elements and struct members by value must not come back
//!    (`struct A { struct A a; }`); array sizes must fit in u32; members must end inside their
//!    struct.
//!
//! Every algorithm here is iterative: hostile input cannot overflow the stack.

use crate::btf::rd32;
use crate::kind::raw;
use crate::{Btf, BtfError, Kind, TypeProblem};

const LONG_ALIASES: [&str; 11] = [
    "long",
    "long int",
    "int long",
    "unsigned long",
    "long unsigned",
    "unsigned long int",
    "unsigned int long",
    "long unsigned int",
    "long int unsigned",
    "int unsigned long",
    "int long unsigned",
];

struct Ctx<'a> {
    btf: &'a Btf,
    count: u32,
    space: u32,
}

impl Ctx<'_> {
    fn name(&self, id: u32, off: u32, what: impl FnOnce() -> String) -> Result<(), BtfError> {
        if off == 0 {
            return Ok(());
        }
        if off >= self.space {
            return Err(self
                .btf
                .bad(id, TypeProblem::NameOffset { what: what(), offset: off, limit: self.space }));
        }
        if !self.btf.str_off_ok(off) {
            return Err(self.btf.bad(id, TypeProblem::NameNotCharBoundary { what: what(), offset: off }));
        }
        Ok(())
    }

    fn id(&self, id: u32, r: u32, what: impl FnOnce() -> String) -> Result<(), BtfError> {
        if r >= self.count {
            return Err(self.btf.bad(id, TypeProblem::TypeId { what: what(), id: r, count: self.count }));
        }
        Ok(())
    }

    fn non_void(&self, id: u32, r: u32, what: impl Fn() -> String) -> Result<(), BtfError> {
        self.id(id, r, &what)?;
        if r == 0 {
            return Err(self.btf.bad(id, TypeProblem::VoidRef { what: what() }));
        }
        Ok(())
    }

    fn kind_of(&self, r: u32) -> Kind {
        self.btf.get(r).map_or(Kind::Void, |t| t.kind())
    }
}

/// Validates `btf`; returns its pointer size.
pub(crate) fn check(btf: &Btf) -> Result<u32, BtfError> {
    let cx = Ctx { btf, count: btf.type_count(), space: btf.str_space() };
    let mut ptr_size = btf.base().map_or(0, |b| b.ptr_size());
    let n = btf.offsets.len();
    let mut kinds = Vec::with_capacity(n);
    let mut refs = Vec::with_capacity(n);

    for t in btf.types() {
        let id = t.id();
        let kind = t.kind();
        kinds.push(kind);
        refs.push(t.size_or_type());
        let info = t.info();
        if info & !raw::INFO_MASK != 0 {
            return Err(btf.bad(id, TypeProblem::ReservedInfoBits(info)));
        }
        cx.name(id, t.name_off(), || "type".into())?;
        let vlen = t.vlen();
        let vlen_ok = match kind {
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => true,
            Kind::FuncProto | Kind::Datasec => true,
            Kind::Func => vlen <= 2,
            _ => vlen == 0,
        };
        if !vlen_ok {
            return Err(btf.bad(id, TypeProblem::Vlen(vlen)));
        }
        let kflag_ok = matches!(
            kind,
            Kind::Struct
                | Kind::Union
                | Kind::Fwd
                | Kind::Enum
                | Kind::Enum64
                | Kind::DeclTag
                | Kind::TypeTag
        );
        if t.kind_flag() && !kflag_ok {
            return Err(btf.bad(id, TypeProblem::KindFlag));
        }
        if matches!(
            kind,
            Kind::Ptr | Kind::Array | Kind::FuncProto | Kind::Const | Kind::Volatile | Kind::Restrict
        ) && !t.is_anon()
        {
            return Err(btf.bad(id, TypeProblem::NameNotAllowed));
        }
        let r = t.size_or_type();
        match kind {
            Kind::Void => return Err(btf.bad(id, TypeProblem::UnknownKind(0))),
            Kind::Int => {
                let Some(ii) = t.int() else { continue };
                let word = crate::btf::rd32(&btf.data, int_word_offset(btf, id));
                if word & 0xf000_0000 != 0 {
                    return Err(
                        btf.bad(id, TypeProblem::IntData(format!("reserved bits set in {word:#010x}")))
                    );
                }
                if !matches!(r, 1 | 2 | 4 | 8 | 16) {
                    return Err(btf.bad(id, TypeProblem::Size(r)));
                }
                if ii.bits == 0 || ii.bits as u32 > 128 {
                    return Err(
                        btf.bad(id, TypeProblem::IntData(format!("nr_bits {} not in 1..=128", ii.bits)))
                    );
                }
                if ii.bits as u32 + ii.offset as u32 > r * 8 {
                    return Err(btf.bad(
                        id,
                        TypeProblem::IntData(format!(
                            "nr_bits {} + bits_offset {} exceed the size of {r} bytes",
                            ii.bits, ii.offset
                        )),
                    ));
                }
                if !matches!(ii.encoding.0, 0 | raw::INT_SIGNED | raw::INT_CHAR | raw::INT_BOOL) {
                    return Err(btf.bad(id, TypeProblem::IntData(format!("encoding {:#x}", ii.encoding.0))));
                }
                if ptr_size == 0 && (r == 4 || r == 8) && LONG_ALIASES.contains(&t.name()) {
                    ptr_size = r;
                }
            }
            Kind::Ptr | Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict => {
                cx.id(id, r, || "referenced".into())?;
                if kind == Kind::Typedef && t.is_anon() {
                    return Err(btf.bad(id, TypeProblem::MissingName));
                }
            }
            Kind::TypeTag => {
                cx.id(id, r, || "referenced".into())?;
                if t.is_anon() {
                    return Err(btf.bad(id, TypeProblem::MissingName));
                }
            }
            Kind::Array => {
                let a = t.array().unwrap_or_default();
                cx.non_void(id, a.elem_type, || "array element".into())?;
                cx.id(id, a.index_type, || "array index".into())?;
            }
            Kind::Struct | Kind::Union => {
                let size = r as u64;
                for (i, name_off, type_id, bit_offset, bitfield_size) in t.raw_members() {
                    cx.name(id, name_off, || format!("member {i}"))?;
                    cx.non_void(id, type_id, || format!("member {i}"))?;
                    if kind == Kind::Union && bit_offset != 0 {
                        return Err(btf.bad(
                            id,
                            TypeProblem::MemberOffset {
                                index: i,
                                reason: format!("union member at bit offset {bit_offset}"),
                            },
                        ));
                    }
                    if (bit_offset as u64).div_ceil(8) > size {
                        return Err(btf.bad(
                            id,
                            TypeProblem::MemberOffset {
                                index: i,
                                reason: format!("bit offset {bit_offset} is beyond the size of {size} bytes"),
                            },
                        ));
                    }
                    if bit_offset as u64 + bitfield_size as u64 > size * 8 {
                        return Err(btf.bad(
                            id,
                            TypeProblem::MemberOffset {
                                index: i,
                                reason: format!(
                                    "bitfield {bit_offset}:{bitfield_size} ends beyond the size of {size} bytes"
                                ),
                            },
                        ));
                    }
                }
            }
            Kind::Enum | Kind::Enum64 => {
                if !matches!(r, 1 | 2 | 4 | 8) {
                    return Err(btf.bad(id, TypeProblem::Size(r)));
                }
                for (i, name_off) in t.raw_enum_names().enumerate() {
                    cx.name(id, name_off, || format!("enumerator {i}"))?;
                }
            }
            Kind::Fwd => {
                if t.is_anon() {
                    return Err(btf.bad(id, TypeProblem::MissingName));
                }
            }
            Kind::Func => {
                if t.is_anon() {
                    return Err(btf.bad(id, TypeProblem::MissingName));
                }
                cx.non_void(id, r, || "prototype".into())?;
                let k = cx.kind_of(r);
                if k != Kind::FuncProto {
                    return Err(btf.bad(
                        id,
                        TypeProblem::RefKind {
                            what: "prototype".into(),
                            id: r,
                            kind: k,
                            expected: "FUNC_PROTO",
                        },
                    ));
                }
            }
            Kind::FuncProto => {
                cx.id(id, r, || "return".into())?;
                let n = t.vlen() as usize;
                for (i, (name_off, type_id)) in t.raw_params().enumerate() {
                    cx.name(id, name_off, || format!("param {i}"))?;
                    cx.id(id, type_id, || format!("param {i}"))?;
                    if type_id == 0 && i + 1 != n {
                        return Err(btf.bad(id, TypeProblem::VoidParam(i as u32)));
                    }
                }
            }
            Kind::Var => {
                if t.is_anon() {
                    return Err(btf.bad(id, TypeProblem::MissingName));
                }
                cx.non_void(id, r, || "variable".into())?;
                let l = t.var_linkage_raw().unwrap_or(0);
                if l > 2 {
                    return Err(btf.bad(id, TypeProblem::Linkage(l)));
                }
            }
            Kind::Datasec => {
                for (i, v) in t.datasec_vars().enumerate() {
                    let i = i as u32;
                    cx.non_void(id, v.type_id, || format!("var {i}"))?;
                    let k = cx.kind_of(v.type_id);
                    if !matches!(k, Kind::Var | Kind::Func) {
                        return Err(btf.bad(
                            id,
                            TypeProblem::RefKind {
                                what: format!("var {i}"),
                                id: v.type_id,
                                kind: k,
                                expected: "VAR or FUNC",
                            },
                        ));
                    }
                    let end = v.offset as u64 + v.size as u64;
                    if end > u32::MAX as u64 {
                        return Err(btf.bad(
                            id,
                            TypeProblem::SecInfo {
                                index: i,
                                reason: format!("offset {} + size {} overflows", v.offset, v.size),
                            },
                        ));
                    }
                    if r != 0 && end > r as u64 {
                        return Err(btf.bad(
                            id,
                            TypeProblem::SecInfo {
                                index: i,
                                reason: format!(
                                    "offset {} + size {} beyond the section size {r}",
                                    v.offset, v.size
                                ),
                            },
                        ));
                    }
                }
            }
            Kind::Float => {
                if !matches!(r, 2 | 4 | 8 | 12 | 16) {
                    return Err(btf.bad(id, TypeProblem::Size(r)));
                }
            }
            Kind::DeclTag => {
                if t.is_anon() {
                    return Err(btf.bad(id, TypeProblem::MissingName));
                }
                cx.non_void(id, r, || "tagged".into())?;
                let target = btf.get(r);
                let tk = target.map_or(Kind::Void, |t| t.kind());
                if !matches!(tk, Kind::Struct | Kind::Union | Kind::Var | Kind::Func | Kind::Typedef) {
                    return Err(btf.bad(
                        id,
                        TypeProblem::RefKind {
                            what: "tagged".into(),
                            id: r,
                            kind: tk,
                            expected: "STRUCT, UNION, VAR, FUNC or TYPEDEF",
                        },
                    ));
                }
                let idx = t.decl_tag_component_raw().unwrap_or(-1);
                if idx < -1 {
                    return Err(btf.bad(id, TypeProblem::ComponentIdx(idx)));
                }
                if idx >= 0 {
                    let limit = match (tk, target) {
                        (Kind::Struct | Kind::Union, Some(t)) => t.vlen() as i64,
                        (Kind::Func, Some(f)) => btf.get(f.size_or_type()).map_or(0, |p| p.vlen() as i64),
                        _ => 0,
                    };
                    if idx as i64 >= limit {
                        return Err(btf.bad(id, TypeProblem::ComponentIdx(idx)));
                    }
                }
            }
        }
    }
    if ptr_size == 0 {
        ptr_size = 8;
    }
    check_ptr_chains(btf, &kinds, &refs)?;
    check_values(btf, &kinds, &refs, ptr_size)?;
    Ok(ptr_size)
}

fn int_word_offset(btf: &Btf, id: u32) -> usize {
    btf.types_start + btf.offsets[(id - btf.start_id) as usize] as usize + 12
}

/// Pass 2: chains of PTR, modifiers and typedefs must end. Each node has at most one successor,
/// so this is cycle finding in a functional graph.
fn check_ptr_chains(btf: &Btf, kinds: &[Kind], refs: &[u32]) -> Result<(), BtfError> {
    let start = btf.start_id;
    let is_node = |k: Kind| {
        matches!(k, Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::Typedef | Kind::TypeTag)
    };
    let next = |i: usize| -> Option<usize> {
        let r = refs[i];
        if r < start {
            return None;
        }
        let j = (r - start) as usize;
        (j < kinds.len() && is_node(kinds[j])).then_some(j)
    };
    // 0: not visited, 1: on the current walk, 2: done.
    let mut state = vec![0u8; kinds.len()];
    let mut path = Vec::new();
    for i in 0..kinds.len() {
        if state[i] != 0 || !is_node(kinds[i]) {
            continue;
        }
        path.clear();
        let mut cur = Some(i);
        while let Some(c) = cur {
            match state[c] {
                0 => {
                    state[c] = 1;
                    path.push(c);
                    cur = next(c);
                }
                1 => {
                    let pos = path.iter().position(|&p| p == c).unwrap_or(0);
                    let ids = path[pos..].iter().map(|&p| start + p as u32).collect();
                    return Err(btf.bad(start + c as u32, TypeProblem::Loop { path: ids }));
                }
                _ => break,
            }
        }
        for &p in &path {
            state[p] = 2;
        }
    }
    Ok(())
}

/// Pass 3: containment by value, with resolved sizes computed in post-order.
fn check_values(btf: &Btf, kinds: &[Kind], refs: &[u32], ptr_size: u32) -> Result<(), BtfError> {
    const NONE: u64 = u64::MAX;
    const NO_BITS: u16 = u16::MAX;
    let start = btf.start_id;
    let n = kinds.len();
    let data = &btf.data;
    let rec = |j: usize| btf.types_start + btf.offsets[j] as usize + 12;
    let is_node = |k: Kind| {
        matches!(
            k,
            Kind::Const
                | Kind::Volatile
                | Kind::Restrict
                | Kind::Typedef
                | Kind::TypeTag
                | Kind::Array
                | Kind::Struct
                | Kind::Union
        )
    };
    let own = |id: u32| -> Option<usize> {
        if id < start {
            return None;
        }
        let j = (id - start) as usize;
        (j < n).then_some(j)
    };
    let mut vsize = vec![NONE; n];
    // INT bit width (offset + bits) through modifiers and typedefs, for legacy bitfields.
    let mut ibits = vec![NO_BITS; n];
    let mut state = vec![0u8; n];
    // Size of a type whose own size is known by now: from the base, the tables, or the kind.
    let size_of = |id: u32, vsize: &[u64]| -> u64 {
        if id == 0 {
            return NONE;
        }
        match own(id) {
            None => btf.base().and_then(|b| crate::query::resolve_size_u64(b, id).ok()).unwrap_or(NONE),
            Some(j) => match kinds[j] {
                k if is_node(k) => vsize[j],
                Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float | Kind::Datasec => refs[j] as u64,
                Kind::Ptr => ptr_size as u64,
                _ => NONE,
            },
        }
    };
    let int_bits = |id: u32, ibits: &[u16]| -> u16 {
        match own(id) {
            Some(j) if kinds[j] == Kind::Int => {
                let w = rd32(data, rec(j));
                ((w & 0xff) + ((w >> 16) & 0xff)) as u16
            }
            Some(j) => ibits[j],
            None => {
                let Some(b) = btf.base() else { return NO_BITS };
                match b.skip_mods_and_typedefs(id) {
                    Ok(t) => t.int().map_or(NO_BITS, |i| i.bits as u16 + i.offset as u16),
                    Err(_) => NO_BITS,
                }
            }
        }
    };
    // Child `k` of node `j` (member types, the array element, the modified type).
    let child = |j: usize, k: u32| -> Option<u32> {
        match kinds[j] {
            Kind::Struct | Kind::Union => {
                let vlen = rd32(data, rec(j) - 8) & 0xffff;
                (k < vlen).then(|| rd32(data, rec(j) + k as usize * 12 + 4))
            }
            Kind::Array => (k == 0).then(|| rd32(data, rec(j))),
            _ => (k == 0).then_some(refs[j]),
        }
    };
    let mut stack: Vec<(usize, u32)> = Vec::new();
    for root in 0..n {
        if state[root] != 0 || !is_node(kinds[root]) {
            continue;
        }
        state[root] = 1;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let j = top.0;
            if let Some(c) = child(j, top.1) {
                top.1 += 1;
                if let Some(cj) = own(c) {
                    if is_node(kinds[cj]) {
                        match state[cj] {
                            0 => {
                                state[cj] = 1;
                                stack.push((cj, 0));
                            }
                            1 => {
                                let p = stack.iter().position(|e| e.0 == cj).unwrap_or(0);
                                let ids = stack[p..].iter().map(|e| start + e.0 as u32).collect();
                                return Err(btf.bad(start + cj as u32, TypeProblem::Loop { path: ids }));
                            }
                            _ => {}
                        }
                    }
                }
                continue;
            }
            // Post-order: every child is resolved.
            let id = start + j as u32;
            let size = match kinds[j] {
                Kind::Array => {
                    let elem = rd32(data, rec(j));
                    let nelems = rd32(data, rec(j) + 8);
                    let es = size_of(elem, &vsize);
                    if es == NONE {
                        NONE
                    } else {
                        let total = es * nelems as u64;
                        if total > u32::MAX as u64 {
                            return Err(btf.bad(
                                id,
                                TypeProblem::SizeOverflow(format!("{nelems} elements of {es} bytes")),
                            ));
                        }
                        total
                    }
                }
                Kind::Struct | Kind::Union => {
                    let ssize = refs[j] as u64;
                    if let Some(t) = btf.get(id) {
                        for (index, _, type_id, bit_offset, bitfield_size) in t.raw_members() {
                            if bitfield_size != 0 {
                                continue; // checked in pass 1
                            }
                            let end = match int_bits(type_id, &ibits) {
                                NO_BITS => match size_of(type_id, &vsize) {
                                    NONE => continue,
                                    s => bit_offset as u64 + s * 8,
                                },
                                bits => bit_offset as u64 + bits as u64,
                            };
                            if end > ssize * 8 {
                                return Err(btf.bad(
                                    id,
                                    TypeProblem::MemberOffset {
                                        index,
                                        reason: format!(
                                            "ends at bit {end}, beyond the size of {ssize} bytes"
                                        ),
                                    },
                                ));
                            }
                        }
                    }
                    ssize
                }
                _ => {
                    ibits[j] = int_bits(refs[j], &ibits);
                    size_of(refs[j], &vsize)
                }
            };
            vsize[j] = size;
            state[j] = 2;
            stack.pop();
        }
    }
    Ok(())
}
