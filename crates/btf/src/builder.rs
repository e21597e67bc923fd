//! [`BtfBuilder`]: writes BTF bytes.

use crate::kind::raw;
use crate::{Btf, BtfError, FuncLinkage, IntEncoding, Kind, Type, TypeData, VarLinkage, VarSecinfo};
use std::collections::HashMap;
use std::sync::Arc;

/// A struct or union member for [`BtfBuilder::add_struct`] / [`BtfBuilder::add_union`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NewMember<'a> {
    /// Name (empty: an anonymous struct/union member).
    pub name: &'a str,
    /// Member type.
    pub type_id: u32,
    /// Offset in bits from the start of the struct.
    pub bit_offset: u32,
    /// Bitfield width; 0 for a plain member.
    pub bitfield_size: u32,
}

impl<'a> NewMember<'a> {
    /// A plain member.
    pub fn new(name: &'a str, type_id: u32, bit_offset: u32) -> Self {
        NewMember { name, type_id, bit_offset, bitfield_size: 0 }
    }
    /// A bitfield of `bits` bits.
    pub fn bitfield(name: &'a str, type_id: u32, bit_offset: u32, bits: u32) -> Self {
        NewMember { name, type_id, bit_offset, bitfield_size: bits }
    }
}

/// Builds BTF: add types (each call returns the new type's id), then [`finish`](Self::finish)
/// for the bytes or [`build`](Self::build) for a parsed, validated [`Btf`].
///
/// Strings are deduplicated. Types may refer to ids not added yet (a struct pointing to
/// itself): ids are only checked when the result is parsed. The builder itself does not
/// validate; a count that cannot be encoded (more than 65535 members) is reported by `finish`.
#[derive(Clone, Debug)]
pub struct BtfBuilder {
    types: Vec<u8>,
    count: u32,
    start_id: u32,
    strings: Vec<u8>,
    str_map: HashMap<String, u32>,
    start_str_off: u32,
    error: Option<String>,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BtfBuilder {
    /// An empty base BTF: the first type added gets id 1.
    pub fn new() -> Self {
        let mut str_map = HashMap::new();
        str_map.insert(String::new(), 0);
        BtfBuilder {
            types: Vec::new(),
            count: 0,
            start_id: 1,
            strings: vec![0],
            str_map,
            start_str_off: 0,
            error: None,
        }
    }

    /// An empty split BTF on `base`: ids continue from `base.type_count()`, string offsets
    /// from the end of the base's strings. Strings the base already has are reused, as libbpf
    /// and pahole do for kernel modules.
    pub fn new_split(base: &Btf) -> Self {
        let mut parts = vec![base];
        while let Some(b) = parts.last().and_then(|p| p.base()) {
            parts.push(b);
        }
        let mut str_map = HashMap::new();
        for p in parts.into_iter().rev() {
            let mut off = p.start_str_off();
            for s in p.raw_strings().split(|&b| b == 0) {
                if let Ok(s) = std::str::from_utf8(s) {
                    // The lowest offset wins.
                    str_map.entry(s.to_string()).or_insert(off);
                }
                off += s.len() as u32 + 1;
            }
        }
        str_map.insert(String::new(), 0);
        BtfBuilder {
            types: Vec::new(),
            count: 0,
            start_id: base.type_count(),
            strings: Vec::new(),
            str_map,
            start_str_off: base.str_space(),
            error: None,
        }
    }

    /// A builder holding a copy of every type of `btf`'s own part (same ids), strings
    /// re-interned: `BtfBuilder::from_btf(&b).finish()` rebuilds `b`.
    pub fn from_btf(btf: &Btf) -> Self {
        let mut b = match btf.base() {
            Some(base) => Self::new_split(base),
            None => Self::new(),
        };
        for t in btf.types() {
            b.add_type_from(&t);
        }
        b
    }

    /// Id the next added type will get.
    pub fn next_id(&self) -> u32 {
        self.start_id + self.count
    }

    /// Number of type ids so far, void and base included.
    pub fn type_count(&self) -> u32 {
        self.next_id()
    }

    /// Interns `s`; returns its offset in the string space.
    pub fn add_string(&mut self, s: &str) -> u32 {
        if let Some(&off) = self.str_map.get(s) {
            return off;
        }
        let off = self.start_str_off + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.str_map.insert(s.to_string(), off);
        off
    }

    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    fn vlen(&mut self, n: usize, what: &str) -> u32 {
        if n > raw::MAX_VLEN as usize {
            let id = self.next_id();
            self.fail(format!("type [{id}]: {n} {what}, more than 65535"));
        }
        n.min(raw::MAX_VLEN as usize) as u32
    }

    fn push_type(&mut self, name: &str, kind: Kind, kflag: bool, vlen: u32, size_type: u32) -> u32 {
        let name_off = self.add_string(name);
        let info = (kflag as u32) << 31 | (kind as u32) << 24 | (vlen & 0xffff);
        self.word(name_off);
        self.word(info);
        self.word(size_type);
        let id = self.next_id();
        self.count += 1;
        id
    }

    fn word(&mut self, w: u32) {
        self.types.extend_from_slice(&w.to_le_bytes());
    }

    /// An INT of `size` bytes, all bits used.
    pub fn add_int(&mut self, name: &str, size: u32, encoding: IntEncoding) -> u32 {
        self.add_int_raw(name, size, 0, (size * 8).min(255) as u8, encoding)
    }

    /// An INT with explicit bit offset and width (legacy bitfield INTs).
    pub fn add_int_raw(
        &mut self,
        name: &str,
        size: u32,
        bit_offset: u8,
        bits: u8,
        encoding: IntEncoding,
    ) -> u32 {
        let id = self.push_type(name, Kind::Int, false, 0, size);
        self.word((encoding.0 as u32) << 24 | (bit_offset as u32) << 16 | bits as u32);
        id
    }

    /// A FLOAT.
    pub fn add_float(&mut self, name: &str, size: u32) -> u32 {
        self.push_type(name, Kind::Float, false, 0, size)
    }

    /// A pointer to `target` (0: `void *`).
    pub fn add_ptr(&mut self, target: u32) -> u32 {
        self.push_type("", Kind::Ptr, false, 0, target)
    }

    /// `const target`.
    pub fn add_const(&mut self, target: u32) -> u32 {
        self.push_type("", Kind::Const, false, 0, target)
    }

    /// `volatile target`.
    pub fn add_volatile(&mut self, target: u32) -> u32 {
        self.push_type("", Kind::Volatile, false, 0, target)
    }

    /// `restrict target`.
    pub fn add_restrict(&mut self, target: u32) -> u32 {
        self.push_type("", Kind::Restrict, false, 0, target)
    }

    /// `typedef target name`.
    pub fn add_typedef(&mut self, name: &str, target: u32) -> u32 {
        self.push_type(name, Kind::Typedef, false, 0, target)
    }

    /// `btf_type_tag(value)` on `target`; put it right after a PTR (`int __rcu *` is
    /// PTR -> TYPE_TAG -> INT).
    pub fn add_type_tag(&mut self, value: &str, target: u32) -> u32 {
        self.push_type(value, Kind::TypeTag, false, 0, target)
    }

    /// A type tag holding an arbitrary attribute (kind_flag set; libbpf's
    /// `btf__add_type_attr`).
    pub fn add_type_attr(&mut self, value: &str, target: u32) -> u32 {
        self.push_type(value, Kind::TypeTag, true, 0, target)
    }

    /// An array of `nelems` `elem`s indexed by `index_type` (an INT).
    pub fn add_array(&mut self, elem: u32, index_type: u32, nelems: u32) -> u32 {
        let id = self.push_type("", Kind::Array, false, 0, 0);
        self.word(elem);
        self.word(index_type);
        self.word(nelems);
        id
    }

    fn composite(
        &mut self,
        kind: Kind,
        name: &str,
        size: u32,
        members: &[NewMember<'_>],
        kflag: Option<bool>,
    ) -> u32 {
        let kflag = kflag.unwrap_or_else(|| members.iter().any(|m| m.bitfield_size != 0));
        let vlen = self.vlen(members.len(), "members");
        let id = self.push_type(name, kind, kflag, vlen, size);
        for m in members.iter().take(vlen as usize) {
            let name_off = self.add_string(m.name);
            let off = if kflag {
                if m.bit_offset > 0x00ff_ffff || m.bitfield_size > 0xff {
                    self.fail(format!(
                        "type [{id}]: member '{}' at bit {} width {} cannot be encoded",
                        m.name, m.bit_offset, m.bitfield_size
                    ));
                }
                m.bitfield_size << 24 | (m.bit_offset & 0x00ff_ffff)
            } else {
                m.bit_offset
            };
            self.word(name_off);
            self.word(m.type_id);
            self.word(off);
        }
        id
    }

    /// A struct; kind_flag is set when a member is a bitfield.
    pub fn add_struct(&mut self, name: &str, size: u32, members: &[NewMember<'_>]) -> u32 {
        self.composite(Kind::Struct, name, size, members, None)
    }

    /// A union; kind_flag is set when a member is a bitfield.
    pub fn add_union(&mut self, name: &str, size: u32, members: &[NewMember<'_>]) -> u32 {
        self.composite(Kind::Union, name, size, members, None)
    }

    /// A forward declaration: `struct name;` or `union name;`.
    pub fn add_fwd(&mut self, name: &str, union: bool) -> u32 {
        self.push_type(name, Kind::Fwd, union, 0, 0)
    }

    /// An ENUM (32-bit values; each value keeps its low 32 bits). An empty `values` is
    /// `enum name;`, a forward declaration.
    pub fn add_enum(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, i64)]) -> u32 {
        let vlen = self.vlen(values.len(), "enumerators");
        let id = self.push_type(name, Kind::Enum, signed, vlen, size);
        for (n, v) in values.iter().take(vlen as usize) {
            let off = self.add_string(n);
            self.word(off);
            self.word(*v as u32);
        }
        id
    }

    /// An ENUM64.
    pub fn add_enum64(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, u64)]) -> u32 {
        let vlen = self.vlen(values.len(), "enumerators");
        let id = self.push_type(name, Kind::Enum64, signed, vlen, size);
        for (n, v) in values.iter().take(vlen as usize) {
            let off = self.add_string(n);
            self.word(off);
            self.word(*v as u32);
            self.word((*v >> 32) as u32);
        }
        id
    }

    /// A FUNC_PROTO returning `ret` (0: void) with `(name, type)` parameters; a last parameter
    /// `("", 0)` means `...`.
    pub fn add_func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let vlen = self.vlen(params.len(), "parameters");
        let id = self.push_type("", Kind::FuncProto, false, vlen, ret);
        for (n, t) in params.iter().take(vlen as usize) {
            let off = self.add_string(n);
            self.word(off);
            self.word(*t);
        }
        id
    }

    /// A FUNC named `name` with prototype `proto`.
    pub fn add_func(&mut self, name: &str, proto: u32, linkage: FuncLinkage) -> u32 {
        self.push_type(name, Kind::Func, false, linkage as u32, proto)
    }

    /// A VAR.
    pub fn add_var(&mut self, name: &str, type_id: u32, linkage: VarLinkage) -> u32 {
        let id = self.push_type(name, Kind::Var, false, 0, type_id);
        self.word(linkage as u32);
        id
    }

    /// A DATASEC of `size` bytes holding `vars`.
    pub fn add_datasec(&mut self, name: &str, size: u32, vars: &[VarSecinfo]) -> u32 {
        let vlen = self.vlen(vars.len(), "variables");
        let id = self.push_type(name, Kind::Datasec, false, vlen, size);
        for v in vars.iter().take(vlen as usize) {
            self.word(v.type_id);
            self.word(v.offset);
            self.word(v.size);
        }
        id
    }

    /// `btf_decl_tag(value)` on `target` itself (`component: None`) or on its member /
    /// parameter `component`.
    pub fn add_decl_tag(&mut self, value: &str, target: u32, component: Option<u32>) -> u32 {
        self.decl_tag(value, target, component.map_or(-1, |c| c as i32), false)
    }

    /// A decl tag holding an arbitrary attribute (kind_flag set; libbpf's
    /// `btf__add_decl_attr`).
    pub fn add_decl_attr(&mut self, value: &str, target: u32, component: Option<u32>) -> u32 {
        self.decl_tag(value, target, component.map_or(-1, |c| c as i32), true)
    }

    fn decl_tag(&mut self, value: &str, target: u32, idx: i32, attr: bool) -> u32 {
        let id = self.push_type(value, Kind::DeclTag, attr, 0, target);
        self.word(idx as u32);
        id
    }

    /// Appends a copy of `t` (from any [`Btf`]), strings re-interned and ids kept as they
    /// are. Returns the new id.
    pub fn add_type_from(&mut self, t: &Type<'_>) -> u32 {
        let name = t.name();
        match t.data() {
            TypeData::Void => self.push_type("", Kind::Void, false, 0, 0),
            TypeData::Int { size, info } => {
                self.add_int_raw(name, size, info.offset, info.bits, info.encoding)
            }
            TypeData::Ptr { target } => self.add_ptr(target),
            TypeData::Const { target } => self.add_const(target),
            TypeData::Volatile { target } => self.add_volatile(target),
            TypeData::Restrict { target } => self.add_restrict(target),
            TypeData::Typedef { target } => self.add_typedef(name, target),
            TypeData::TypeTag { target, attr } => self.push_type(name, Kind::TypeTag, attr, 0, target),
            TypeData::Array(a) => self.add_array(a.elem_type, a.index_type, a.nelems),
            TypeData::Struct { size, members } | TypeData::Union { size, members } => {
                let ms: Vec<NewMember<'_>> = members
                    .map(|m| NewMember {
                        name: m.name,
                        type_id: m.type_id,
                        bit_offset: m.bit_offset,
                        bitfield_size: m.bitfield_size,
                    })
                    .collect();
                self.composite(t.kind(), name, size, &ms, Some(t.kind_flag()))
            }
            TypeData::Enum { size, signed, values } => {
                let vs: Vec<(&str, i64)> = values.map(|v| (v.name, v.raw as i64)).collect();
                self.add_enum(name, size, signed, &vs)
            }
            TypeData::Enum64 { size, signed, values } => {
                let vs: Vec<(&str, u64)> = values.map(|v| (v.name, v.raw)).collect();
                self.add_enum64(name, size, signed, &vs)
            }
            TypeData::Fwd { union } => self.add_fwd(name, union),
            TypeData::Func { proto, .. } => self.push_type(name, Kind::Func, false, t.vlen() as u32, proto),
            TypeData::FuncProto { ret, params } => {
                let ps: Vec<(&str, u32)> = params.map(|p| (p.name, p.type_id)).collect();
                self.add_func_proto(ret, &ps)
            }
            TypeData::Var { target, .. } => {
                let id = self.push_type(name, Kind::Var, false, 0, target);
                self.word(t.var_linkage_raw().unwrap_or(0));
                id
            }
            TypeData::Datasec { size, vars } => {
                let vs: Vec<VarSecinfo> = vars.collect();
                self.add_datasec(name, size, &vs)
            }
            TypeData::Float { size } => self.add_float(name, size),
            TypeData::DeclTag { target, attr, .. } => {
                self.decl_tag(name, target, t.decl_tag_component_raw().unwrap_or(-1), attr)
            }
        }
    }

    /// The BTF bytes: header, type section, string section.
    pub fn finish(&self) -> Result<Vec<u8>, BtfError> {
        if let Some(e) = &self.error {
            return Err(BtfError::BadHeader(format!("builder: {e}")));
        }
        let type_len = self.types.len() as u32;
        let str_len = self.strings.len() as u32;
        let mut out = Vec::with_capacity(raw::HEADER_LEN + self.types.len() + self.strings.len());
        out.extend_from_slice(&raw::BTF_MAGIC.to_le_bytes());
        out.push(raw::BTF_VERSION);
        out.push(0);
        for w in [raw::HEADER_LEN as u32, 0, type_len, type_len, str_len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        Ok(out)
    }

    /// [`finish`](Self::finish), then parse and validate the result as base BTF.
    pub fn build(&self) -> Result<Btf, BtfError> {
        Btf::from_vec(self.finish()?)
    }

    /// [`finish`](Self::finish), then parse and validate the result as split BTF on `base`
    /// (the base this builder was made with by [`new_split`](Self::new_split)).
    pub fn build_split(&self, base: Arc<Btf>) -> Result<Btf, BtfError> {
        Btf::from_vec_split(self.finish()?, base)
    }
}
