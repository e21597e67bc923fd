//! CO-RE: libbpf's relocation algorithm (`tools/lib/bpf/relo_core.c` and the candidate search of
//! `libbpf.c`), on [`kfvm_btf::Btf`].
//!
//! A CO-RE record names a *local* type (in the object's BTF), an access string (`"0:1:2"`: the
//! pointer dereference, then member and array indices) and what to compute. Relocating it against
//! a *target* BTF (the kernel's, or a kfvm host's) goes through libbpf's steps, each kept under
//! libbpf's name:
//!
//! 1. [`find_cands`] (`bpf_core_find_cands`): every target type of a compatible kind whose
//!    *essential* name ([`essential_name`]: the name up to a `___flavor` suffix) equals the
//!    local one. The list is cached per local type id and pruned as relocations match
//!    ([`CandCache`]), so one object's relocations agree with each other as libbpf's do.
//! 2. [`parse_spec`] (`bpf_core_parse_spec`): the access string as low-level indices and
//!    high-level accessors (named members and array indices), with the local bit offset.
//! 3. [`spec_match`] (`bpf_core_spec_match`): each candidate is matched member by member by name,
//!    through anonymous structs and unions, checking [`fields_are_compat`] on the final field and
//!    array bounds on the way (flexible arrays take any index); type relocations use
//!    [`types_are_compat`] or, for `TYPE_MATCHES`, [`types_match`]; enumerator relocations find
//!    the enumerator by essential name.
//! 4. [`resolve_relo`] (`bpf_core_resolve_relo` + `bpf_core_calc_relo_insn`): the value for every kind
//!    ([`CoreReloKind`]), agreed on by all matching candidates (else an ambiguity error), or a
//!    request to poison when nothing matched and the kind has no "not found" value.
//! 5. [`patch_insn`] (`bpf_core_patch_insn`): ALU immediates, LDX/ST/STX offsets (with the load
//!    size adjusted for pointers and unsigned integers that changed size), `ldimm64` values, or
//!    the poison instruction `call 0xbad2310` ([`BPF_CORE_POISON_IMM`]) that the verifier reports
//!    as `invalid func unknown#195896080` if it is reachable.
//!
//! Return values follow libbpf: a relocation either resolves, is poisoned (not an error: the
//! instruction may be dead code), or fails the whole object with a [`CoreError`] carrying
//! libbpf's errno and its message.

use std::collections::HashMap;
use std::fmt::Write as _;

use kfvm_btf::{essential_name, Btf, CoreReloKind, IntEncoding, Kind, Type};
use kfvm_isa::RawInsn;

/// `BPF_CORE_SPEC_MAX_LEN`: the deepest access string libbpf accepts.
pub const BPF_CORE_SPEC_MAX_LEN: usize = 64;

/// The `imm` of the instruction libbpf substitutes for one whose relocation failed:
/// `call 0xbad2310` ("bad relo"), `invalid func unknown#195896080` in the verifier's log.
pub const BPF_CORE_POISON_IMM: i32 = 195_896_080;

/// Recursion limit of libbpf's type comparisons (`int depth = 32`, `level = 32`).
const MAX_DEPTH: i32 = 32;

/// libbpf's negative return codes, as far as CO-RE produces them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Errno {
    /// `EINVAL`.
    Inval,
    /// `E2BIG`.
    TooBig,
    /// `EOPNOTSUPP`.
    NotSupp,
    /// `ERANGE`.
    Range,
    /// `ESRCH` (extern resolution).
    Srch,
}

impl Errno {
    /// The negative errno libbpf returns.
    pub fn code(self) -> i32 {
        match self {
            Errno::Inval => -22,
            Errno::TooBig => -7,
            Errno::NotSupp => -95,
            Errno::Range => -34,
            Errno::Srch => -3,
        }
    }

    /// The C name (`EINVAL`).
    pub fn name(self) -> &'static str {
        match self {
            Errno::Inval => "EINVAL",
            Errno::TooBig => "E2BIG",
            Errno::NotSupp => "EOPNOTSUPP",
            Errno::Range => "ERANGE",
            Errno::Srch => "ESRCH",
        }
    }
}

/// A CO-RE relocation that fails the object: libbpf's errno and what it printed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{message}")]
pub struct CoreError {
    /// The errno libbpf returns.
    pub errno: Errno,
    /// libbpf's warning, in libbpf's words.
    pub message: String,
}

impl CoreError {
    fn new(errno: Errno, message: impl Into<String>) -> Self {
        CoreError { errno, message: message.into() }
    }
}

/// What libbpf's `pr_warn`/`pr_debug` would have printed while relocating.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Log {
    /// `(is_warning, line)`, in order.
    pub lines: Vec<(bool, String)>,
}

impl Log {
    pub(crate) fn warn(&mut self, s: impl Into<String>) {
        self.lines.push((true, s.into()));
    }
    pub(crate) fn debug(&mut self, s: impl Into<String>) {
        self.lines.push((false, s.into()));
    }
}

/// Internal result: libbpf's "negative errno" paths, with the message already logged.
type R<T> = Result<T, Errno>;

/// One relocation record as the linker feeds it: [`kfvm_btf::CoreRelo`] with its access string
/// looked up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CoreReloRec<'s> {
    /// Instruction index (in the function or program the relocation is applied to).
    pub insn_idx: usize,
    /// Local root type id.
    pub type_id: u32,
    /// Access string.
    pub access: &'s str,
    /// What to compute.
    pub kind: CoreReloKind,
}

/// `btf_kind_core_compat`: same kind, or both enums (ENUM and ENUM64 mix).
fn kind_core_compat(a: &Type<'_>, b: &Type<'_>) -> bool {
    a.kind() == b.kind() || (a.kind().is_any_enum() && b.kind().is_any_enum())
}

/// libbpf's `skip_mods_and_typedefs`: the type and its id. `None` for an id out of range.
fn skip(btf: &Btf, id: u32) -> Option<(Type<'_>, u32)> {
    let t = btf.skip_mods_and_typedefs(id).ok()?;
    Some((t, t.id()))
}

fn skip_r(btf: &Btf, id: u32) -> R<(Type<'_>, u32)> {
    skip(btf, id).ok_or(Errno::Inval)
}

/// `btf__resolve_size` (negative errno on failure).
fn resolve_size(btf: &Btf, id: u32) -> R<u32> {
    btf.resolve_size(id).map_err(|e| match e {
        kfvm_btf::BtfError::SizeOverflow { .. } => Errno::TooBig,
        _ => Errno::Inval,
    })
}

fn int_offset(t: &Type<'_>) -> u8 {
    t.int().map_or(0, |i| i.offset)
}

fn int_encoding(t: &Type<'_>) -> IntEncoding {
    t.int().map_or(IntEncoding::NONE, |i| i.encoding)
}

fn str_is_empty(s: &str) -> bool {
    s.is_empty()
}

/// `__bpf_core_types_are_compat`: compatibility of type-based relocations and of kfunc
/// prototypes. Names are not compared (the caller matched the root names); kinds must agree
/// after skipping modifiers and typedefs (ENUM and ENUM64 mix), any two ints without a bit
/// offset are compatible, pointers and arrays recurse into their targets, prototypes compare
/// parameter counts and recurse into each parameter and the return type.
///
/// `Ok(true)`/`Ok(false)` for 1/0, `Err` where libbpf returns a negative errno (nesting deeper
/// than 32, an id out of range).
pub fn types_are_compat(local: &Btf, local_id: u32, targ: &Btf, targ_id: u32) -> Result<bool, Errno> {
    types_are_compat_level(local, local_id, targ, targ_id, MAX_DEPTH)
}

fn types_are_compat_level(
    local: &Btf,
    mut local_id: u32,
    targ: &Btf,
    mut targ_id: u32,
    level: i32,
) -> R<bool> {
    let (Some(lt), Some(tt)) = (local.get(local_id), targ.get(targ_id)) else {
        return Err(Errno::Inval);
    };
    if !kind_core_compat(&lt, &tt) {
        return Ok(false);
    }
    let mut depth = MAX_DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(Errno::Inval);
        }
        let (lt, lid) = skip_r(local, local_id)?;
        let (tt, tid) = skip_r(targ, targ_id)?;
        if !kind_core_compat(&lt, &tt) {
            return Ok(false);
        }
        match lt.kind() {
            Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Fwd | Kind::Enum64 => {
                return Ok(true)
            }
            Kind::Int => return Ok(int_offset(&lt) == 0 && int_offset(&tt) == 0),
            Kind::Ptr => {
                local_id = lt.size_or_type();
                targ_id = tt.size_or_type();
            }
            Kind::Array => {
                local_id = lt.array().unwrap_or_default().elem_type;
                targ_id = tt.array().unwrap_or_default().elem_type;
            }
            Kind::FuncProto => {
                if lt.vlen() != tt.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in lt.params().zip(tt.params()) {
                    if level <= 0 {
                        return Err(Errno::Inval);
                    }
                    let lpid = skip(local, lp.type_id).map_or(lp.type_id, |x| x.1);
                    let tpid = skip(targ, tp.type_id).map_or(tp.type_id, |x| x.1);
                    if !types_are_compat_level(local, lpid, targ, tpid, level - 1)? {
                        return Ok(false);
                    }
                }
                local_id = skip(local, lt.size_or_type()).map_or(lt.size_or_type(), |x| x.1);
                targ_id = skip(targ, tt.size_or_type()).map_or(tt.size_or_type(), |x| x.1);
            }
            _ => {
                // libbpf: "unexpected kind %s relocated, local [%d], target [%d]"
                let _ = (lid, tid);
                return Ok(false);
            }
        }
    }
}

/// `bpf_core_fields_are_compat`: the final field of a field relocation. Any two structs or
/// unions are compatible; pointers and floats are; FWDs and enums need equal essential names
/// (or one anonymous); ints need no bit offset; arrays recurse into their elements.
pub fn fields_are_compat(
    local: &Btf,
    mut local_id: u32,
    targ: &Btf,
    mut targ_id: u32,
) -> Result<bool, Errno> {
    for _ in 0..=kfvm_btf::MAX_NESTING {
        let (lt, _) = skip_r(local, local_id)?;
        let (tt, _) = skip_r(targ, targ_id)?;
        if lt.kind().is_composite() && tt.kind().is_composite() {
            return Ok(true);
        }
        if !kind_core_compat(&lt, &tt) {
            return Ok(false);
        }
        match lt.kind() {
            Kind::Ptr | Kind::Float => return Ok(true),
            Kind::Fwd | Kind::Enum | Kind::Enum64 => {
                let (ln, tn) = (lt.name(), tt.name());
                let (ll, tl) = (essential_name(ln).len(), essential_name(tn).len());
                return Ok(ll == 0 || tl == 0 || (ll == tl && ln.as_bytes()[..ll] == tn.as_bytes()[..tl]));
            }
            Kind::Int => return Ok(int_offset(&lt) == 0 && int_offset(&tt) == 0),
            Kind::Array => {
                local_id = lt.array().unwrap_or_default().elem_type;
                targ_id = tt.array().unwrap_or_default().elem_type;
            }
            _ => return Ok(false),
        }
    }
    Err(Errno::Inval)
}

/// `bpf_core_names_match`: essential names equal; an anonymous target matches only an
/// anonymous local.
fn names_match(local_n: &str, targ_n: &str) -> bool {
    if str_is_empty(targ_n) {
        return str_is_empty(local_n);
    }
    let tl = essential_name(targ_n).len();
    let ll = essential_name(local_n).len();
    tl == ll && local_n.as_bytes()[..ll] == targ_n.as_bytes()[..tl]
}

fn enums_match(local: &Type<'_>, targ: &Type<'_>) -> bool {
    if local.size_or_type() != targ.size_or_type() || local.vlen() > targ.vlen() {
        return false;
    }
    local.enum_values().all(|lv| targ.enum_values().any(|tv| names_match(lv.name, tv.name)))
}

fn composites_match(
    local: &Btf,
    lt: &Type<'_>,
    targ: &Btf,
    tt: &Type<'_>,
    behind_ptr: bool,
    level: i32,
) -> R<bool> {
    if lt.vlen() > tt.vlen() {
        return Ok(false);
    }
    for lm in lt.members() {
        let mut matched = false;
        for tm in tt.members() {
            if !names_match(lm.name, tm.name) {
                continue;
            }
            if types_match_level(local, lm.type_id, targ, tm.type_id, behind_ptr, level - 1)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `bpf_core_types_match` (`TYPE_MATCHES`, `bpf_core_type_matches()`): a stricter relation than
/// [`types_are_compat`]. Names are compared at every level (essential names); ints need equal
/// size and signedness; arrays equal lengths; every local member or enumerator needs a
/// same-named match in the target; structs behind a pointer only need a compatible kind (a FWD
/// matches), so recursion stops at pointers.
pub fn types_match(local: &Btf, local_id: u32, targ: &Btf, targ_id: u32) -> Result<bool, Errno> {
    types_match_level(local, local_id, targ, targ_id, false, MAX_DEPTH)
}

fn types_match_level(
    local: &Btf,
    mut local_id: u32,
    targ: &Btf,
    mut targ_id: u32,
    mut behind_ptr: bool,
    level: i32,
) -> R<bool> {
    if level <= 0 {
        return Err(Errno::Inval);
    }
    let mut depth = MAX_DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(Errno::Inval);
        }
        let (lt, _) = skip_r(local, local_id)?;
        let (tt, _) = skip_r(targ, targ_id)?;
        if !names_match(lt.name(), tt.name()) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind(), tt.kind());
        match lk {
            Kind::Void => return Ok(lk == tk),
            Kind::Fwd => {
                let local_f = lt.kind_flag();
                if behind_ptr {
                    if lk == tk {
                        return Ok(local_f == tt.kind_flag());
                    }
                    return Ok((tk == Kind::Struct && !local_f) || (tk == Kind::Union && local_f));
                }
                if lk != tk {
                    return Ok(false);
                }
                return Ok(local_f == tt.kind_flag());
            }
            Kind::Enum | Kind::Enum64 => {
                if !tk.is_any_enum() {
                    return Ok(false);
                }
                return Ok(enums_match(&lt, &tt));
            }
            Kind::Struct | Kind::Union => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    if tk != Kind::Fwd {
                        return Ok(false);
                    }
                    return Ok((lk == Kind::Union) == tt.kind_flag());
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(local, &lt, targ, &tt, behind_ptr, level);
            }
            Kind::Int => {
                if lk != tk {
                    return Ok(false);
                }
                let ls = int_encoding(&lt).0 & IntEncoding::SIGNED.0;
                let ts = int_encoding(&tt).0 & IntEncoding::SIGNED.0;
                return Ok(lt.size_or_type() == tt.size_or_type() && ls == ts);
            }
            Kind::Ptr => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                local_id = lt.size_or_type();
                targ_id = tt.size_or_type();
            }
            Kind::Array => {
                if lk != tk {
                    return Ok(false);
                }
                let (la, ta) = (lt.array().unwrap_or_default(), tt.array().unwrap_or_default());
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                local_id = la.elem_type;
                targ_id = ta.elem_type;
            }
            Kind::FuncProto => {
                if lk != tk || lt.vlen() != tt.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in lt.params().zip(tt.params()) {
                    if !types_match_level(local, lp.type_id, targ, tp.type_id, behind_ptr, level - 1)? {
                        return Ok(false);
                    }
                }
                local_id = lt.size_or_type();
                targ_id = tt.size_or_type();
            }
            _ => return Ok(false),
        }
    }
}

/// A high-level accessor (`struct bpf_core_accessor`): a named member, or an array index
/// (`name` is `None`; the first accessor is always one, the pointer dereference).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Accessor<'a> {
    /// The struct/union holding the member, or the array element type.
    pub type_id: u32,
    /// Member index or array index.
    pub idx: u32,
    /// Member name.
    pub name: Option<&'a str>,
}

/// `struct bpf_core_spec`: a parsed (local) or matched (target) access path.
#[derive(Clone, Debug)]
pub struct Spec<'a> {
    /// The BTF the ids refer to.
    pub btf: &'a Btf,
    /// High-level accessors: named members and array indices.
    pub spec: Vec<Accessor<'a>>,
    /// Root type id, modifiers and typedefs not skipped.
    pub root_type_id: u32,
    /// The relocation kind.
    pub kind: CoreReloKind,
    /// Low-level indices, one per access-string element (target: through anonymous members).
    pub raw_spec: Vec<i32>,
    /// Bit offset of the field.
    pub bit_offset: u32,
}

impl<'a> Spec<'a> {
    fn empty(btf: &'a Btf, root_type_id: u32, kind: CoreReloKind) -> Self {
        Spec { btf, spec: Vec::new(), root_type_id, kind, raw_spec: Vec::new(), bit_offset: 0 }
    }

    /// `bpf_core_format_spec`: `<byte_off> [7] struct task_struct.pid (0:55 @ offset 2364)`.
    pub fn format(&self) -> String {
        let mut s = String::new();
        let t = self.btf.get(self.root_type_id);
        let (kind, name) = t.map_or(("?", ""), |t| (t.kind().libbpf_str(), t.name()));
        let _ = write!(
            s,
            "<{}> [{}] {} {}",
            self.kind.as_str(),
            self.root_type_id,
            kind,
            if name.is_empty() { "<anon>" } else { name }
        );
        if self.kind.is_type() {
            return s;
        }
        if self.kind.is_enumval() {
            let Some(t) = skip(self.btf, self.root_type_id).map(|x| x.0) else { return s };
            let Some(&idx) = self.raw_spec.first() else { return s };
            if let Some(e) = t.enum_values().nth(idx as usize) {
                if t.kind() == Kind::Enum {
                    if t.kind_flag() {
                        let _ = write!(s, "::{} = {}", e.name, e.raw as u32 as i32);
                    } else {
                        let _ = write!(s, "::{} = {}", e.name, e.raw as u32);
                    }
                } else if t.kind_flag() {
                    let _ = write!(s, "::{} = {}", e.name, e.raw as i64);
                } else {
                    let _ = write!(s, "::{} = {}", e.name, e.raw);
                }
            }
            return s;
        }
        for (i, a) in self.spec.iter().enumerate() {
            match a.name {
                Some(n) => {
                    let _ = write!(s, ".{n}");
                }
                None if i > 0 || a.idx > 0 => {
                    let _ = write!(s, "[{}]", a.idx);
                }
                None => {}
            }
        }
        s.push_str(" (");
        for (i, r) in self.raw_spec.iter().enumerate() {
            let _ = write!(s, "{}{r}", if i == 0 { "" } else { ":" });
        }
        if self.bit_offset % 8 != 0 {
            let _ = write!(s, " @ offset {}.{})", self.bit_offset / 8, self.bit_offset % 8);
        } else {
            let _ = write!(s, " @ offset {})", self.bit_offset / 8);
        }
        s
    }
}

/// libbpf's `sscanf("%d")` loop over `"0:1:2"`: `None` where libbpf returns `-EINVAL`,
/// `Some(Err)` for more than [`BPF_CORE_SPEC_MAX_LEN`] elements.
fn parse_access(s: &str) -> R<Vec<i32>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() {
        if b[p] == b':' {
            p += 1;
        }
        // %d: optional whitespace, optional sign, at least one digit
        let mut q = p;
        while q < b.len() && b[q].is_ascii_whitespace() {
            q += 1;
        }
        let neg = q < b.len() && b[q] == b'-';
        if q < b.len() && (b[q] == b'-' || b[q] == b'+') {
            q += 1;
        }
        let start = q;
        let mut v: i64 = 0;
        while q < b.len() && b[q].is_ascii_digit() {
            v = (v * 10 + (b[q] - b'0') as i64).min(i64::from(u32::MAX) + 1);
            q += 1;
        }
        if q == start {
            return Err(Errno::Inval);
        }
        if out.len() == BPF_CORE_SPEC_MAX_LEN {
            return Err(Errno::TooBig);
        }
        let v = if neg { -v } else { v };
        // Out-of-range conversions are undefined in C; refuse them.
        let v = i32::try_from(v).map_err(|_| Errno::Inval)?;
        out.push(v);
        p = q;
    }
    Ok(out)
}

/// `is_flex_arr`: a zero-length array that is the last member of its struct.
fn is_flex_arr(btf: &Btf, acc: Option<&Accessor<'_>>, nelems: u32) -> bool {
    let Some(acc) = acc else { return false };
    if acc.name.is_none() || nelems > 0 {
        return false;
    }
    btf.get(acc.type_id).is_some_and(|t| t.vlen() > 0 && acc.idx == t.vlen() as u32 - 1)
}

/// `bpf_core_parse_spec`: the access string of a record against the local BTF.
pub fn parse_spec<'a>(
    prog_name: &str,
    btf: &'a Btf,
    type_id: u32,
    access: &str,
    kind: CoreReloKind,
    log: &mut Log,
) -> Result<Spec<'a>, Errno> {
    if access.is_empty() || access.starts_with(':') {
        return Err(Errno::Inval);
    }
    let mut spec = Spec::empty(btf, type_id, kind);
    if kind.is_type() {
        if access != "0" {
            return Err(Errno::Inval);
        }
        return Ok(spec);
    }
    spec.raw_spec = parse_access(access)?;
    if spec.raw_spec.is_empty() {
        return Err(Errno::Inval);
    }
    let (t, mut id) = skip_r(btf, type_id)?;
    let access_idx = spec.raw_spec[0];
    if access_idx < 0 {
        return Err(Errno::Inval);
    }
    spec.spec.push(Accessor { type_id: id, idx: access_idx as u32, name: None });
    if kind.is_enumval() {
        if !t.kind().is_any_enum() || spec.raw_spec.len() > 1 || access_idx as u32 >= t.vlen() as u32 {
            return Err(Errno::Inval);
        }
        let e = t.enum_values().nth(access_idx as usize).ok_or(Errno::Inval)?;
        spec.spec[0].name = Some(e.name);
        return Ok(spec);
    }
    if !kind.is_field() {
        return Err(Errno::Inval);
    }
    let sz = resolve_size(btf, id)?;
    spec.bit_offset = (access_idx as u32).wrapping_mul(sz).wrapping_mul(8);
    for i in 1..spec.raw_spec.len() {
        let (t, tid) = skip_r(btf, id)?;
        id = tid;
        let access_idx = spec.raw_spec[i];
        if access_idx < 0 {
            return Err(Errno::Inval);
        }
        let idx = access_idx as u32;
        if t.kind().is_composite() {
            if idx >= t.vlen() as u32 {
                return Err(Errno::Inval);
            }
            let m = t.member(idx as usize).ok_or(Errno::Inval)?;
            spec.bit_offset = spec.bit_offset.wrapping_add(m.bit_offset);
            if m.name_off != 0 {
                if str_is_empty(m.name) {
                    return Err(Errno::Inval);
                }
                spec.spec.push(Accessor { type_id: id, idx, name: Some(m.name) });
            }
            id = m.type_id;
        } else if t.kind() == Kind::Array {
            let a = t.array().unwrap_or_default();
            let (_, eid) = skip_r(btf, a.elem_type)?;
            id = eid;
            let flex = is_flex_arr(btf, spec.spec.last(), a.nelems);
            if !flex && idx >= a.nelems {
                return Err(Errno::Inval);
            }
            spec.spec.push(Accessor { type_id: id, idx, name: None });
            let sz = resolve_size(btf, id)?;
            spec.bit_offset = spec.bit_offset.wrapping_add(idx.wrapping_mul(sz).wrapping_mul(8));
        } else {
            log.warn(format!(
                "prog '{prog_name}': relo for [{type_id}] {access} (at idx {i}) captures type [{id}] of unexpected kind {}",
                t.kind().libbpf_str()
            ));
            return Err(Errno::Inval);
        }
    }
    Ok(spec)
}

/// `bpf_core_match_member`: finds the local named accessor's member in target type `targ_id`,
/// through anonymous members, extending `spec`. 1 found and compatible, 0 not, `Err` on error.
fn match_member<'a>(
    local: &Btf,
    local_acc: &Accessor<'_>,
    targ: &'a Btf,
    targ_id: u32,
    spec: &mut Spec<'a>,
    next_targ_id: &mut u32,
    depth: usize,
) -> R<bool> {
    let (tt, targ_id) = skip_r(targ, targ_id)?;
    if !tt.kind().is_composite() {
        return Ok(false);
    }
    if depth > kfvm_btf::MAX_NESTING {
        return Err(Errno::Inval);
    }
    let lt = local.get(local_acc.type_id).ok_or(Errno::Inval)?;
    let lm = lt.member(local_acc.idx as usize).ok_or(Errno::Inval)?;
    let local_name = lm.name;
    for (i, m) in tt.members().enumerate() {
        if spec.raw_spec.len() == BPF_CORE_SPEC_MAX_LEN {
            return Err(Errno::TooBig);
        }
        // speculate this member will be the good one
        spec.bit_offset = spec.bit_offset.wrapping_add(m.bit_offset);
        spec.raw_spec.push(i as i32);
        if str_is_empty(m.name) {
            // embedded struct/union: go deeper
            if match_member(local, local_acc, targ, m.type_id, spec, next_targ_id, depth + 1)? {
                return Ok(true);
            }
        } else if local_name == m.name {
            spec.spec.push(Accessor { type_id: targ_id, idx: i as u32, name: Some(m.name) });
            *next_targ_id = m.type_id;
            let found = fields_are_compat(local, lm.type_id, targ, m.type_id)?;
            if !found {
                spec.spec.pop();
            }
            return Ok(found);
        }
        // not what we looked for
        spec.bit_offset = spec.bit_offset.wrapping_sub(m.bit_offset);
        spec.raw_spec.pop();
    }
    Ok(false)
}

/// `bpf_core_spec_match`: matches a local spec against candidate `targ_id` of `targ`. `Ok(None)`
/// when the candidate does not match.
pub fn spec_match<'a>(local_spec: &Spec<'_>, targ: &'a Btf, targ_id: u32) -> Result<Option<Spec<'a>>, Errno> {
    let mut ts = Spec::empty(targ, targ_id, local_spec.kind);
    if local_spec.kind.is_type() {
        let ok = if local_spec.kind == CoreReloKind::TypeMatches {
            types_match(local_spec.btf, local_spec.root_type_id, targ, targ_id)?
        } else {
            types_are_compat(local_spec.btf, local_spec.root_type_id, targ, targ_id)?
        };
        return Ok(ok.then_some(ts));
    }
    let Some(first) = local_spec.spec.first() else { return Err(Errno::Inval) };
    if local_spec.kind.is_enumval() {
        let (tt, tid) = skip_r(targ, targ_id)?;
        if !tt.kind().is_any_enum() {
            return Ok(None);
        }
        let lname = first.name.unwrap_or("");
        let ll = essential_name(lname).len();
        for (i, e) in tt.enum_values().enumerate() {
            let tl = essential_name(e.name).len();
            if tl != ll {
                continue;
            }
            if lname.as_bytes()[..ll] == e.name.as_bytes()[..ll] {
                ts.spec.push(Accessor { type_id: tid, idx: i as u32, name: Some(e.name) });
                ts.raw_spec.push(i as i32);
                return Ok(Some(ts));
            }
        }
        return Ok(None);
    }
    if !local_spec.kind.is_field() {
        return Err(Errno::Inval);
    }
    let mut targ_id = targ_id;
    for (i, la) in local_spec.spec.iter().enumerate() {
        let (tt, tid) = skip_r(targ, targ_id)?;
        targ_id = tid;
        if la.name.is_some() {
            let mut next = targ_id;
            if !match_member(local_spec.btf, la, targ, targ_id, &mut ts, &mut next, 0)? {
                return Ok(None);
            }
            targ_id = next;
        } else {
            // for i=0, targ_id is already the array element type (the original struct); for
            // others find the array element type first
            if i > 0 {
                let Some(a) = tt.array() else { return Ok(None) };
                let flex = is_flex_arr(targ, ts.spec.get(i - 1), a.nelems);
                if !flex && la.idx >= a.nelems {
                    return Ok(None);
                }
                targ_id = skip_r(targ, a.elem_type)?.1;
            }
            if ts.raw_spec.len() == BPF_CORE_SPEC_MAX_LEN {
                return Err(Errno::TooBig);
            }
            ts.spec.push(Accessor { type_id: targ_id, idx: la.idx, name: None });
            ts.raw_spec.push(la.idx as i32);
            let sz = resolve_size(targ, targ_id)?;
            ts.bit_offset = ts.bit_offset.wrapping_add(la.idx.wrapping_mul(sz).wrapping_mul(8));
        }
    }
    Ok(Some(ts))
}

/// `struct bpf_core_relo_res`: what one relocation resolved to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ReloRes {
    /// The value expected in the instruction (checked when `validate`).
    pub orig_val: u64,
    /// The value to patch in.
    pub new_val: u64,
    /// Nothing matched and the kind has no "not found" value: poison the instruction.
    pub poison: bool,
    /// Whether `orig_val` is checked against the instruction.
    pub validate: bool,
    /// The load/store size would change in a way that corrupts the value (signed or non-scalar
    /// field resized): poison a memory instruction.
    pub fail_memsz_adjust: bool,
    /// Local field size (for load/store size adjustment).
    pub orig_sz: u32,
    /// Local field type.
    pub orig_type_id: u32,
    /// Target field size.
    pub new_sz: u32,
    /// Target field type.
    pub new_type_id: u32,
}

/// Why a field value could not be computed: poison (`-EUCLEAN`) or an error.
enum Fail {
    Poison,
    Err(Errno),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Self {
        Fail::Err(e)
    }
}

struct FieldVal {
    val: u64,
    field_sz: u32,
    type_id: u32,
    validate: bool,
}

/// Element type through any number of array dimensions: its size.
fn elem_size(btf: &Btf, id: u32) -> R<u32> {
    let (mut t, mut elem) = skip_r(btf, id)?;
    let mut guard = 0;
    while let Some(a) = t.array() {
        (t, elem) = skip_r(btf, a.elem_type)?;
        guard += 1;
        if guard > kfvm_btf::MAX_NESTING {
            return Err(Errno::Inval);
        }
    }
    resolve_size(btf, elem).map_err(|_| Errno::Inval)
}

/// `bpf_core_calc_field_relo`.
fn calc_field_relo(
    prog_name: &str,
    relo: &CoreReloRec<'_>,
    spec: Option<&Spec<'_>>,
    log: &mut Log,
) -> Result<FieldVal, Fail> {
    let mut out = FieldVal { val: 0, field_sz: 0, type_id: 0, validate: true };
    if relo.kind == CoreReloKind::FieldExists {
        out.val = spec.is_some() as u64;
        return Ok(out);
    }
    let Some(spec) = spec else { return Err(Fail::Poison) };
    let acc = spec.spec.last().ok_or(Errno::Inval)?;
    let t = spec.btf.get(acc.type_id).ok_or(Errno::Inval)?;
    if acc.name.is_none() {
        match relo.kind {
            CoreReloKind::FieldByteOffset => {
                out.val = (spec.bit_offset / 8) as u64;
                out.field_sz = elem_size(spec.btf, acc.type_id)?;
                out.type_id = acc.type_id;
            }
            CoreReloKind::FieldByteSize => {
                out.val = resolve_size(spec.btf, acc.type_id).map_err(|_| Errno::Inval)? as u64;
            }
            _ => {
                log.warn(format!(
                    "prog '{prog_name}': relo {} at insn #{} can't be applied to array access",
                    relo.kind as u32, relo.insn_idx
                ));
                return Err(Fail::Err(Errno::Inval));
            }
        }
        out.validate = true;
        return Ok(out);
    }
    let m = t.member(acc.idx as usize).ok_or(Errno::Inval)?;
    let (mt, field_type_id) = skip_r(spec.btf, m.type_id)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = m.bitfield_size;
    let bitfield = bit_sz > 0;
    let (mut byte_sz, mut byte_off);
    if bitfield {
        byte_sz = mt.size_or_type();
        if byte_sz == 0 {
            return Err(Fail::Err(Errno::Inval));
        }
        byte_off = bit_off / 8 / byte_sz * byte_sz;
        // the smallest int size that holds the bitfield
        while bit_off as u64 + bit_sz as u64 - byte_off as u64 * 8 > byte_sz as u64 * 8 {
            if byte_sz >= 8 {
                log.warn(format!(
                    "prog '{prog_name}': relo {} at insn #{} can't be satisfied for bitfield",
                    relo.kind as u32, relo.insn_idx
                ));
                return Err(Fail::Err(Errno::TooBig));
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
    } else {
        byte_sz = resolve_size(spec.btf, field_type_id).map_err(|_| Errno::Inval)?;
        byte_off = spec.bit_offset / 8;
        bit_sz = byte_sz.wrapping_mul(8);
    }
    // bitfields: offsets and sizes may legitimately differ from what the compiler chose
    out.validate = !bitfield;
    match relo.kind {
        CoreReloKind::FieldByteOffset => {
            out.val = byte_off as u64;
            if !bitfield {
                out.field_sz = elem_size(spec.btf, field_type_id)?;
                out.type_id = field_type_id;
            }
        }
        CoreReloKind::FieldByteSize => out.val = byte_sz as u64,
        CoreReloKind::FieldSigned => {
            out.val = ((mt.kind().is_any_enum() && mt.kind_flag())
                || (mt.kind() == Kind::Int && int_encoding(&mt).is_signed())) as u64;
            out.validate = true;
        }
        CoreReloKind::FieldLshiftU64 => {
            out.val = 64u32.wrapping_sub(bit_off.wrapping_add(bit_sz).wrapping_sub(byte_off.wrapping_mul(8)))
                as u64;
        }
        CoreReloKind::FieldRshiftU64 => {
            out.val = 64u32.wrapping_sub(bit_sz) as u64;
            out.validate = true;
        }
        _ => return Err(Fail::Err(Errno::NotSupp)),
    }
    Ok(out)
}

/// `bpf_core_calc_type_relo`: `(value, validate)`.
fn calc_type_relo(relo: &CoreReloRec<'_>, spec: Option<&Spec<'_>>) -> R<(u64, bool)> {
    let Some(spec) = spec else { return Ok((0, true)) };
    Ok(match relo.kind {
        CoreReloKind::TypeIdTarget => (spec.root_type_id as u64, false),
        CoreReloKind::TypeExists | CoreReloKind::TypeMatches => (1, true),
        CoreReloKind::TypeSize => {
            (resolve_size(spec.btf, spec.root_type_id).map_err(|_| Errno::Inval)? as u64, true)
        }
        _ => return Err(Errno::NotSupp),
    })
}

/// `bpf_core_calc_enumval_relo`.
fn calc_enumval_relo(relo: &CoreReloRec<'_>, spec: Option<&Spec<'_>>) -> Result<u64, Fail> {
    match relo.kind {
        CoreReloKind::EnumvalExists => Ok(spec.is_some() as u64),
        CoreReloKind::EnumvalValue => {
            let Some(spec) = spec else { return Err(Fail::Poison) };
            let acc = spec.spec.first().ok_or(Errno::Inval)?;
            let t = spec.btf.get(acc.type_id).ok_or(Errno::Inval)?;
            let e = t.enum_values().nth(acc.idx as usize).ok_or(Errno::Inval)?;
            // ENUM values are __s32 in libbpf and sign-extend into the u64 result
            Ok(if t.kind() == Kind::Enum { e.raw as u32 as i32 as i64 as u64 } else { e.raw })
        }
        _ => Err(Fail::Err(Errno::NotSupp)),
    }
}

/// `bpf_core_calc_relo`: original and new values for one local/target spec pair (`targ` is
/// `None` when no candidate matched).
fn calc_relo(
    prog_name: &str,
    relo: &CoreReloRec<'_>,
    relo_idx: usize,
    local: &Spec<'_>,
    targ: Option<&Spec<'_>>,
    log: &mut Log,
) -> R<ReloRes> {
    let mut res = ReloRes { validate: true, ..Default::default() };
    let r: Result<(), Fail> = (|| {
        if relo.kind.is_field() {
            let l = calc_field_relo(prog_name, relo, Some(local), log)?;
            res.orig_val = l.val;
            res.orig_sz = l.field_sz;
            res.orig_type_id = l.type_id;
            res.validate = l.validate;
            let t = calc_field_relo(prog_name, relo, targ, log)?;
            res.new_val = t.val;
            res.new_sz = t.field_sz;
            res.new_type_id = t.type_id;
            res.fail_memsz_adjust = false;
            if res.orig_sz != res.new_sz {
                let ot = local.btf.get(res.orig_type_id).ok_or(Errno::Inval)?;
                let nt = targ.and_then(|t| t.btf.get(res.new_type_id)).ok_or(Errno::Inval)?;
                // a 32-bit kernel pointer, or an unsigned integer: zero extension keeps the value
                let both_ptr = ot.kind() == Kind::Ptr && nt.kind() == Kind::Ptr;
                let both_uint = ot.kind() == Kind::Int
                    && nt.kind() == Kind::Int
                    && int_encoding(&ot) != IntEncoding::SIGNED
                    && int_encoding(&nt) != IntEncoding::SIGNED;
                if !both_ptr && !both_uint {
                    res.fail_memsz_adjust = true;
                }
            }
        } else if relo.kind.is_type() {
            let (o, v) = calc_type_relo(relo, Some(local))?;
            res.orig_val = o;
            res.validate = v;
            res.new_val = calc_type_relo(relo, targ)?.0;
        } else if relo.kind.is_enumval() {
            res.orig_val = calc_enumval_relo(relo, Some(local))?;
            res.new_val = calc_enumval_relo(relo, targ)?;
        } else {
            return Err(Fail::Err(Errno::NotSupp));
        }
        Ok(())
    })();
    match r {
        Ok(()) => Ok(res),
        Err(Fail::Poison) => {
            res.poison = true;
            Ok(res)
        }
        Err(Fail::Err(e)) => {
            if e == Errno::NotSupp {
                log.warn(format!(
                    "prog '{prog_name}': relo #{relo_idx}: unrecognized CO-RE relocation {} ({}) at insn #{}",
                    relo.kind.as_str(),
                    relo.kind as u32,
                    relo.insn_idx
                ));
            }
            Err(e)
        }
    }
}

/// A candidate target type (`struct bpf_core_cand`): which target BTF, which id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Cand {
    /// Index into the targets given to [`find_cands`] (0: the main, vmlinux-like BTF).
    pub btf: usize,
    /// Type id in that BTF.
    pub id: u32,
}

/// `bpf_core_add_cands`: target types of `targ` (from `start_id`) that are candidates for local
/// type `local_id`.
fn add_cands(local: &Btf, local_id: u32, targ: &Btf, targ_idx: usize, start_id: u32, out: &mut Vec<Cand>) {
    let Some(lt) = local.get(local_id) else { return };
    let lname = lt.name();
    let ll = essential_name(lname).len();
    for id in start_id..targ.type_count() {
        let Some(t) = targ.get(id) else { continue };
        if !kind_core_compat(&t, &lt) {
            continue;
        }
        let tn = t.name();
        if str_is_empty(tn) {
            continue;
        }
        if essential_name(tn).len() != ll || tn.as_bytes()[..ll] != lname.as_bytes()[..ll] {
            continue;
        }
        out.push(Cand { btf: targ_idx, id });
    }
}

/// `bpf_core_find_cands`: candidates in `targets[0]` (vmlinux), else in the others (module
/// BTFs, searched from their first own type). `Err(EINVAL)` for an anonymous local type.
pub fn find_cands(local: &Btf, local_id: u32, targets: &[&Btf]) -> Result<Vec<Cand>, Errno> {
    cands(local, local_id, targets, None)
}

/// An index of a target BTF by essential name, so that [`find_cands_indexed`] need not scan
/// every type (libbpf scans; the candidates found, and their order, are the same).
#[derive(Clone, Debug, Default)]
pub struct CandIndex {
    by_hash: HashMap<u64, Vec<u32>>,
}

fn name_hash(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl CandIndex {
    /// Indexes the named types of `btf` (its own part, for split BTF) by essential name.
    pub fn new(btf: &Btf) -> Self {
        let mut by_hash: HashMap<u64, Vec<u32>> = HashMap::new();
        for t in btf.types() {
            let n = t.name();
            if !n.is_empty() {
                by_hash.entry(name_hash(essential_name(n).as_bytes())).or_default().push(t.id());
            }
        }
        CandIndex { by_hash }
    }
}

/// [`find_cands`] with an index of the main target (`targets[0]`, which must be the BTF `index`
/// was built from).
pub fn find_cands_indexed(
    local: &Btf,
    local_id: u32,
    targets: &[&Btf],
    index: &CandIndex,
) -> Result<Vec<Cand>, Errno> {
    cands(local, local_id, targets, Some(index))
}

/// [`find_cands`], the main target scanned or looked up in its index.
fn cands(
    local: &Btf,
    local_id: u32,
    targets: &[&Btf],
    index: Option<&CandIndex>,
) -> Result<Vec<Cand>, Errno> {
    let lt = local.get(local_id).ok_or(Errno::Inval)?;
    let lname = lt.name();
    if str_is_empty(lname) {
        return Err(Errno::Inval);
    }
    let mut out = Vec::new();
    let Some(main) = targets.first() else { return Ok(out) };
    match index {
        None => add_cands(local, local_id, main, 0, 1, &mut out),
        Some(index) => {
            let ess = essential_name(lname);
            out.extend(
                index
                    .by_hash
                    .get(&name_hash(ess.as_bytes()))
                    .into_iter()
                    .flatten()
                    .filter_map(|&id| main.get(id))
                    .filter(|t| kind_core_compat(t, &lt) && essential_name(t.name()) == ess)
                    .map(|t| Cand { btf: 0, id: t.id() }),
            );
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    for (i, m) in targets.iter().enumerate().skip(1) {
        add_cands(local, local_id, m, i, m.start_id(), &mut out);
    }
    Ok(out)
}

/// libbpf's per-object candidate cache: one list per local root type id, shared by every
/// relocation of that type and pruned to the candidates that matched.
#[derive(Clone, Debug, Default)]
pub struct CandCache<'i> {
    map: HashMap<u32, Vec<Cand>>,
    index: Option<&'i CandIndex>,
}

impl<'i> CandCache<'i> {
    /// An empty cache; candidates are found by scanning the targets, as libbpf does.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache that finds candidates of the main target through `index`.
    pub fn with_index(index: &'i CandIndex) -> Self {
        CandCache { map: HashMap::new(), index: Some(index) }
    }
}

/// The outcome of one relocation: the values, and the specs for display.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Resolved {
    /// The values and flags to patch with.
    pub res: ReloRes,
    /// The local spec, formatted.
    pub local: String,
    /// The chosen target spec, formatted (`None`: no candidate matched).
    pub target: Option<String>,
    /// The chosen target: which BTF and which root type.
    pub target_cand: Option<Cand>,
}

/// `bpf_core_resolve_relo` + `bpf_core_calc_relo_insn`: resolves one record against `targets`
/// (`targets[0]` the vmlinux-like BTF, then modules), with the object's candidate cache.
#[allow(clippy::too_many_arguments)]
pub fn resolve_relo(
    prog_name: &str,
    relo: &CoreReloRec<'_>,
    relo_idx: usize,
    local_btf: &Btf,
    targets: &[&Btf],
    cache: &mut CandCache<'_>,
    log: &mut Log,
) -> Result<Resolved, CoreError> {
    let fail = |log: &mut Log, errno: Errno, msg: String| -> CoreError {
        log.warn(msg.clone());
        CoreError::new(errno, msg)
    };
    let local_id = relo.type_id;
    let Some(lt) = local_btf.get(local_id) else {
        return Err(fail(
            log,
            Errno::Inval,
            format!("prog '{prog_name}': relo #{relo_idx}: bad local type id {local_id}"),
        ));
    };
    let local_name = lt.name();
    if relo.kind != CoreReloKind::TypeIdLocal && !cache.map.contains_key(&local_id) {
        let found = match cache.index {
            Some(ix) => find_cands_indexed(local_btf, local_id, targets, ix),
            None => find_cands(local_btf, local_id, targets),
        };
        match found {
            Ok(c) => {
                for cand in &c {
                    if let Some(t) = targets[cand.btf].get(cand.id) {
                        log.debug(format!(
                            "CO-RE relocating [{local_id}] {} {local_name}: found target candidate [{}] {} {} in [{}]",
                            lt.kind().libbpf_str(),
                            cand.id,
                            t.kind().libbpf_str(),
                            t.name(),
                            if cand.btf == 0 { "vmlinux".to_string() } else { format!("module #{}", cand.btf) }
                        ));
                    }
                }
                cache.map.insert(local_id, c);
            }
            Err(e) => {
                return Err(fail(
                    log,
                    e,
                    format!(
                        "prog '{prog_name}': relo #{relo_idx}: target candidate search failed for [{local_id}] {} {local_name}: {}",
                        lt.kind().libbpf_str(),
                        e.code()
                    ),
                ))
            }
        }
    }
    let local_spec = match parse_spec(prog_name, local_btf, local_id, relo.access, relo.kind, log) {
        Ok(s) => s,
        Err(e) => {
            return Err(fail(
                log,
                Errno::Inval,
                format!(
                    "prog '{prog_name}': relo #{relo_idx}: parsing [{local_id}] {} {} + {} failed: {}",
                    lt.kind().libbpf_str(),
                    if local_name.is_empty() { "<anon>" } else { local_name },
                    relo.access,
                    e.code()
                ),
            ))
        }
    };
    let local_fmt = local_spec.format();
    log.debug(format!("prog '{prog_name}': relo #{relo_idx}: {local_fmt}"));

    if relo.kind == CoreReloKind::TypeIdLocal {
        let res = ReloRes {
            validate: false,
            orig_val: local_spec.root_type_id as u64,
            new_val: local_spec.root_type_id as u64,
            ..Default::default()
        };
        return Ok(Resolved { res, local: local_fmt, target: None, target_cand: None });
    }
    if local_name.is_empty() {
        return Err(fail(
            log,
            Errno::NotSupp,
            format!(
                "prog '{prog_name}': relo #{relo_idx}: <{}> ({}) relocation doesn't support anonymous types",
                relo.kind.as_str(),
                relo.kind as u32
            ),
        ));
    }
    let cands = cache.map.get_mut(&local_id).map(std::mem::take).unwrap_or_default();
    let mut kept: Vec<Cand> = Vec::with_capacity(cands.len());
    let mut chosen: Option<(ReloRes, Spec<'_>, Cand)> = None;
    let mut outcome: Result<(), CoreError> = Ok(());
    for (i, cand) in cands.iter().enumerate() {
        let tb = targets[cand.btf];
        let m = match spec_match(&local_spec, tb, cand.id) {
            Ok(m) => m,
            Err(e) => {
                outcome = Err(fail(
                    log,
                    e,
                    format!(
                        "prog '{prog_name}': relo #{relo_idx}: error matching candidate #{i} {}: {}",
                        Spec::empty(tb, cand.id, relo.kind).format(),
                        e.code()
                    ),
                ));
                break;
            }
        };
        let Some(cand_spec) = m else {
            log.debug(format!(
                "prog '{prog_name}': relo #{relo_idx}: non-matching candidate #{i} {}",
                Spec::empty(tb, cand.id, relo.kind).format()
            ));
            continue;
        };
        log.debug(format!(
            "prog '{prog_name}': relo #{relo_idx}: matching candidate #{i} {}",
            cand_spec.format()
        ));
        let mark = log.lines.len();
        let cand_res = match calc_relo(prog_name, relo, relo_idx, &local_spec, Some(&cand_spec), log) {
            Ok(r) => r,
            Err(e) => {
                outcome = Err(last_warning(log, mark, e, prog_name, relo_idx));
                break;
            }
        };
        match &chosen {
            None => chosen = Some((cand_res, cand_spec, *cand)),
            Some((tr, ts, _)) => {
                if cand_spec.bit_offset != ts.bit_offset {
                    outcome = Err(fail(
                        log,
                        Errno::Inval,
                        format!(
                            "prog '{prog_name}': relo #{relo_idx}: field offset ambiguity: {} != {}",
                            cand_spec.bit_offset, ts.bit_offset
                        ),
                    ));
                    break;
                }
                if cand_res.poison != tr.poison || cand_res.new_val != tr.new_val {
                    let word = |p: bool| if p { "failure" } else { "success" };
                    outcome = Err(fail(
                        log,
                        Errno::Inval,
                        format!(
                            "prog '{prog_name}': relo #{relo_idx}: relocation decision ambiguity: {} {} != {} {}",
                            word(cand_res.poison),
                            cand_res.new_val,
                            word(tr.poison),
                            tr.new_val
                        ),
                    ));
                    break;
                }
            }
        }
        kept.push(*cand);
    }
    // prune the shared list to what matched (unchanged if nothing did, or on error)
    let keep = if outcome.is_ok() && !kept.is_empty() { kept } else { cands };
    cache.map.insert(local_id, keep);
    outcome?;
    match chosen {
        Some((res, spec, cand)) => {
            Ok(Resolved { res, local: local_fmt, target: Some(spec.format()), target_cand: Some(cand) })
        }
        None => {
            log.debug(format!("prog '{prog_name}': relo #{relo_idx}: no matching targets found"));
            let mark = log.lines.len();
            let res = calc_relo(prog_name, relo, relo_idx, &local_spec, None, log)
                .map_err(|e| last_warning(log, mark, e, prog_name, relo_idx))?;
            Ok(Resolved { res, local: local_fmt, target: None, target_cand: None })
        }
    }
}

/// The error of a step that warned (the last warning since `mark`) or did not (libbpf's
/// generic "failed to relocate").
fn last_warning(log: &Log, mark: usize, e: Errno, prog_name: &str, relo_idx: usize) -> CoreError {
    let msg = log.lines[mark.min(log.lines.len())..]
        .iter()
        .rev()
        .find(|l| l.0)
        .map(|l| l.1.clone())
        .unwrap_or_else(|| format!("prog '{prog_name}': relo #{relo_idx}: failed to relocate: {}", e.code()));
    CoreError::new(e, msg)
}

const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_ALU: u8 = 0x04;
const BPF_JMP: u8 = 0x05;
const BPF_ALU64: u8 = 0x07;
const BPF_CALL: u8 = 0x80;
const BPF_K: u8 = 0x00;
const LDIMM64: u8 = 0x18;

/// What [`patch_insn`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Patched {
    /// ALU immediate, memory offset (and maybe size) or 64-bit immediate set.
    Patched,
    /// Replaced by the poison call (two for an `ldimm64`).
    Poisoned,
}

/// `bpf_core_poison_insn`.
fn poison(insn: &mut RawInsn) {
    *insn = RawInsn { code: BPF_JMP | BPF_CALL, regs: 0, off: 0, imm: BPF_CORE_POISON_IMM };
}

fn size_bytes(code: u8) -> i32 {
    match code & 0x18 {
        0x18 => 8,
        0x00 => 4,
        0x08 => 2,
        _ => 1,
    }
}

fn bytes_to_size(sz: u32) -> Option<u8> {
    Some(match sz {
        8 => 0x18,
        4 => 0x00,
        2 => 0x08,
        1 => 0x10,
        _ => return None,
    })
}

/// `bpf_core_patch_insn`: applies `res` to `insns[idx]` (and `insns[idx + 1]` for an `ldimm64`).
pub fn patch_insn(
    prog_name: &str,
    insns: &mut [RawInsn],
    idx: usize,
    relo_idx: usize,
    res: &ReloRes,
    log: &mut Log,
) -> Result<Patched, CoreError> {
    let warn = |log: &mut Log, errno: Errno, msg: String| -> CoreError {
        log.warn(msg.clone());
        CoreError::new(errno, msg)
    };
    let Some(&insn) = insns.get(idx) else {
        return Err(warn(
            log,
            Errno::Inval,
            format!("prog '{prog_name}': relo #{relo_idx}: insn #{idx} out of range"),
        ));
    };
    let class = insn.code & 0x07;
    let do_poison = |insns: &mut [RawInsn], log: &mut Log| {
        if insn.code == LDIMM64 {
            if let Some(next) = insns.get_mut(idx + 1) {
                log.debug(format!(
                    "prog '{prog_name}': relo #{relo_idx}: substituting insn #{} w/ invalid insn",
                    idx + 1
                ));
                poison(next);
            }
        }
        log.debug(format!("prog '{prog_name}': relo #{relo_idx}: substituting insn #{idx} w/ invalid insn"));
        poison(&mut insns[idx]);
        Ok(Patched::Poisoned)
    };
    if res.poison {
        return do_poison(insns, log);
    }
    let (orig_val, new_val) = (res.orig_val, res.new_val);
    match class {
        BPF_ALU | BPF_ALU64 => {
            if insn.code & 0x08 != BPF_K {
                return Err(warn(
                    log,
                    Errno::Inval,
                    format!("prog '{prog_name}': relo #{relo_idx}: failed to patch insn #{idx}: {}", Errno::Inval.code()),
                ));
            }
            if res.validate && insn.imm as i64 as u64 != orig_val {
                return Err(warn(
                    log,
                    Errno::Inval,
                    format!(
                        "prog '{prog_name}': relo #{relo_idx}: unexpected insn #{idx} (ALU/ALU64) value: got {}, exp {orig_val} -> {new_val}",
                        insn.imm as u32
                    ),
                ));
            }
            insns[idx].imm = new_val as u32 as i32;
            log.debug(format!(
                "prog '{prog_name}': relo #{relo_idx}: patched insn #{idx} (ALU/ALU64) imm {} -> {new_val}",
                insn.imm as i64 as u64
            ));
        }
        BPF_LDX | BPF_ST | BPF_STX => {
            if res.validate && insn.off as i64 as u64 != orig_val {
                return Err(warn(
                    log,
                    Errno::Inval,
                    format!(
                        "prog '{prog_name}': relo #{relo_idx}: unexpected insn #{idx} (LDX/ST/STX) value: got {}, exp {orig_val} -> {new_val}",
                        insn.off as i32 as u32
                    ),
                ));
            }
            if new_val > i16::MAX as u64 {
                return Err(warn(
                    log,
                    Errno::Range,
                    format!("prog '{prog_name}': relo #{relo_idx}: insn #{idx} (LDX/ST/STX) value too big: {new_val}"),
                ));
            }
            if res.fail_memsz_adjust {
                log.warn(format!(
                    "prog '{prog_name}': relo #{relo_idx}: insn #{idx} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size."
                ));
                return do_poison(insns, log);
            }
            insns[idx].off = new_val as i16;
            log.debug(format!(
                "prog '{prog_name}': relo #{relo_idx}: patched insn #{idx} (LDX/ST/STX) off {} -> {new_val}",
                insn.off as i64 as u64
            ));
            if res.new_sz != res.orig_sz {
                let have = size_bytes(insn.code);
                if have != res.orig_sz as i32 {
                    return Err(warn(
                        log,
                        Errno::Inval,
                        format!(
                            "prog '{prog_name}': relo #{relo_idx}: insn #{idx} (LDX/ST/STX) unexpected mem size: got {have}, exp {}",
                            res.orig_sz
                        ),
                    ));
                }
                let Some(sz) = bytes_to_size(res.new_sz) else {
                    return Err(warn(
                        log,
                        Errno::Inval,
                        format!(
                            "prog '{prog_name}': relo #{relo_idx}: insn #{idx} (LDX/ST/STX) invalid new mem size: {}",
                            res.new_sz
                        ),
                    ));
                };
                insns[idx].code = (insn.code & 0xe0) | sz | class;
                log.debug(format!(
                    "prog '{prog_name}': relo #{relo_idx}: patched insn #{idx} (LDX/ST/STX) mem_sz {} -> {}",
                    res.orig_sz, res.new_sz
                ));
            }
        }
        BPF_LD => {
            let next = insns.get(idx + 1).copied();
            let ok = insn.code == LDIMM64
                && insn.src() == 0
                && insn.off == 0
                && next.is_some_and(|n| n.code == 0 && n.regs == 0 && n.off == 0);
            let Some(next) = next.filter(|_| ok) else {
                return Err(warn(
                    log,
                    Errno::Inval,
                    format!("prog '{prog_name}': relo #{relo_idx}: insn #{idx} (LDIMM64) has unexpected form"),
                ));
            };
            let imm = (insn.imm as u32 as u64) | ((next.imm as u32 as u64) << 32);
            if res.validate && imm != orig_val {
                return Err(warn(
                    log,
                    Errno::Inval,
                    format!(
                        "prog '{prog_name}': relo #{relo_idx}: unexpected insn #{idx} (LDIMM64) value: got {imm}, exp {orig_val} -> {new_val}"
                    ),
                ));
            }
            insns[idx].imm = new_val as u32 as i32;
            insns[idx + 1].imm = (new_val >> 32) as u32 as i32;
            log.debug(format!(
                "prog '{prog_name}': relo #{relo_idx}: patched insn #{idx} (LDIMM64) imm64 {imm} -> {new_val}"
            ));
        }
        _ => {
            return Err(warn(
                log,
                Errno::Inval,
                format!(
                    "prog '{prog_name}': relo #{relo_idx}: trying to relocate unrecognized insn #{idx}, code:{:#x}, src:{:#x}, dst:{:#x}, off:{:#x}, imm:{:#x}",
                    insn.code,
                    insn.src(),
                    insn.dst(),
                    insn.off,
                    insn.imm
                ),
            ))
        }
    }
    Ok(Patched::Patched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_strings() {
        assert_eq!(parse_access("0:1:2").unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_access("0").unwrap(), vec![0]);
        assert_eq!(parse_access("0:").unwrap_err(), Errno::Inval);
        assert_eq!(parse_access("0::1").unwrap_err(), Errno::Inval);
        assert_eq!(parse_access("x").unwrap_err(), Errno::Inval);
        let long = vec!["0"; 65].join(":");
        assert_eq!(parse_access(&long).unwrap_err(), Errno::TooBig);
        let ok = vec!["0"; 64].join(":");
        assert_eq!(parse_access(&ok).unwrap().len(), 64);
    }
}
