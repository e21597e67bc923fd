//! `.BTF.ext`: per-section func_info, line_info and CO-RE relocation records of a BPF object.
//!
//! Layout (libbpf's `struct btf_ext_header` and `btf_ext_setup_info`): a header whose offsets
//! count from its end; each info block starts with a u32 record size, then per ELF section a
//! `{ u32 sec_name_off; u32 num_info; }` header followed by `num_info` records. Every string
//! offset refers to the string section of the object's `.BTF`, so parsing takes that [`Btf`].
//! Instruction offsets are kept as in the file: **bytes** from the start of the ELF section
//! (libbpf divides by 8 before handing func/line info to the kernel).

use crate::btf::{check_preamble, rd32};
use crate::kind::raw;
use crate::{Btf, BtfError, Kind};
use std::fmt;

/// The `.BTF.ext` header, as read.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BtfExtHeader {
    /// 0xeB9F.
    pub magic: u16,
    /// 1.
    pub version: u8,
    /// 0.
    pub flags: u8,
    /// Header length: 24, or 32 with the CO-RE relocation fields.
    pub hdr_len: u32,
    /// func_info block offset (from the end of the header).
    pub func_info_off: u32,
    /// func_info block length.
    pub func_info_len: u32,
    /// line_info block offset.
    pub line_info_off: u32,
    /// line_info block length.
    pub line_info_len: u32,
    /// CO-RE relocation block offset (0 if the header has no such field).
    pub core_relo_off: u32,
    /// CO-RE relocation block length.
    pub core_relo_len: u32,
}

/// The records of one ELF section.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InfoSection<T> {
    /// Offset of the section name in the `.BTF` strings.
    pub sec_name_off: u32,
    /// The ELF section name (`"xdp"`, `".text"`, `"tc/ingress"`).
    pub sec_name: String,
    /// The records, in file order.
    pub records: Vec<T>,
}

/// A `bpf_func_info` record: which FUNC starts at which instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its ELF section.
    pub insn_off: u32,
    /// The FUNC's type id.
    pub type_id: u32,
}

impl FuncInfo {
    /// Instruction index in the section (`insn_off / 8`).
    pub fn insn_idx(&self) -> u32 {
        self.insn_off / 8
    }
}

/// A `bpf_line_info` record: source position of an instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LineInfo {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off: u32,
    /// Offset of the source file name in the `.BTF` strings.
    pub file_name_off: u32,
    /// Offset of the source line's text in the `.BTF` strings.
    pub line_off: u32,
    /// Line number and column: `line << 10 | column`.
    pub line_col: u32,
}

impl LineInfo {
    /// Instruction index in the section (`insn_off / 8`).
    pub fn insn_idx(&self) -> u32 {
        self.insn_off / 8
    }
    /// Line number (`BPF_LINE_INFO_LINE_NUM`).
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    /// Column (`BPF_LINE_INFO_LINE_COL`).
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
    /// The source file name.
    pub fn file_name<'a>(&self, btf: &'a Btf) -> &'a str {
        btf.str_at(self.file_name_off).unwrap_or("")
    }
    /// The source line's text (what the verifier log prints after `; `).
    pub fn line_text<'a>(&self, btf: &'a Btf) -> &'a str {
        btf.str_at(self.line_off).unwrap_or("")
    }
}

/// Kind of a CO-RE relocation (`enum bpf_core_relo_kind`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CoreReloKind {
    /// Field byte offset.
    FieldByteOffset = 0,
    /// Field size in bytes.
    FieldByteSize = 1,
    /// Field existence.
    FieldExists = 2,
    /// Field signedness.
    FieldSigned = 3,
    /// Bitfield left shift for a u64 load.
    FieldLshiftU64 = 4,
    /// Bitfield right shift for a u64 load.
    FieldRshiftU64 = 5,
    /// Local type id.
    TypeIdLocal = 6,
    /// Target type id.
    TypeIdTarget = 7,
    /// Type existence.
    TypeExists = 8,
    /// Type size.
    TypeSize = 9,
    /// Enumerator existence.
    EnumvalExists = 10,
    /// Enumerator value.
    EnumvalValue = 11,
    /// Type match (`bpf_core_type_matches`).
    TypeMatches = 12,
}

impl CoreReloKind {
    /// From the raw value.
    pub fn from_raw(v: u32) -> Option<Self> {
        use CoreReloKind::*;
        Some(match v {
            0 => FieldByteOffset,
            1 => FieldByteSize,
            2 => FieldExists,
            3 => FieldSigned,
            4 => FieldLshiftU64,
            5 => FieldRshiftU64,
            6 => TypeIdLocal,
            7 => TypeIdTarget,
            8 => TypeExists,
            9 => TypeSize,
            10 => EnumvalExists,
            11 => EnumvalValue,
            12 => TypeMatches,
            _ => return None,
        })
    }

    /// libbpf's name for it (`core_relo_kind_str`).
    pub fn as_str(self) -> &'static str {
        use CoreReloKind::*;
        match self {
            FieldByteOffset => "byte_off",
            FieldByteSize => "byte_sz",
            FieldExists => "field_exists",
            FieldSigned => "signed",
            FieldLshiftU64 => "lshift_u64",
            FieldRshiftU64 => "rshift_u64",
            TypeIdLocal => "local_type_id",
            TypeIdTarget => "target_type_id",
            TypeExists => "type_exists",
            TypeSize => "type_size",
            EnumvalExists => "enumval_exists",
            EnumvalValue => "enumval_value",
            TypeMatches => "type_matches",
        }
    }

    /// A field relocation (access string of member indexes).
    pub fn is_field(self) -> bool {
        (self as u32) <= 5
    }
    /// A type-based relocation (access string `"0"`).
    pub fn is_type(self) -> bool {
        matches!(self as u32, 6..=9 | 12)
    }
    /// An enumerator relocation (access string: the enumerator index).
    pub fn is_enumval(self) -> bool {
        matches!(self as u32, 10 | 11)
    }
}

impl fmt::Display for CoreReloKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `bpf_core_relo` record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CoreRelo {
    /// Byte offset of the instruction to patch in its ELF section.
    pub insn_off: u32,
    /// The local (program's own BTF) root type id.
    pub type_id: u32,
    /// Offset of the access string (`"0:1:2"`) in the `.BTF` strings.
    pub access_str_off: u32,
    /// What to compute.
    pub kind: CoreReloKind,
}

impl CoreRelo {
    /// Instruction index in the section (`insn_off / 8`).
    pub fn insn_idx(&self) -> u32 {
        self.insn_off / 8
    }
    /// The raw access string.
    pub fn access_str<'a>(&self, btf: &'a Btf) -> &'a str {
        btf.str_at(self.access_str_off).unwrap_or("")
    }
    /// The access string split into indexes (`"0:1:2"` -> `[0, 1, 2]`): the first is an array
    /// index on the root pointer, the rest member (or array element) indexes; for enumerator
    /// relocations the single index is the enumerator's. `None` if malformed.
    pub fn access_spec(&self, btf: &Btf) -> Option<Vec<u32>> {
        let s = self.access_str(btf);
        if s.is_empty() {
            return None;
        }
        s.split(':').map(|p| p.parse().ok()).collect()
    }
}

/// Parsed `.BTF.ext`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BtfExt {
    /// The header as read.
    pub header: BtfExtHeader,
    /// Record size of func_info records in the file (8 today).
    pub func_info_rec_size: u32,
    /// Record size of line_info records (16 today).
    pub line_info_rec_size: u32,
    /// Record size of CO-RE relocation records (16 today).
    pub core_relo_rec_size: u32,
    /// func_info per section.
    pub func_info: Vec<InfoSection<FuncInfo>>,
    /// line_info per section.
    pub line_info: Vec<InfoSection<LineInfo>>,
    /// CO-RE relocations per section.
    pub core_relos: Vec<InfoSection<CoreRelo>>,
}

fn err(msg: String) -> BtfError {
    BtfError::Ext(msg)
}

impl BtfExt {
    /// Parses `.BTF.ext` bytes; `btf` is the same object's `.BTF`, which holds every string
    /// and type the records refer to (checked).
    pub fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        let magic = check_preamble(data, ".BTF.ext header", raw::EXT_HEADER_MIN_LEN)?;
        let mut h = BtfExtHeader {
            magic,
            version: data[2],
            flags: data[3],
            hdr_len: rd32(data, 4),
            func_info_off: rd32(data, 8),
            func_info_len: rd32(data, 12),
            line_info_off: rd32(data, 16),
            line_info_len: rd32(data, 20),
            core_relo_off: 0,
            core_relo_len: 0,
        };
        let hdr_len = h.hdr_len as usize;
        if hdr_len < raw::EXT_HEADER_MIN_LEN {
            return Err(err(format!("hdr_len {hdr_len} is smaller than 24")));
        }
        if hdr_len > data.len() {
            return Err(BtfError::Truncated {
                what: ".BTF.ext header (hdr_len)",
                offset: 0,
                need: hdr_len,
                have: data.len(),
            });
        }
        if hdr_len >= raw::EXT_HEADER_CORE_LEN {
            h.core_relo_off = rd32(data, 24);
            h.core_relo_len = rd32(data, 28);
        }
        let body = &data[hdr_len..];
        let mut ext = BtfExt { header: h, ..BtfExt::default() };
        let (rs, secs) = parse_block(body, hdr_len, "func_info", h.func_info_off, h.func_info_len, 8)?;
        ext.func_info_rec_size = rs;
        for (sec_name_off, recs) in secs {
            let sec_name = sec_name(btf, "func_info", sec_name_off)?;
            let mut records = Vec::with_capacity(recs.len());
            for (i, r) in recs.iter().enumerate() {
                let fi = FuncInfo { insn_off: rd32(r, 0), type_id: rd32(r, 4) };
                match btf.get(fi.type_id) {
                    Some(t) if t.kind() == Kind::Func => {}
                    Some(t) => {
                        return Err(err(format!(
                            "func_info of section '{sec_name}', record {i}: type [{}] is {}, expected FUNC",
                            fi.type_id,
                            t.kind()
                        )))
                    }
                    None => {
                        return Err(err(format!(
                            "func_info of section '{sec_name}', record {i}: type id {} out of range (BTF has ids 0..{})",
                            fi.type_id,
                            btf.type_count()
                        )))
                    }
                }
                records.push(fi);
            }
            ext.func_info.push(InfoSection { sec_name_off, sec_name, records });
        }
        let (rs, secs) = parse_block(body, hdr_len, "line_info", h.line_info_off, h.line_info_len, 16)?;
        ext.line_info_rec_size = rs;
        for (sec_name_off, recs) in secs {
            let sec_name = sec_name(btf, "line_info", sec_name_off)?;
            let mut records = Vec::with_capacity(recs.len());
            for (i, r) in recs.iter().enumerate() {
                let li = LineInfo {
                    insn_off: rd32(r, 0),
                    file_name_off: rd32(r, 4),
                    line_off: rd32(r, 8),
                    line_col: rd32(r, 12),
                };
                for (what, off) in [("file name", li.file_name_off), ("line", li.line_off)] {
                    if btf.str_at(off).is_none() {
                        return Err(err(format!(
                            "line_info of section '{sec_name}', record {i}: {what} string offset {off} out of range (string section size {})",
                            btf.str_space()
                        )));
                    }
                }
                records.push(li);
            }
            ext.line_info.push(InfoSection { sec_name_off, sec_name, records });
        }
        if h.core_relo_len > 0 {
            let (rs, secs) = parse_block(body, hdr_len, "core_relo", h.core_relo_off, h.core_relo_len, 16)?;
            ext.core_relo_rec_size = rs;
            for (sec_name_off, recs) in secs {
                let sec_name = sec_name(btf, "core_relo", sec_name_off)?;
                let mut records = Vec::with_capacity(recs.len());
                for (i, r) in recs.iter().enumerate() {
                    let at =
                        |what: String| err(format!("core_relo of section '{sec_name}', record {i}: {what}"));
                    let kind_raw = rd32(r, 12);
                    let kind = CoreReloKind::from_raw(kind_raw)
                        .ok_or_else(|| at(format!("unknown relocation kind {kind_raw}")))?;
                    let cr = CoreRelo {
                        insn_off: rd32(r, 0),
                        type_id: rd32(r, 4),
                        access_str_off: rd32(r, 8),
                        kind,
                    };
                    if cr.type_id >= btf.type_count() {
                        return Err(at(format!(
                            "type id {} out of range (BTF has ids 0..{})",
                            cr.type_id,
                            btf.type_count()
                        )));
                    }
                    if btf.str_at(cr.access_str_off).is_none() {
                        return Err(at(format!(
                            "access string offset {} out of range (string section size {})",
                            cr.access_str_off,
                            btf.str_space()
                        )));
                    }
                    records.push(cr);
                }
                ext.core_relos.push(InfoSection { sec_name_off, sec_name, records });
            }
        }
        Ok(ext)
    }

    /// The func_info of ELF section `name`.
    pub fn func_info_for(&self, name: &str) -> Option<&InfoSection<FuncInfo>> {
        self.func_info.iter().find(|s| s.sec_name == name)
    }
    /// The line_info of ELF section `name`.
    pub fn line_info_for(&self, name: &str) -> Option<&InfoSection<LineInfo>> {
        self.line_info.iter().find(|s| s.sec_name == name)
    }
    /// The CO-RE relocations of ELF section `name`.
    pub fn core_relos_for(&self, name: &str) -> Option<&InfoSection<CoreRelo>> {
        self.core_relos.iter().find(|s| s.sec_name == name)
    }
}

fn sec_name(btf: &Btf, what: &str, off: u32) -> Result<String, BtfError> {
    match btf.str_at(off) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(err(format!(
            "{what}: section name offset {off} is not a string of the .BTF (size {})",
            btf.str_space()
        ))),
    }
}

type Block<'a> = (u32, Vec<(u32, Vec<&'a [u8]>)>);

/// One info block: record size, then per-section records (`btf_ext_setup_info`).
fn parse_block<'a>(
    body: &'a [u8],
    hdr_len: usize,
    what: &str,
    off: u32,
    len: u32,
    min_rec: u32,
) -> Result<Block<'a>, BtfError> {
    if len == 0 {
        return Ok((0, Vec::new()));
    }
    if off % 4 != 0 {
        return Err(err(format!("{what} offset {off} is not 4-byte aligned")));
    }
    let start = off as usize;
    let end = start as u64 + len as u64;
    if end > body.len() as u64 {
        return Err(BtfError::Truncated {
            what: ".BTF.ext info block",
            offset: hdr_len + start,
            need: len as usize,
            have: body.len().saturating_sub(start),
        });
    }
    let blk = &body[start..end as usize];
    if blk.len() < 4 {
        return Err(err(format!("{what} block of {} bytes has no record size", blk.len())));
    }
    let rec = rd32(blk, 0);
    if rec < min_rec || rec % 4 != 0 {
        return Err(err(format!("{what} record size {rec} invalid (at least {min_rec}, multiple of 4)")));
    }
    let mut pos = 4usize;
    let mut secs = Vec::new();
    while pos < blk.len() {
        if blk.len() - pos < 8 {
            return Err(err(format!("{what}: section header at offset {} truncated", hdr_len + start + pos)));
        }
        let name_off = rd32(blk, pos);
        let n = rd32(blk, pos + 4);
        pos += 8;
        if n == 0 {
            return Err(err(format!(
                "{what}: section at offset {} has no records",
                hdr_len + start + pos - 8
            )));
        }
        let total = n as u64 * rec as u64;
        if total > (blk.len() - pos) as u64 {
            return Err(err(format!(
                "{what}: section at offset {} claims {n} records of {rec} bytes, only {} bytes left",
                hdr_len + start + pos - 8,
                blk.len() - pos
            )));
        }
        let recs =
            (0..n as usize).map(|i| &blk[pos + i * rec as usize..pos + (i + 1) * rec as usize]).collect();
        pos += total as usize;
        secs.push((name_off, recs));
    }
    Ok((rec, secs))
}
