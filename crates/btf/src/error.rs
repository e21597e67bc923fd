//! Errors: BTF or `.BTF.ext` data refused, and failed queries.

use crate::Kind;
use std::fmt;

/// Why BTF data was refused, or why a query on valid BTF failed.
///
/// Every variant says where: a byte offset for header and section problems, a type id for
/// anything wrong inside a type (`type [42] STRUCT 'foo': member 3: type id 99999 out of range`).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BtfError {
    /// The data ends before a structure that must be there.
    #[error("truncated BTF: {what} at offset {offset} needs {need} bytes, only {have} present")]
    Truncated {
        /// What was being read (`"BTF header"`, `".BTF.ext header"`, ...).
        what: &'static str,
        /// Byte offset where it starts.
        offset: usize,
        /// Bytes it needs.
        need: usize,
        /// Bytes present from `offset` on.
        have: usize,
    },
    /// The first two bytes are not the BTF magic 0xeB9F (little-endian).
    #[error("bad BTF magic {found:#06x} (expected 0xeb9f)")]
    BadMagic {
        /// The magic read as a little-endian u16.
        found: u16,
    },
    /// Big-endian BTF (magic bytes `eb 9f`). kfvm reads little-endian BTF only, as BPF on x86-64
    /// and arm64 produces.
    #[error("big-endian BTF (magic bytes eb 9f) is not supported: kfvm reads little-endian BTF only")]
    BigEndian,
    /// A header version other than 1.
    #[error("unsupported BTF version {0} (expected 1)")]
    UnsupportedVersion(u8),
    /// Header flags other than 0.
    #[error("unsupported BTF header flags {0:#04x} (expected 0)")]
    UnsupportedFlags(u8),
    /// The header's lengths and offsets do not describe sections inside the data.
    #[error("invalid BTF header: {0}")]
    BadHeader(String),
    /// The string section is malformed.
    #[error("invalid BTF string section: {0}")]
    BadStrings(String),
    /// A type is malformed.
    #[error("type [{id}]{}: {problem}", kind_and_name(.kind, .name.as_deref()))]
    BadType {
        /// The type's id.
        id: u32,
        /// Its kind, when the kind field could be read.
        kind: Option<Kind>,
        /// Its name, when it could be read (empty for anonymous types).
        name: Option<String>,
        /// What is wrong.
        problem: TypeProblem,
    },
    /// A query named a type id the BTF does not have.
    #[error("type id {id} out of range (BTF has ids 0..{count})")]
    NoSuchType {
        /// The id asked for.
        id: u32,
        /// Number of ids (including void and any base BTF).
        count: u32,
    },
    /// A query needed a type of another kind.
    #[error("type [{id}] is {kind}, expected {expected}")]
    WrongKind {
        /// The type's id.
        id: u32,
        /// Its kind.
        kind: Kind,
        /// What the query needed.
        expected: &'static str,
    },
    /// A size query on a type that has none (void, a forward declaration, a function).
    #[error("type [{id}] ({kind}) has no size")]
    NoSize {
        /// The type's id.
        id: u32,
        /// Its kind.
        kind: Kind,
    },
    /// A size computation overflowed (an array of arrays larger than 4 GiB).
    #[error("type [{id}]: size overflows u32")]
    SizeOverflow {
        /// The type whose size overflowed.
        id: u32,
    },
    /// `.BTF.ext` data is malformed.
    #[error(".BTF.ext: {0}")]
    Ext(String),
    /// A query or the C dumper gave up: types nest deeper than it is willing to follow.
    #[error("type [{id}] nests deeper than {limit} levels")]
    TooDeep {
        /// The type being followed when the limit was hit.
        id: u32,
        /// The nesting limit.
        limit: usize,
    },
    /// The C dumper refused to print a struct whose padding would take more than a million
    /// bits of `long: 64;` lines (no real struct comes close; hostile BTF could ask for
    /// gigabytes).
    #[error("C dump: struct [{id}] has a padding gap of {bits} bits, too large to print")]
    DumpPadding {
        /// The struct.
        id: u32,
        /// Size of the gap in bits.
        bits: u64,
    },
    /// The C dumper's output passed its size limit (16 MiB plus 16 times the size of the BTF):
    /// anonymous types inlined into each other many times over, as only hostile BTF does.
    #[error("C dump: output larger than {limit} bytes (at type [{id}])")]
    DumpTooLarge {
        /// The type being emitted.
        id: u32,
        /// The limit.
        limit: usize,
    },
    /// The C dumper found a cycle of types that C cannot express (no forward declaration breaks
    /// it).
    #[error("C dump: unsatisfiable type cycle at type [{id}]")]
    DumpCycle {
        /// A type on the cycle.
        id: u32,
    },
}

fn kind_and_name(kind: &Option<Kind>, name: Option<&str>) -> String {
    match (kind, name) {
        (Some(k), Some("")) => format!(" {k} '(anon)'"),
        (Some(k), Some(n)) => format!(" {k} '{n}'"),
        (Some(k), None) => format!(" {k}"),
        (None, _) => String::new(),
    }
}

/// What is wrong with one type ([`BtfError::BadType`]).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum TypeProblem {
    /// The kind field holds no known kind.
    UnknownKind(u8),
    /// Reserved bits of the `info` word are set.
    ReservedInfoBits(u32),
    /// The type's record runs past the end of the type section.
    Truncated {
        /// Bytes the record needs.
        need: usize,
        /// Bytes left in the type section.
        have: usize,
    },
    /// A name offset points outside the string section.
    NameOffset {
        /// Whose name (`"type"`, `"member 2"`, `"param 0"`, `"enumerator 5"`).
        what: String,
        /// The offset.
        offset: u32,
        /// Size of the string space (base and split strings together).
        limit: u32,
    },
    /// A name offset points into the middle of a UTF-8 character.
    NameNotCharBoundary {
        /// Whose name.
        what: String,
        /// The offset.
        offset: u32,
    },
    /// A name that must be present is empty.
    MissingName,
    /// A name on a kind that must be anonymous (PTR, ARRAY, FUNC_PROTO, const/volatile/restrict).
    NameNotAllowed,
    /// A referenced type id is out of range.
    TypeId {
        /// Which reference (`"type"`, `"member 2"`, `"array element"`, ...).
        what: String,
        /// The id.
        id: u32,
        /// Number of ids.
        count: u32,
    },
    /// A reference to void where void is not allowed.
    VoidRef {
        /// Which reference.
        what: String,
    },
    /// A referenced type has the wrong kind.
    RefKind {
        /// Which reference.
        what: String,
        /// The referenced id.
        id: u32,
        /// Its kind.
        kind: Kind,
        /// The kinds allowed.
        expected: &'static str,
    },
    /// `vlen` is not allowed for this kind (or too large).
    Vlen(u16),
    /// `kind_flag` is set on a kind that does not use it.
    KindFlag,
    /// The size field is not allowed for this kind.
    Size(u32),
    /// The INT encoding word is malformed.
    IntData(String),
    /// A linkage value out of range.
    Linkage(u32),
    /// A member lies outside its struct, or a union member has a non-zero offset.
    MemberOffset {
        /// Member index.
        index: u32,
        /// What is wrong.
        reason: String,
    },
    /// A decl tag's component index does not name a member or parameter.
    ComponentIdx(i32),
    /// A reference loop: following types by value (through modifiers, typedefs, arrays and
    /// struct members) or along a chain of pointers and modifiers comes back to this type.
    Loop {
        /// The ids on the loop, starting with this type.
        path: Vec<u32>,
    },
    /// A size overflows u32.
    SizeOverflow(String),
    /// A parameter of type void that is not the last one (only a trailing void means `...`).
    VoidParam(u32),
    /// A DATASEC entry that is malformed.
    SecInfo {
        /// Entry index.
        index: u32,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for TypeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKind(k) => write!(f, "unknown kind {k}"),
            Self::ReservedInfoBits(info) => write!(f, "reserved bits set in info {info:#010x}"),
            Self::Truncated { need, have } => {
                write!(f, "record needs {need} bytes, only {have} left in the type section")
            }
            Self::NameOffset { what, offset, limit } => {
                write!(f, "{what} name offset {offset} out of range (string section size {limit})")
            }
            Self::NameNotCharBoundary { what, offset } => {
                write!(f, "{what} name offset {offset} is inside a UTF-8 character")
            }
            Self::MissingName => write!(f, "name must not be empty"),
            Self::NameNotAllowed => write!(f, "this kind must be anonymous"),
            Self::TypeId { what, id, count } => {
                write!(f, "{what} type id {id} out of range (BTF has ids 0..{count})")
            }
            Self::VoidRef { what } => write!(f, "{what} refers to void"),
            Self::RefKind { what, id, kind, expected } => {
                write!(f, "{what} type [{id}] is {kind}, expected {expected}")
            }
            Self::Vlen(v) => write!(f, "vlen {v} not allowed for this kind"),
            Self::KindFlag => write!(f, "kind_flag set, but this kind does not use it"),
            Self::Size(s) => write!(f, "invalid size {s}"),
            Self::IntData(s) => write!(f, "invalid int encoding: {s}"),
            Self::Linkage(l) => write!(f, "invalid linkage {l}"),
            Self::MemberOffset { index, reason } => write!(f, "member {index}: {reason}"),
            Self::ComponentIdx(i) => write!(f, "component_idx {i} out of range"),
            Self::Loop { path } => {
                write!(f, "reference loop: ")?;
                for (i, id) in path.iter().enumerate() {
                    if i > 0 {
                        write!(f, " -> ")?;
                    }
                    write!(f, "[{id}]")?;
                }
                if let Some(first) = path.first() {
                    write!(f, " -> [{first}]")?;
                }
                Ok(())
            }
            Self::SizeOverflow(s) => write!(f, "size overflows u32: {s}"),
            Self::VoidParam(i) => write!(f, "param {i} is void but not the last parameter"),
            Self::SecInfo { index, reason } => write!(f, "var {index}: {reason}"),
        }
    }
}
