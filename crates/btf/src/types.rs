//! [`Type`]: a view of one BTF type, decoded from the raw bytes on demand.

use crate::btf::rd32;
use crate::{Btf, FuncLinkage, IntEncoding, Kind, VarLinkage};
use std::fmt;

/// One BTF type: its id, common header and accessors for its kind-specific data.
///
/// A `Type` is a few words (a reference to the [`Btf`] part holding it and the decoded common
/// header); kind-specific records (members, enumerators, parameters, ...) are read from the raw
/// bytes when asked for. Accessors for another kind's data return `None` or empty iterators.
#[derive(Clone, Copy)]
pub struct Type<'a> {
    part: &'a Btf,
    id: u32,
    name_off: u32,
    info: u32,
    size_type: u32,
    /// Absolute offset of the bytes after the common header.
    extra: usize,
}

impl fmt::Debug for Type<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} '{}'", self.id, self.kind().as_str(), self.name())
    }
}

impl PartialEq for Type<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.part, other.part) && self.id == other.id
    }
}
impl Eq for Type<'_> {}

impl<'a> Type<'a> {
    pub(crate) fn void(part: &'a Btf) -> Self {
        Type { part, id: 0, name_off: 0, info: 0, size_type: 0, extra: 0 }
    }

    pub(crate) fn at(part: &'a Btf, id: u32, off: usize) -> Self {
        let d = &part.data;
        Type {
            part,
            id,
            name_off: rd32(d, off),
            info: rd32(d, off + 4),
            size_type: rd32(d, off + 8),
            extra: off + 12,
        }
    }

    fn word(&self, at: usize) -> u32 {
        rd32(&self.part.data, self.extra + at)
    }

    /// The [`Btf`] (base or split part) that stores this type.
    pub fn btf(&self) -> &'a Btf {
        self.part
    }

    /// The type id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        Kind::from_raw(((self.info >> 24) & 0x1f) as u8).unwrap_or(Kind::Void)
    }

    /// The name, empty for anonymous types (and void).
    pub fn name(&self) -> &'a str {
        if self.name_off == 0 {
            return "";
        }
        self.part.str_at(self.name_off).unwrap_or("")
    }

    /// The raw name offset.
    pub fn name_off(&self) -> u32 {
        self.name_off
    }

    /// Anonymous: no name, or an empty one.
    pub fn is_anon(&self) -> bool {
        self.name_off == 0 || self.part.str_is_empty(self.name_off)
    }

    /// The raw info word.
    pub fn info(&self) -> u32 {
        self.info
    }

    /// `vlen`: number of members, enumerators, parameters or section entries (the linkage for
    /// a FUNC).
    pub fn vlen(&self) -> u16 {
        (self.info & 0xffff) as u16
    }

    /// `kind_flag`: bitfield member encoding (STRUCT/UNION), union (FWD), signed (ENUM/ENUM64),
    /// attribute rather than tag (DECL_TAG/TYPE_TAG).
    pub fn kind_flag(&self) -> bool {
        self.info >> 31 != 0
    }

    /// The raw third word: a size for INT, STRUCT, UNION, ENUM, ENUM64, DATASEC and FLOAT; a
    /// type id for the others.
    pub fn size_or_type(&self) -> u32 {
        self.size_type
    }

    /// The size in bytes, for kinds that store one ([`Kind::has_size`]), else `None`.
    pub fn size(&self) -> Option<u32> {
        self.kind().has_size().then_some(self.size_type)
    }

    /// The referenced type: pointee, modified or aliased type, a FUNC's FUNC_PROTO, a
    /// FUNC_PROTO's return type, a VAR's type, a DECL_TAG's target. `None` for other kinds.
    pub fn type_id(&self) -> Option<u32> {
        self.kind().has_type_ref().then_some(self.size_type)
    }

    /// The INT encoding word, decoded.
    pub fn int(&self) -> Option<IntInfo> {
        if self.kind() != Kind::Int {
            return None;
        }
        let v = self.word(0);
        Some(IntInfo {
            encoding: IntEncoding(((v >> 24) & 0x0f) as u8),
            offset: ((v >> 16) & 0xff) as u8,
            bits: (v & 0xff) as u8,
        })
    }

    /// The ARRAY record.
    pub fn array(&self) -> Option<ArrayInfo> {
        if self.kind() != Kind::Array {
            return None;
        }
        Some(ArrayInfo { elem_type: self.word(0), index_type: self.word(4), nelems: self.word(8) })
    }

    fn records(&self, kinds: &[Kind], rec: usize) -> (usize, usize) {
        if kinds.contains(&self.kind()) {
            (self.extra, self.vlen() as usize * rec)
        } else {
            (self.extra, 0)
        }
    }

    /// Members of a STRUCT or UNION (empty for other kinds).
    pub fn members(&self) -> Members<'a> {
        let (pos, len) = self.records(&[Kind::Struct, Kind::Union], 12);
        Members { part: self.part, pos, end: pos + len, index: 0, kflag: self.kind_flag() }
    }

    /// Members without their names decoded (validation's fast path): `(index, name_off,
    /// type_id, bit_offset, bitfield_size)`.
    pub(crate) fn raw_members(&self) -> impl Iterator<Item = (u32, u32, u32, u32, u32)> + 'a {
        let (pos, len) = self.records(&[Kind::Struct, Kind::Union], 12);
        let d = &self.part.data;
        let kflag = self.kind_flag();
        (0..len / 12).map(move |i| {
            let at = pos + i * 12;
            let off = rd32(d, at + 8);
            let (bo, bs) = if kflag { (off & 0x00ff_ffff, off >> 24) } else { (off, 0) };
            (i as u32, rd32(d, at), rd32(d, at + 4), bo, bs)
        })
    }

    /// `(name_off, type_id)` of each FUNC_PROTO parameter, names not decoded.
    pub(crate) fn raw_params(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        let (pos, len) = self.records(&[Kind::FuncProto], 8);
        let d = &self.part.data;
        (0..len / 8).map(move |i| (rd32(d, pos + i * 8), rd32(d, pos + i * 8 + 4)))
    }

    /// Name offsets of each enumerator.
    pub(crate) fn raw_enum_names(&self) -> impl Iterator<Item = u32> + 'a {
        let (rec, n) = match self.kind() {
            Kind::Enum => (8, self.vlen() as usize),
            Kind::Enum64 => (12, self.vlen() as usize),
            _ => (8, 0),
        };
        let d = &self.part.data;
        let pos = self.extra;
        (0..n).map(move |i| rd32(d, pos + i * rec))
    }

    /// Member `i` of a STRUCT or UNION.
    pub fn member(&self, i: usize) -> Option<Member<'a>> {
        self.members().nth(i)
    }

    /// Enumerators of an ENUM or ENUM64 (empty for other kinds).
    pub fn enum_values(&self) -> EnumValues<'a> {
        let (pos, len, is64) = match self.kind() {
            Kind::Enum => (self.extra, self.vlen() as usize * 8, false),
            Kind::Enum64 => (self.extra, self.vlen() as usize * 12, true),
            _ => (self.extra, 0, false),
        };
        EnumValues { part: self.part, pos, end: pos + len, is64, signed: self.kind_flag() }
    }

    /// Whether an ENUM/ENUM64's values are signed (`kind_flag`).
    pub fn enum_is_signed(&self) -> bool {
        self.kind().is_any_enum() && self.kind_flag()
    }

    /// Parameters of a FUNC_PROTO (empty for other kinds). A last parameter of type 0 means
    /// `...`.
    pub fn params(&self) -> Params<'a> {
        let (pos, len) = self.records(&[Kind::FuncProto], 8);
        Params { part: self.part, pos, end: pos + len }
    }

    /// A FUNC_PROTO's return type (0 for void).
    pub fn return_type(&self) -> Option<u32> {
        (self.kind() == Kind::FuncProto).then_some(self.size_type)
    }

    /// Whether a FUNC_PROTO ends in `...`.
    pub fn is_variadic(&self) -> bool {
        self.params().last().is_some_and(|p| p.type_id == 0)
    }

    /// A FUNC's linkage.
    pub fn func_linkage(&self) -> Option<FuncLinkage> {
        if self.kind() != Kind::Func {
            return None;
        }
        FuncLinkage::from_raw(self.vlen() as u32)
    }

    /// A VAR's linkage.
    pub fn var_linkage(&self) -> Option<VarLinkage> {
        if self.kind() != Kind::Var {
            return None;
        }
        VarLinkage::from_raw(self.word(0))
    }

    /// A VAR's raw linkage word.
    pub fn var_linkage_raw(&self) -> Option<u32> {
        (self.kind() == Kind::Var).then(|| self.word(0))
    }

    /// Entries of a DATASEC (empty for other kinds).
    pub fn datasec_vars(&self) -> VarSecinfos<'a> {
        let (pos, len) = self.records(&[Kind::Datasec], 12);
        VarSecinfos { part: self.part, pos, end: pos + len }
    }

    /// A DECL_TAG's component index: `None` for a tag on the type itself (-1), `Some(i)` for
    /// member or parameter `i`.
    pub fn decl_tag_component(&self) -> Option<Option<u32>> {
        if self.kind() != Kind::DeclTag {
            return None;
        }
        let v = self.word(0) as i32;
        Some(if v < 0 { None } else { Some(v as u32) })
    }

    /// A DECL_TAG's raw component index (-1 for the type itself).
    pub fn decl_tag_component_raw(&self) -> Option<i32> {
        (self.kind() == Kind::DeclTag).then(|| self.word(0) as i32)
    }

    /// A FWD of a union (`kind_flag`) rather than a struct.
    pub fn fwd_is_union(&self) -> bool {
        self.kind() == Kind::Fwd && self.kind_flag()
    }

    /// The whole type, decoded into an enum to match on.
    pub fn data(&self) -> TypeData<'a> {
        let t = self.size_type;
        match self.kind() {
            Kind::Void => TypeData::Void,
            Kind::Int => TypeData::Int { size: t, info: self.int().unwrap_or_default() },
            Kind::Ptr => TypeData::Ptr { target: t },
            Kind::Array => TypeData::Array(self.array().unwrap_or_default()),
            Kind::Struct => TypeData::Struct { size: t, members: self.members() },
            Kind::Union => TypeData::Union { size: t, members: self.members() },
            Kind::Enum => TypeData::Enum { size: t, signed: self.kind_flag(), values: self.enum_values() },
            Kind::Enum64 => {
                TypeData::Enum64 { size: t, signed: self.kind_flag(), values: self.enum_values() }
            }
            Kind::Fwd => TypeData::Fwd { union: self.kind_flag() },
            Kind::Typedef => TypeData::Typedef { target: t },
            Kind::Volatile => TypeData::Volatile { target: t },
            Kind::Const => TypeData::Const { target: t },
            Kind::Restrict => TypeData::Restrict { target: t },
            Kind::Func => {
                TypeData::Func { proto: t, linkage: self.func_linkage().unwrap_or(FuncLinkage::Static) }
            }
            Kind::FuncProto => TypeData::FuncProto { ret: t, params: self.params() },
            Kind::Var => {
                TypeData::Var { target: t, linkage: self.var_linkage().unwrap_or(VarLinkage::Static) }
            }
            Kind::Datasec => TypeData::Datasec { size: t, vars: self.datasec_vars() },
            Kind::Float => TypeData::Float { size: t },
            Kind::DeclTag => TypeData::DeclTag {
                target: t,
                component: self.decl_tag_component().flatten(),
                attr: self.kind_flag(),
            },
            Kind::TypeTag => TypeData::TypeTag { target: t, attr: self.kind_flag() },
        }
    }
}

/// A type decoded for matching ([`Type::data`]).
#[derive(Clone, Debug)]
#[allow(missing_docs)] // fields are named after the format's
pub enum TypeData<'a> {
    /// Id 0.
    Void,
    Int {
        size: u32,
        info: IntInfo,
    },
    Ptr {
        target: u32,
    },
    Array(ArrayInfo),
    Struct {
        size: u32,
        members: Members<'a>,
    },
    Union {
        size: u32,
        members: Members<'a>,
    },
    Enum {
        size: u32,
        signed: bool,
        values: EnumValues<'a>,
    },
    Enum64 {
        size: u32,
        signed: bool,
        values: EnumValues<'a>,
    },
    Fwd {
        union: bool,
    },
    Typedef {
        target: u32,
    },
    Volatile {
        target: u32,
    },
    Const {
        target: u32,
    },
    Restrict {
        target: u32,
    },
    Func {
        proto: u32,
        linkage: FuncLinkage,
    },
    FuncProto {
        ret: u32,
        params: Params<'a>,
    },
    Var {
        target: u32,
        linkage: VarLinkage,
    },
    Datasec {
        size: u32,
        vars: VarSecinfos<'a>,
    },
    Float {
        size: u32,
    },
    /// `component`: `None` for the type itself, else a member or parameter index. `attr`: the
    /// tag is an arbitrary `__attribute__` (kind_flag).
    DeclTag {
        target: u32,
        component: Option<u32>,
        attr: bool,
    },
    TypeTag {
        target: u32,
        attr: bool,
    },
}

/// An INT's encoding word.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct IntInfo {
    /// Signed / char / bool.
    pub encoding: IntEncoding,
    /// Bit offset (legacy; 0 in practice).
    pub offset: u8,
    /// Number of bits.
    pub bits: u8,
}

/// An ARRAY record.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ArrayInfo {
    /// Element type.
    pub elem_type: u32,
    /// Index type (an INT).
    pub index_type: u32,
    /// Number of elements.
    pub nelems: u32,
}

/// A STRUCT or UNION member.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Member<'a> {
    /// Index in the struct.
    pub index: u32,
    /// Name (empty for an anonymous struct/union member).
    pub name: &'a str,
    /// Raw name offset.
    pub name_off: u32,
    /// Member type.
    pub type_id: u32,
    /// Offset from the start of the struct, in bits.
    pub bit_offset: u32,
    /// Bitfield width in bits; 0 if not a bitfield (or, without kind_flag, if the bitfield
    /// width is carried by the member's INT type).
    pub bitfield_size: u32,
}

/// Iterator over members ([`Type::members`]).
#[derive(Clone)]
pub struct Members<'a> {
    part: &'a Btf,
    pos: usize,
    end: usize,
    index: u32,
    kflag: bool,
}

impl fmt::Debug for Members<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Member<'a>;
    fn next(&mut self) -> Option<Member<'a>> {
        if self.pos + 12 > self.end {
            return None;
        }
        let d = &self.part.data;
        let name_off = rd32(d, self.pos);
        let type_id = rd32(d, self.pos + 4);
        let off = rd32(d, self.pos + 8);
        let (bit_offset, bitfield_size) = if self.kflag { (off & 0x00ff_ffff, off >> 24) } else { (off, 0) };
        let m = Member {
            index: self.index,
            name: if name_off == 0 { "" } else { self.part.str_at(name_off).unwrap_or("") },
            name_off,
            type_id,
            bit_offset,
            bitfield_size,
        };
        self.pos += 12;
        self.index += 1;
        Some(m)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end.saturating_sub(self.pos)) / 12;
        (n, Some(n))
    }
}
impl ExactSizeIterator for Members<'_> {}

/// An enumerator of an ENUM or ENUM64.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EnumValue<'a> {
    /// Name.
    pub name: &'a str,
    /// Raw name offset.
    pub name_off: u32,
    /// The stored bits: 32 bits zero-extended for ENUM, 64 for ENUM64.
    pub raw: u64,
    /// Whether the enum is signed (kind_flag).
    pub signed: bool,
    /// From an ENUM64.
    pub is64: bool,
}

impl EnumValue<'_> {
    /// The value as a signed number (sign-extended from 32 bits for a signed ENUM).
    pub fn as_i64(&self) -> i64 {
        if self.is64 {
            self.raw as i64
        } else if self.signed {
            self.raw as u32 as i32 as i64
        } else {
            self.raw as i64
        }
    }
    /// The value as an unsigned number (bits as stored, zero-extended).
    pub fn as_u64(&self) -> u64 {
        self.raw
    }
    /// The value, exactly, whatever the signedness.
    pub fn value(&self) -> i128 {
        if self.signed {
            self.as_i64() as i128
        } else {
            self.raw as i128
        }
    }
}

/// Iterator over enumerators ([`Type::enum_values`]).
#[derive(Clone)]
pub struct EnumValues<'a> {
    part: &'a Btf,
    pos: usize,
    end: usize,
    is64: bool,
    signed: bool,
}

impl fmt::Debug for EnumValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for EnumValues<'a> {
    type Item = EnumValue<'a>;
    fn next(&mut self) -> Option<EnumValue<'a>> {
        let rec = if self.is64 { 12 } else { 8 };
        if self.pos + rec > self.end {
            return None;
        }
        let d = &self.part.data;
        let name_off = rd32(d, self.pos);
        let lo = rd32(d, self.pos + 4) as u64;
        let raw = if self.is64 { lo | (rd32(d, self.pos + 8) as u64) << 32 } else { lo };
        self.pos += rec;
        Some(EnumValue {
            name: self.part.str_at(name_off).unwrap_or(""),
            name_off,
            raw,
            signed: self.signed,
            is64: self.is64,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let rec = if self.is64 { 12 } else { 8 };
        let n = (self.end.saturating_sub(self.pos)) / rec;
        (n, Some(n))
    }
}
impl ExactSizeIterator for EnumValues<'_> {}

/// A FUNC_PROTO parameter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Param<'a> {
    /// Name (empty when unnamed, always for FUNC_PROTOs of function pointers).
    pub name: &'a str,
    /// Raw name offset.
    pub name_off: u32,
    /// Type (0 in last position: `...`).
    pub type_id: u32,
}

/// Iterator over parameters ([`Type::params`]).
#[derive(Clone)]
pub struct Params<'a> {
    part: &'a Btf,
    pos: usize,
    end: usize,
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;
    fn next(&mut self) -> Option<Param<'a>> {
        if self.pos + 8 > self.end {
            return None;
        }
        let d = &self.part.data;
        let name_off = rd32(d, self.pos);
        let type_id = rd32(d, self.pos + 4);
        self.pos += 8;
        Some(Param {
            name: if name_off == 0 { "" } else { self.part.str_at(name_off).unwrap_or("") },
            name_off,
            type_id,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end.saturating_sub(self.pos)) / 8;
        (n, Some(n))
    }
}
impl ExactSizeIterator for Params<'_> {}

/// A DATASEC entry (`struct btf_var_secinfo`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VarSecinfo {
    /// The VAR (or, in an object's `.ksyms`, FUNC).
    pub type_id: u32,
    /// Offset in the section.
    pub offset: u32,
    /// Size.
    pub size: u32,
}

/// Iterator over DATASEC entries ([`Type::datasec_vars`]).
#[derive(Clone)]
pub struct VarSecinfos<'a> {
    part: &'a Btf,
    pos: usize,
    end: usize,
}

impl fmt::Debug for VarSecinfos<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl Iterator for VarSecinfos<'_> {
    type Item = VarSecinfo;
    fn next(&mut self) -> Option<VarSecinfo> {
        if self.pos + 12 > self.end {
            return None;
        }
        let d = &self.part.data;
        let v = VarSecinfo {
            type_id: rd32(d, self.pos),
            offset: rd32(d, self.pos + 4),
            size: rd32(d, self.pos + 8),
        };
        self.pos += 12;
        Some(v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end.saturating_sub(self.pos)) / 12;
        (n, Some(n))
    }
}
impl ExactSizeIterator for VarSecinfos<'_> {}
