//! The raw listing of `bpftool btf dump file F` (format raw), line for line.

use crate::{Btf, Kind, Type, TypeData};
use std::fmt::Write;

fn q(s: &str) -> &str {
    if s.is_empty() {
        "(anon)"
    } else {
        s
    }
}

/// One type as bpftool's raw format prints it (`[1] INT 'long unsigned int' size=8 ...`), with
/// its member/enumerator/parameter lines, and a final newline.
pub fn dump_raw_type(btf: &Btf, t: &Type<'_>, out: &mut String) {
    let _ = write!(out, "[{}] {} '{}'", t.id(), t.kind().as_str(), q(t.name()));
    match t.data() {
        TypeData::Void => {}
        TypeData::Int { size, info } => {
            let _ = write!(
                out,
                " size={size} bits_offset={} nr_bits={} encoding={}",
                info.offset,
                info.bits,
                info.encoding.as_str()
            );
        }
        TypeData::Ptr { target }
        | TypeData::Const { target }
        | TypeData::Volatile { target }
        | TypeData::Restrict { target }
        | TypeData::Typedef { target }
        | TypeData::TypeTag { target, .. } => {
            let _ = write!(out, " type_id={target}");
        }
        TypeData::Array(a) => {
            let _ =
                write!(out, " type_id={} index_type_id={} nr_elems={}", a.elem_type, a.index_type, a.nelems);
        }
        TypeData::Struct { size, members } | TypeData::Union { size, members } => {
            let _ = write!(out, " size={size} vlen={}", t.vlen());
            for m in members {
                let _ = write!(out, "\n\t'{}' type_id={} bits_offset={}", q(m.name), m.type_id, m.bit_offset);
                if m.bitfield_size != 0 {
                    let _ = write!(out, " bitfield_size={}", m.bitfield_size);
                }
            }
        }
        TypeData::Enum { size, signed, values } | TypeData::Enum64 { size, signed, values } => {
            let enc = if signed { "SIGNED" } else { "UNSIGNED" };
            let _ = write!(out, " encoding={enc} size={size} vlen={}", t.vlen());
            let is64 = t.kind() == Kind::Enum64;
            for v in values {
                let _ = match (is64, signed) {
                    (false, true) => write!(out, "\n\t'{}' val={}", q(v.name), v.as_i64()),
                    (false, false) => write!(out, "\n\t'{}' val={}", q(v.name), v.raw),
                    (true, true) => write!(out, "\n\t'{}' val={}LL", q(v.name), v.as_i64()),
                    (true, false) => write!(out, "\n\t'{}' val={}ULL", q(v.name), v.raw),
                };
            }
        }
        TypeData::Fwd { union } => {
            let _ = write!(out, " fwd_kind={}", if union { "union" } else { "struct" });
        }
        TypeData::Func { proto, .. } => {
            let linkage = t.func_linkage().map_or("(unknown)", |l| l.as_str());
            let _ = write!(out, " type_id={proto} linkage={linkage}");
        }
        TypeData::FuncProto { ret, params } => {
            let _ = write!(out, " ret_type_id={ret} vlen={}", t.vlen());
            for p in params {
                let _ = write!(out, "\n\t'{}' type_id={}", q(p.name), p.type_id);
            }
        }
        TypeData::Var { target, .. } => {
            let linkage = t.var_linkage().map_or("(unknown)", |l| l.as_str());
            let _ = write!(out, " type_id={target}, linkage={linkage}");
        }
        TypeData::Datasec { size, vars } => {
            let _ = write!(out, " size={size} vlen={}", t.vlen());
            for v in vars {
                let _ = write!(out, "\n\ttype_id={} offset={} size={}", v.type_id, v.offset, v.size);
                if let Some(vt) = btf.get(v.type_id) {
                    let _ = write!(out, " ({} '{}')", vt.kind().as_str(), q(vt.name()));
                }
            }
        }
        TypeData::Float { size } => {
            let _ = write!(out, " size={size}");
        }
        TypeData::DeclTag { target, .. } => {
            let idx = t.decl_tag_component_raw().unwrap_or(-1);
            let _ = write!(out, " type_id={target} component_idx={idx}");
        }
    }
    out.push('\n');
}

/// Every type of this part (for split BTF, not the base's), as `bpftool btf dump file F`
/// prints them.
pub fn dump_raw(btf: &Btf) -> String {
    let mut out = String::with_capacity(btf.raw_types().len() * 3);
    for t in btf.types() {
        dump_raw_type(btf, &t, &mut out);
    }
    out
}
