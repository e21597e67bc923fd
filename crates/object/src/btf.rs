//! A small reader of the object's `.BTF` and `.BTF.ext`: what the loader needs (names, sizes,
//! `DATASEC`s, `VAR`s, decl tags, func/line info, CO-RE records). Nothing is validated beyond
//! what reading needs, as libbpf's open is lenient where the kernel is not.
//!
//! `kfvm-btf` is the full BTF library. Consumers of an object's types use it:
//! [`crate::Object::parsed_btf`] gives this module's fixed-up BTF parsed by `kfvm-btf`, and
//! [`crate::CoreReloKind`] is `kfvm-btf`'s. What remains to retire this module: parse `.BTF` with
//! `kfvm-btf` at open (falling back to "no BTF" where it refuses what libbpf accepts, as libbpf
//! does for unusable BTF), apply the `DATASEC` fix-ups by rebuilding with `BtfBuilder`
//! (`add_type_from` with the fixed sizes and offsets), read `.BTF.ext` with `kfvm_btf::BtfExt`,
//! port `fields.rs` and the map and extern readers to `kfvm_btf::Type`, and make
//! `Object::btf` an `Arc<kfvm_btf::Btf>` (compared by bytes, for `Object`'s `PartialEq`).

use core::fmt;

/// `BTF_KIND_*`.
#[allow(missing_docs)]
pub mod kind {
    pub const UNKN: u32 = 0;
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// `btf_kind_str`.
pub fn kind_str(k: u32) -> &'static str {
    match k {
        kind::UNKN => "void",
        kind::INT => "int",
        kind::PTR => "ptr",
        kind::ARRAY => "array",
        kind::STRUCT => "struct",
        kind::UNION => "union",
        kind::ENUM => "enum",
        kind::FWD => "fwd",
        kind::TYPEDEF => "typedef",
        kind::VOLATILE => "volatile",
        kind::CONST => "const",
        kind::RESTRICT => "restrict",
        kind::FUNC => "func",
        kind::FUNC_PROTO => "func_proto",
        kind::VAR => "var",
        kind::DATASEC => "datasec",
        kind::FLOAT => "float",
        kind::DECL_TAG => "decl_tag",
        kind::TYPE_TAG => "type_tag",
        kind::ENUM64 => "enum64",
        _ => "unknown",
    }
}

/// `BTF_VAR_STATIC`, `BTF_VAR_GLOBAL_ALLOCATED`, `BTF_VAR_GLOBAL_EXTERN`.
#[allow(missing_docs)]
pub mod linkage {
    pub const STATIC: u32 = 0;
    pub const GLOBAL: u32 = 1;
    pub const EXTERN: u32 = 2;
}

/// A struct/union member, enum value, or function parameter (`name_off` + one word + one word).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Member {
    /// Name offset in the string section.
    pub name_off: u32,
    /// Member/param type id, or the low 32 bits of an enum value.
    pub type_id: u32,
    /// Member offset (bits, or bitfield-encoded with `kind_flag`), or the high 32 bits of an
    /// `ENUM64` value. Zero for params and 32-bit enums.
    pub offset: u32,
}

/// One `DATASEC` entry (`struct btf_var_secinfo`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VarSecinfo {
    /// The `VAR` (or `FUNC`, for `.ksyms`) type id.
    pub type_id: u32,
    /// Offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// One BTF type: `struct btf_type` and what follows it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Type {
    /// Name offset.
    pub name_off: u32,
    /// `info`: kind in bits 24..29, vlen in 0..16, kind_flag in bit 31.
    pub info: u32,
    /// `size` or `type`, depending on the kind.
    pub size_type: u32,
    /// `INT` encoding word, `ARRAY` (type, index_type, nelems), `VAR` linkage, `DECL_TAG`
    /// component_idx: the single extra words.
    pub extra: [u32; 3],
    /// Members, enum values, params.
    pub members: Vec<Member>,
    /// `DATASEC` entries.
    pub secinfo: Vec<VarSecinfo>,
}

impl Type {
    /// `BTF_INFO_KIND`.
    pub fn kind(&self) -> u32 {
        (self.info >> 24) & 0x1f
    }
    /// `BTF_INFO_VLEN`.
    pub fn vlen(&self) -> u32 {
        self.info & 0xffff
    }
    /// `BTF_INFO_KFLAG`.
    pub fn kflag(&self) -> bool {
        self.info >> 31 != 0
    }
    /// For `VAR`: the linkage; for `FUNC`: the linkage in vlen.
    pub fn linkage(&self) -> u32 {
        if self.kind() == kind::FUNC {
            self.vlen()
        } else {
            self.extra[0]
        }
    }
    /// For `ARRAY`: (element type, index type, nelems).
    pub fn array(&self) -> (u32, u32, u32) {
        (self.extra[0], self.extra[1], self.extra[2])
    }
    /// For `DECL_TAG`: the component index (-1 for the whole declaration).
    pub fn component_idx(&self) -> i32 {
        self.extra[0] as i32
    }
    /// Bit offset of member `i` of a struct/union (`btf_member_bit_offset`).
    pub fn member_bit_offset(&self, i: usize) -> u32 {
        let off = self.members[i].offset;
        if self.kflag() {
            off & 0xff_ffff
        } else {
            off
        }
    }
    fn is_mod(&self) -> bool {
        matches!(self.kind(), kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG)
    }
    /// `btf_is_composite`.
    pub fn is_composite(&self) -> bool {
        matches!(self.kind(), kind::STRUCT | kind::UNION)
    }
}

/// Why a BTF blob could not be read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BtfError {
    /// Offset in the section where reading failed.
    pub offset: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {:#x}: {}", self.offset, self.message)
    }
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, BtfError> {
    Err(BtfError { offset, message: message.into() })
}

fn rd32(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off.checked_add(4)?).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn cstr(b: &[u8], off: usize) -> Option<&str> {
    let s = b.get(off..)?;
    let end = s.iter().position(|&c| c == 0)?;
    core::str::from_utf8(&s[..end]).ok()
}

/// The object's BTF: types by id (id 0 is `void`) and the string section.
#[derive(Clone, PartialEq, Eq)]
pub struct Btf {
    raw: Vec<u8>,
    types: Vec<Type>,
    str_start: usize,
    str_len: usize,
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf").field("types", &self.types.len()).field("bytes", &self.raw.len()).finish()
    }
}

/// `MAX_RESOLVE_DEPTH` of libbpf and the kernel.
const MAX_RESOLVE_DEPTH: usize = 32;

impl Btf {
    /// Reads a little-endian `.BTF` section.
    pub fn parse(raw: &[u8]) -> Result<Btf, BtfError> {
        if raw.len() < 24 {
            return err(0, format!("BTF header truncated ({} bytes)", raw.len()));
        }
        let magic = u16::from_le_bytes([raw[0], raw[1]]);
        if magic != 0xeb9f {
            return err(0, format!("invalid BTF magic {magic:#06x}"));
        }
        if raw[2] != 1 {
            return err(2, format!("unsupported BTF version {}", raw[2]));
        }
        let hdr_len = rd32(raw, 4).unwrap_or(0) as usize;
        let (type_off, type_len) = (rd32(raw, 8).unwrap_or(0) as usize, rd32(raw, 12).unwrap_or(0) as usize);
        let (str_off, str_len) = (rd32(raw, 16).unwrap_or(0) as usize, rd32(raw, 20).unwrap_or(0) as usize);
        if hdr_len < 24 || hdr_len > raw.len() {
            return err(4, format!("invalid BTF header length {hdr_len}"));
        }
        let data = &raw[hdr_len..];
        let in_bounds = |off: usize, len: usize| off.checked_add(len).is_some_and(|e| e <= data.len());
        if !in_bounds(type_off, type_len) || type_off % 4 != 0 {
            return err(8, "BTF type section out of bounds");
        }
        if !in_bounds(str_off, str_len) || str_len == 0 || data[str_off + str_len - 1] != 0 {
            return err(16, "BTF string section out of bounds or not NUL-terminated");
        }
        let tsec = &data[type_off..type_off + type_len];
        let mut types = vec![Type {
            name_off: 0,
            info: 0,
            size_type: 0,
            extra: [0; 3],
            members: Vec::new(),
            secinfo: Vec::new(),
        }];
        let mut p = 0usize;
        while p < tsec.len() {
            let at = hdr_len + type_off + p;
            let (Some(name_off), Some(info), Some(size_type)) =
                (rd32(tsec, p), rd32(tsec, p + 4), rd32(tsec, p + 8))
            else {
                return err(at, format!("type [{}] truncated", types.len()));
            };
            p += 12;
            let mut t =
                Type { name_off, info, size_type, extra: [0; 3], members: Vec::new(), secinfo: Vec::new() };
            let vlen = t.vlen() as usize;
            let need = |n: usize| -> Result<(), BtfError> {
                if p.checked_add(n).is_some_and(|e| e <= tsec.len()) {
                    Ok(())
                } else {
                    err(at, format!("type [{}] ({}) truncated", types.len(), kind_str(t.kind())))
                }
            };
            match t.kind() {
                kind::INT | kind::VAR | kind::DECL_TAG => {
                    need(4)?;
                    t.extra[0] = rd32(tsec, p).unwrap_or(0);
                    p += 4;
                }
                kind::ARRAY => {
                    need(12)?;
                    for i in 0..3 {
                        t.extra[i] = rd32(tsec, p + 4 * i).unwrap_or(0);
                    }
                    p += 12;
                }
                kind::STRUCT | kind::UNION | kind::ENUM64 => {
                    need(vlen * 12)?;
                    for i in 0..vlen {
                        let q = p + 12 * i;
                        t.members.push(Member {
                            name_off: rd32(tsec, q).unwrap_or(0),
                            type_id: rd32(tsec, q + 4).unwrap_or(0),
                            offset: rd32(tsec, q + 8).unwrap_or(0),
                        });
                    }
                    p += vlen * 12;
                }
                kind::ENUM | kind::FUNC_PROTO => {
                    need(vlen * 8)?;
                    for i in 0..vlen {
                        let q = p + 8 * i;
                        t.members.push(Member {
                            name_off: rd32(tsec, q).unwrap_or(0),
                            type_id: rd32(tsec, q + 4).unwrap_or(0),
                            offset: 0,
                        });
                    }
                    p += vlen * 8;
                }
                kind::DATASEC => {
                    need(vlen * 12)?;
                    for i in 0..vlen {
                        let q = p + 12 * i;
                        t.secinfo.push(VarSecinfo {
                            type_id: rd32(tsec, q).unwrap_or(0),
                            offset: rd32(tsec, q + 4).unwrap_or(0),
                            size: rd32(tsec, q + 8).unwrap_or(0),
                        });
                    }
                    p += vlen * 12;
                }
                kind::PTR
                | kind::FWD
                | kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::FUNC
                | kind::FLOAT
                | kind::TYPE_TAG => {}
                k => return err(at, format!("type [{}]: unknown kind {k}", types.len())),
            }
            types.push(t);
        }
        Ok(Btf { raw: raw.to_vec(), types, str_start: hdr_len + str_off, str_len })
    }

    /// The section's bytes as in the file (the parsed types carry libbpf's open-time `DATASEC`
    /// fix-ups, see `bpf_object_fixup_btf`; these bytes do not).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Mutable access for libbpf's open-time fix-ups (`btf_fixup_datasec`).
    pub(crate) fn type_mut(&mut self, id: u32) -> Option<&mut Type> {
        self.types.get_mut(id as usize)
    }

    /// The BTF as bytes, with the parsed types as they are now (libbpf's open-time `DATASEC`
    /// fix-ups included) and the original strings: what `kfvm_btf::Btf::parse` or the kernel
    /// should be given for this object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut types = Vec::new();
        let w = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
        for t in &self.types[1..] {
            w(&mut types, t.name_off);
            w(&mut types, t.info);
            w(&mut types, t.size_type);
            match t.kind() {
                kind::INT | kind::VAR | kind::DECL_TAG => w(&mut types, t.extra[0]),
                kind::ARRAY => t.extra.iter().for_each(|&x| w(&mut types, x)),
                kind::STRUCT | kind::UNION | kind::ENUM64 => t.members.iter().for_each(|m| {
                    w(&mut types, m.name_off);
                    w(&mut types, m.type_id);
                    w(&mut types, m.offset);
                }),
                kind::ENUM | kind::FUNC_PROTO => t.members.iter().for_each(|m| {
                    w(&mut types, m.name_off);
                    w(&mut types, m.type_id);
                }),
                kind::DATASEC => t.secinfo.iter().for_each(|v| {
                    w(&mut types, v.type_id);
                    w(&mut types, v.offset);
                    w(&mut types, v.size);
                }),
                _ => {}
            }
        }
        let strings = &self.raw[self.str_start..self.str_start + self.str_len];
        let mut out = Vec::with_capacity(24 + types.len() + strings.len());
        out.extend_from_slice(&[0x9f, 0xeb, 1, 0]);
        w(&mut out, 24);
        w(&mut out, 0);
        w(&mut out, types.len() as u32);
        w(&mut out, types.len() as u32);
        w(&mut out, strings.len() as u32);
        out.extend_from_slice(&types);
        out.extend_from_slice(strings);
        out
    }

    /// `btf__type_cnt`: number of types including `void`.
    pub fn type_cnt(&self) -> u32 {
        self.types.len() as u32
    }

    /// `btf__type_by_id`.
    pub fn type_by_id(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// `btf__str_by_offset`.
    pub fn str_at(&self, off: u32) -> Option<&str> {
        if off as usize >= self.str_len {
            return None;
        }
        cstr(&self.raw[..self.str_start + self.str_len], self.str_start + off as usize)
    }

    /// The name of type `id` (`""` when anonymous or out of range).
    pub fn name(&self, id: u32) -> &str {
        self.type_by_id(id).and_then(|t| self.str_at(t.name_off)).unwrap_or("")
    }

    /// `skip_mods_and_typedefs`: follows modifiers and typedefs; returns the id reached.
    pub fn skip_mods_and_typedefs(&self, mut id: u32) -> u32 {
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.type_by_id(id) {
                Some(t) if t.is_mod() || t.kind() == kind::TYPEDEF => id = t.size_type,
                _ => break,
            }
        }
        id
    }

    /// `btf_type_skip_modifiers` of the kernel: follows modifiers only.
    pub fn skip_mods(&self, mut id: u32) -> u32 {
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.type_by_id(id) {
                Some(t) if t.is_mod() => id = t.size_type,
                _ => break,
            }
        }
        id
    }

    /// `btf__resolve_size`.
    pub fn resolve_size(&self, id: u32) -> Result<u64, String> {
        let mut id = id;
        let mut nelems: u64 = 1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(id).ok_or_else(|| format!("type [{id}] not found"))?;
            match t.kind() {
                kind::INT
                | kind::STRUCT
                | kind::UNION
                | kind::ENUM
                | kind::ENUM64
                | kind::DATASEC
                | kind::FLOAT => {
                    return nelems.checked_mul(t.size_type as u64).ok_or_else(|| "size overflow".to_string())
                }
                kind::PTR => return nelems.checked_mul(8).ok_or_else(|| "size overflow".to_string()),
                kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::VAR
                | kind::DECL_TAG
                | kind::TYPE_TAG => id = t.size_type,
                kind::ARRAY => {
                    let (elem, _, n) = t.array();
                    nelems = nelems.checked_mul(n as u64).ok_or_else(|| "size overflow".to_string())?;
                    id = elem;
                }
                k => return Err(format!("type [{id}] of kind {} has no size", kind_str(k))),
            }
        }
        Err("type chain too deep".to_string())
    }

    /// `btf__align_of`.
    pub fn align_of(&self, id: u32) -> Result<u32, String> {
        let id = self.skip_mods_and_typedefs(id);
        let t = self.type_by_id(id).ok_or_else(|| format!("type [{id}] not found"))?;
        match t.kind() {
            kind::INT | kind::ENUM | kind::ENUM64 | kind::FLOAT => Ok(t.size_type.clamp(1, 8)),
            kind::PTR => Ok(8),
            kind::ARRAY => self.align_of(t.array().0),
            kind::STRUCT | kind::UNION => {
                let mut max = 1;
                for i in 0..t.members.len() {
                    let a = self.align_of(t.members[i].type_id)?;
                    max = max.max(a);
                    // a packed struct: a member at an unaligned offset
                    if t.member_bit_offset(i) % (8 * a) != 0 {
                        return Ok(1);
                    }
                }
                if t.size_type % max != 0 {
                    return Ok(1);
                }
                Ok(max)
            }
            k => Err(format!("type [{id}] of kind {} has no alignment", kind_str(k))),
        }
    }

    /// `btf__find_by_name_kind`: the first type of `kind` named `name`.
    pub fn find_by_name_kind(&self, name: &str, k: u32) -> Option<u32> {
        (1..self.type_cnt()).find(|&id| self.types[id as usize].kind() == k && self.name(id) == name)
    }

    /// `btf__find_by_name`: the first type named `name`, of any kind.
    pub fn find_by_name(&self, name: &str) -> Option<u32> {
        (1..self.type_cnt()).find(|&id| self.name(id) == name)
    }
}

/// One `struct bpf_func_info` record as clang wrote it (`insn_off` in bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ExtFuncInfo {
    /// Byte offset in the section.
    pub insn_off: u32,
    /// The `FUNC` type id.
    pub type_id: u32,
}

/// One `struct bpf_line_info` record as clang wrote it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ExtLineInfo {
    /// Byte offset in the section.
    pub insn_off: u32,
    /// String offset of the file name.
    pub file_name_off: u32,
    /// String offset of the source line.
    pub line_off: u32,
    /// `line << 10 | col`.
    pub line_col: u32,
}

/// One `struct bpf_core_relo` record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ExtCoreRelo {
    /// Byte offset in the section.
    pub insn_off: u32,
    /// Local (object BTF) root type id.
    pub type_id: u32,
    /// String offset of the access string (`"0:1:2"`).
    pub access_str_off: u32,
    /// `enum bpf_core_relo_kind`.
    pub kind: u32,
}

/// Records of one ELF section in a `.BTF.ext` info block.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ExtSection<T> {
    /// The ELF section name (from the BTF string section).
    pub sec_name: String,
    /// The records, in file order.
    pub records: Vec<T>,
}

/// One `.BTF.ext` info block: record size, and (section name, record bytes) per section.
type InfoBlock<'a> = (usize, Vec<(String, &'a [u8])>);

/// `.BTF.ext`: func info, line info and CO-RE relocations, by section.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BtfExt {
    /// `func_info` record size.
    pub func_info_rec_size: u32,
    /// `line_info` record size.
    pub line_info_rec_size: u32,
    /// `core_relo` record size.
    pub core_relo_rec_size: u32,
    /// Function info.
    pub func_info: Vec<ExtSection<ExtFuncInfo>>,
    /// Line info.
    pub line_info: Vec<ExtSection<ExtLineInfo>>,
    /// CO-RE relocations.
    pub core_relos: Vec<ExtSection<ExtCoreRelo>>,
}

impl BtfExt {
    /// Reads `.BTF.ext`; section names are looked up in `btf`'s strings.
    pub fn parse(raw: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        if raw.len() < 8 {
            return err(0, ".BTF.ext header truncated");
        }
        let magic = u16::from_le_bytes([raw[0], raw[1]]);
        if magic != 0xeb9f {
            return err(0, format!("invalid .BTF.ext magic {magic:#06x}"));
        }
        if raw[2] != 1 {
            return err(2, format!("unsupported .BTF.ext version {}", raw[2]));
        }
        let hdr_len = rd32(raw, 4).unwrap_or(0) as usize;
        if hdr_len < 24 || hdr_len > raw.len() {
            return err(4, format!("invalid .BTF.ext header length {hdr_len}"));
        }
        let field = |o: usize| rd32(raw, o).unwrap_or(0) as usize;
        let mut ext = BtfExt::default();
        let block = |off_field: usize, min_rec: usize| -> Result<Option<InfoBlock<'_>>, BtfError> {
            let (off, len) = (field(off_field), field(off_field + 4));
            if len == 0 {
                return Ok(None);
            }
            let start =
                hdr_len.checked_add(off).filter(|s| s.checked_add(len).is_some_and(|e| e <= raw.len()));
            let Some(start) = start else {
                return err(off_field, ".BTF.ext info block out of bounds");
            };
            let b = &raw[start..start + len];
            let rec = rd32(b, 0).unwrap_or(0) as usize;
            if rec < min_rec || rec % 4 != 0 {
                return err(start, format!(".BTF.ext record size {rec} invalid"));
            }
            let mut out = Vec::new();
            let mut p = 4;
            while p < b.len() {
                let (Some(name_off), Some(n)) = (rd32(b, p), rd32(b, p + 4)) else {
                    return err(start + p, ".BTF.ext section header truncated");
                };
                let name = btf.str_at(name_off).ok_or(BtfError {
                    offset: start + p,
                    message: format!("section name offset {name_off} invalid"),
                })?;
                p += 8;
                let bytes = (n as usize).checked_mul(rec).filter(|&l| p + l <= b.len());
                let Some(bytes) = bytes else {
                    return err(start + p, format!(".BTF.ext records of section '{name}' truncated"));
                };
                if n == 0 {
                    return err(start + p, format!(".BTF.ext section '{name}' has no records"));
                }
                out.push((name.to_string(), &b[p..p + bytes]));
                p += bytes;
            }
            Ok(Some((rec, out)))
        };
        let recs = |b: &[u8], rec: usize| {
            b.chunks_exact(rec)
                .map(|c| {
                    [
                        rd32(c, 0).unwrap_or(0),
                        rd32(c, 4).unwrap_or(0),
                        rd32(c, 8).unwrap_or(0),
                        rd32(c, 12).unwrap_or(0),
                    ]
                })
                .collect::<Vec<_>>()
        };
        if let Some((rec, secs)) = block(8, 8)? {
            ext.func_info_rec_size = rec as u32;
            for (sec_name, b) in secs {
                let records =
                    recs(b, rec).into_iter().map(|r| ExtFuncInfo { insn_off: r[0], type_id: r[1] }).collect();
                ext.func_info.push(ExtSection { sec_name, records });
            }
        }
        if let Some((rec, secs)) = block(16, 16)? {
            ext.line_info_rec_size = rec as u32;
            for (sec_name, b) in secs {
                let records = recs(b, rec)
                    .into_iter()
                    .map(|r| ExtLineInfo {
                        insn_off: r[0],
                        file_name_off: r[1],
                        line_off: r[2],
                        line_col: r[3],
                    })
                    .collect();
                ext.line_info.push(ExtSection { sec_name, records });
            }
        }
        if hdr_len >= 32 {
            if let Some((rec, secs)) = block(24, 16)? {
                ext.core_relo_rec_size = rec as u32;
                for (sec_name, b) in secs {
                    let records = recs(b, rec)
                        .into_iter()
                        .map(|r| ExtCoreRelo {
                            insn_off: r[0],
                            type_id: r[1],
                            access_str_off: r[2],
                            kind: r[3],
                        })
                        .collect();
                    ext.core_relos.push(ExtSection { sec_name, records });
                }
            }
        }
        Ok(ext)
    }
}
