//! [`Btf`]: raw BTF kept as bytes, with an offset index over its types.

use crate::kind::raw;
use crate::{validate, BtfError, Kind, Type, TypeProblem};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The BTF header (`struct btf_header`), as read.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BtfHeader {
    /// 0xeB9F.
    pub magic: u16,
    /// 1.
    pub version: u8,
    /// 0.
    pub flags: u8,
    /// Header length (24, or more with trailing zero bytes).
    pub hdr_len: u32,
    /// Type section offset, from the end of the header.
    pub type_off: u32,
    /// Type section length.
    pub type_len: u32,
    /// String section offset, from the end of the header.
    pub str_off: u32,
    /// String section length.
    pub str_len: u32,
}

pub(crate) fn rd32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub(crate) fn rd16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// Parsed and validated BTF: a base (vmlinux, or a BPF object's `.BTF`) or a split part on top
/// of a base (a kernel module's BTF), whose type ids and string offsets continue the base's.
///
/// The raw bytes are kept as they are; an index holds each type's offset, and everything else is
/// decoded on demand through the [`Type`] view, so parsing vmlinux's ~127k types is one pass to
/// index and one to validate. Names are `&str` borrowed from the string section. Lookups by name
/// build a hash index the first time they are used.
///
/// Parsing validates everything queries rely on, so a `Btf` never holds an out-of-range type id
/// or string offset, a reference loop, or an array whose size overflows u32.
pub struct Btf {
    pub(crate) data: Vec<u8>,
    header: BtfHeader,
    pub(crate) types_start: usize,
    types_len: usize,
    strs_start: usize,
    strs_len: usize,
    /// Offset of each own type in the type section (index `id - start_id`).
    pub(crate) offsets: Vec<u32>,
    pub(crate) start_id: u32,
    start_str_off: u32,
    base: Option<Arc<Btf>>,
    pub(crate) ptr_size: u32,
    pub(crate) name_index: OnceLock<crate::query::NameIndex>,
    pub(crate) decl_tag_index: OnceLock<Vec<(u32, u32)>>,
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("start_id", &self.start_id)
            .field("types", &self.offsets.len())
            .field("strings", &self.strs_len)
            .field("split", &self.base.is_some())
            .finish()
    }
}

impl Btf {
    /// Parses and validates standalone (base) BTF, copying `data`.
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        Self::from_vec(data.to_vec())
    }

    /// Parses and validates standalone (base) BTF, taking ownership of `data`.
    pub fn from_vec(data: Vec<u8>) -> Result<Btf, BtfError> {
        Self::build(data, None)
    }

    /// Parses and validates split BTF on top of `base` (a kernel module's BTF on vmlinux): its
    /// type ids start at `base.type_count()` and its string offsets at the end of the base's
    /// strings.
    pub fn parse_split(data: &[u8], base: Arc<Btf>) -> Result<Btf, BtfError> {
        Self::from_vec_split(data.to_vec(), base)
    }

    /// [`Btf::parse_split`], taking ownership of `data`.
    pub fn from_vec_split(data: Vec<u8>, base: Arc<Btf>) -> Result<Btf, BtfError> {
        Self::build(data, Some(base))
    }

    fn build(data: Vec<u8>, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        let header = parse_header(&data)?;
        let body = header.hdr_len as usize;
        let types_start = body + header.type_off as usize;
        let types_len = header.type_len as usize;
        let strs_start = body + header.str_off as usize;
        let strs_len = header.str_len as usize;
        let (start_id, start_str_off) = match &base {
            Some(b) => (b.type_count(), b.str_space()),
            None => (1, 0),
        };
        check_strings(&data[strs_start..strs_start + strs_len], base.is_some(), start_str_off)?;
        let offsets = index_types(&data[types_start..types_start + types_len], start_id)?;
        let mut btf = Btf {
            data,
            header,
            types_start,
            types_len,
            strs_start,
            strs_len,
            offsets,
            start_id,
            start_str_off,
            base,
            ptr_size: 0,
            name_index: OnceLock::new(),
            decl_tag_index: OnceLock::new(),
        };
        btf.ptr_size = validate::check(&btf)?;
        Ok(btf)
    }

    /// The header as read.
    pub fn header(&self) -> &BtfHeader {
        &self.header
    }

    /// The raw bytes this BTF was parsed from.
    pub fn raw_data(&self) -> &[u8] {
        &self.data
    }

    /// The raw type section.
    pub fn raw_types(&self) -> &[u8] {
        &self.data[self.types_start..self.types_start + self.types_len]
    }

    /// The raw string section (of this part only, for split BTF).
    pub fn raw_strings(&self) -> &[u8] {
        &self.data[self.strs_start..self.strs_start + self.strs_len]
    }

    /// The base this split BTF sits on.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// Whether this is split BTF.
    pub fn is_split(&self) -> bool {
        self.base.is_some()
    }

    /// First type id stored in this part: 1 for base BTF, the base's `type_count()` for split
    /// BTF.
    pub fn start_id(&self) -> u32 {
        self.start_id
    }

    /// Number of type ids, void and any base included: valid ids are `0..type_count()`
    /// (libbpf's `btf__type_cnt`).
    pub fn type_count(&self) -> u32 {
        self.start_id + self.offsets.len() as u32
    }

    /// First string offset belonging to this part (0 for base BTF).
    pub fn start_str_off(&self) -> u32 {
        self.start_str_off
    }

    /// Size of the whole string space: the base's strings followed by this part's.
    pub fn str_space(&self) -> u32 {
        self.start_str_off + self.strs_len as u32
    }

    /// Pointer size in bytes: from the base, else found like libbpf does (the size of an INT
    /// named `long`, `unsigned long`, ...), else 8.
    pub fn ptr_size(&self) -> u32 {
        self.ptr_size
    }

    /// The string at offset `off` of the string space (base strings first for split BTF).
    /// `None` if `off` is out of range or not valid UTF-8.
    pub fn str_at(&self, off: u32) -> Option<&str> {
        if off < self.start_str_off {
            return self.base.as_deref()?.str_at(off);
        }
        let local = (off - self.start_str_off) as usize;
        let s = self.data.get(self.strs_start + local..self.strs_start + self.strs_len)?;
        let end = s.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&s[..end]).ok()
    }

    /// Whether `off` starts a string: inside the string space and on a UTF-8 character
    /// boundary. Constant time: every string section was checked to be UTF-8 when parsed.
    pub(crate) fn str_off_ok(&self, off: u32) -> bool {
        if off < self.start_str_off {
            return self.base.as_deref().is_some_and(|b| b.str_off_ok(off));
        }
        let local = (off - self.start_str_off) as usize;
        if local >= self.strs_len {
            return false;
        }
        // Not a UTF-8 continuation byte.
        self.data.get(self.strs_start + local).is_some_and(|&b| !(0x80..0xc0).contains(&b))
    }

    /// The bytes of the string space from `off` to the end of the part holding it (the string
    /// at `off` is the prefix up to the first NUL).
    pub(crate) fn str_tail(&self, off: u32) -> Option<&[u8]> {
        if off < self.start_str_off {
            return self.base.as_deref()?.str_tail(off);
        }
        let local = (off - self.start_str_off) as usize;
        self.data.get(self.strs_start + local..self.strs_start + self.strs_len)
    }

    /// Whether the string at `off` is empty (its first byte is NUL, or `off` is invalid).
    pub(crate) fn str_is_empty(&self, off: u32) -> bool {
        if off < self.start_str_off {
            return self.base.as_deref().is_none_or(|b| b.str_is_empty(off));
        }
        let local = (off - self.start_str_off) as usize;
        local >= self.strs_len || self.data.get(self.strs_start + local).is_none_or(|&b| b == 0)
    }

    /// The type with this id (0 is void), or `None` if out of range.
    pub fn get(&self, id: u32) -> Option<Type<'_>> {
        if id == 0 {
            return Some(Type::void(self));
        }
        if id < self.start_id {
            return self.base.as_deref()?.get(id);
        }
        let idx = (id - self.start_id) as usize;
        let off = *self.offsets.get(idx)? as usize;
        Some(Type::at(self, id, self.types_start + off))
    }

    /// The type with this id, or [`BtfError::NoSuchType`].
    pub fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.get(id).ok_or(BtfError::NoSuchType { id, count: self.type_count() })
    }

    /// This part's own types, in id order (for split BTF, not the base's).
    pub fn types(&self) -> impl ExactSizeIterator<Item = Type<'_>> + '_ {
        self.offsets
            .iter()
            .enumerate()
            .map(move |(i, &off)| Type::at(self, self.start_id + i as u32, self.types_start + off as usize))
    }

    /// Every type id from 1 to `type_count() - 1`, the base's included.
    pub fn all_types(&self) -> impl Iterator<Item = Type<'_>> + '_ {
        (1..self.type_count()).filter_map(move |id| self.get(id))
    }

    pub(crate) fn bad(&self, id: u32, problem: TypeProblem) -> BtfError {
        let (kind, name) = match self.get(id) {
            Some(t) => (Some(t.kind()), Some(t.name().to_string())),
            None => (None, None),
        };
        BtfError::BadType { id, kind, name, problem }
    }
}

/// The start both headers share (`struct btf_header`, `struct btf_ext_header`): the magic
/// (little-endian only), at least `min_len` bytes, version 1, no flags. Returns the magic.
pub(crate) fn check_preamble(data: &[u8], what: &'static str, min_len: usize) -> Result<u16, BtfError> {
    let truncated = || BtfError::Truncated { what, offset: 0, need: min_len, have: data.len() };
    if data.len() < 2 {
        return Err(truncated());
    }
    let magic = rd16(data, 0);
    if magic == raw::BTF_MAGIC.swap_bytes() {
        return Err(BtfError::BigEndian);
    }
    if magic != raw::BTF_MAGIC {
        return Err(BtfError::BadMagic { found: magic });
    }
    if data.len() < min_len {
        return Err(truncated());
    }
    if data[2] != raw::BTF_VERSION {
        return Err(BtfError::UnsupportedVersion(data[2]));
    }
    if data[3] != 0 {
        return Err(BtfError::UnsupportedFlags(data[3]));
    }
    Ok(magic)
}

fn parse_header(data: &[u8]) -> Result<BtfHeader, BtfError> {
    let magic = check_preamble(data, "BTF header", raw::HEADER_LEN)?;
    let h = BtfHeader {
        magic,
        version: data[2],
        flags: data[3],
        hdr_len: rd32(data, 4),
        type_off: rd32(data, 8),
        type_len: rd32(data, 12),
        str_off: rd32(data, 16),
        str_len: rd32(data, 20),
    };
    let hdr_len = h.hdr_len as usize;
    if hdr_len < raw::HEADER_LEN {
        return Err(BtfError::BadHeader(format!("hdr_len {hdr_len} is smaller than {}", raw::HEADER_LEN)));
    }
    if hdr_len > data.len() {
        return Err(BtfError::Truncated {
            what: "BTF header (hdr_len)",
            offset: 0,
            need: hdr_len,
            have: data.len(),
        });
    }
    // The kernel refuses header fields it does not know unless they are zero.
    if let Some(i) = data[raw::HEADER_LEN..hdr_len].iter().position(|&b| b != 0) {
        return Err(BtfError::BadHeader(format!(
            "unsupported non-zero header byte at offset {}",
            raw::HEADER_LEN + i
        )));
    }
    if h.type_off % 4 != 0 {
        return Err(BtfError::BadHeader(format!("type section offset {} is not 4-byte aligned", h.type_off)));
    }
    let body = (data.len() - hdr_len) as u64;
    let type_end = h.type_off as u64 + h.type_len as u64;
    let str_end = h.str_off as u64 + h.str_len as u64;
    if type_end > body {
        return Err(BtfError::Truncated {
            what: "BTF type section",
            offset: hdr_len + h.type_off as usize,
            need: h.type_len as usize,
            have: (body.saturating_sub(h.type_off as u64)) as usize,
        });
    }
    if str_end > body {
        return Err(BtfError::Truncated {
            what: "BTF string section",
            offset: hdr_len + h.str_off as usize,
            need: h.str_len as usize,
            have: (body.saturating_sub(h.str_off as u64)) as usize,
        });
    }
    if type_end > h.str_off as u64 && str_end > h.type_off as u64 && h.type_len > 0 && h.str_len > 0 {
        return Err(BtfError::BadHeader(format!(
            "type section {}+{} overlaps string section {}+{}",
            h.type_off, h.type_len, h.str_off, h.str_len
        )));
    }
    Ok(h)
}

fn check_strings(s: &[u8], split: bool, start_str_off: u32) -> Result<(), BtfError> {
    if s.is_empty() {
        if split {
            return Ok(());
        }
        return Err(BtfError::BadStrings("empty (it must at least hold the empty string)".into()));
    }
    if !split && s[0] != 0 {
        return Err(BtfError::BadStrings(
            "first byte is not NUL (split BTF parsed without its base?)".into(),
        ));
    }
    if s[s.len() - 1] != 0 {
        return Err(BtfError::BadStrings(format!("last byte (offset {}) is not NUL", s.len() - 1)));
    }
    if start_str_off as u64 + s.len() as u64 - 1 > raw::MAX_NAME_OFFSET as u64 {
        return Err(BtfError::BadStrings(format!(
            "{} bytes: string offsets would exceed {:#x}",
            s.len(),
            raw::MAX_NAME_OFFSET
        )));
    }
    if let Err(e) = std::str::from_utf8(s) {
        return Err(BtfError::BadStrings(format!(
            "invalid UTF-8 at offset {}",
            start_str_off as usize + e.valid_up_to()
        )));
    }
    Ok(())
}

/// One pass over the type section: each type's offset.
fn index_types(types: &[u8], start_id: u32) -> Result<Vec<u32>, BtfError> {
    let mut offsets = Vec::with_capacity(types.len() / 20 + 1);
    let mut pos = 0usize;
    let len = types.len();
    while pos < len {
        let id = start_id as u64 + offsets.len() as u64;
        let bad =
            |kind: Option<Kind>, problem| BtfError::BadType { id: id as u32, kind, name: None, problem };
        if id > raw::MAX_TYPE as u64 {
            return Err(BtfError::BadHeader(format!("more than {} types", raw::MAX_TYPE)));
        }
        if len - pos < raw::TYPE_LEN {
            return Err(bad(None, TypeProblem::Truncated { need: raw::TYPE_LEN, have: len - pos }));
        }
        let info = rd32(types, pos + 4);
        let kraw = ((info >> 24) & 0x1f) as u8;
        let kind = match Kind::from_raw(kraw) {
            Some(Kind::Void) | None => return Err(bad(None, TypeProblem::UnknownKind(kraw))),
            Some(k) => k,
        };
        let vlen = (info & 0xffff) as usize;
        let (fixed, per) = kind.extra_layout();
        let size = raw::TYPE_LEN + fixed + per * vlen;
        if len - pos < size {
            return Err(bad(Some(kind), TypeProblem::Truncated { need: size, have: len - pos }));
        }
        offsets.push(pos as u32);
        pos += size;
    }
    Ok(offsets)
}
