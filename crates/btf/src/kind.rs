//! BTF kinds and the small enumerations of the format (`include/uapi/linux/btf.h`).

use std::fmt;

/// Raw constants of the BTF and `.BTF.ext` formats.
pub mod raw {
    /// BTF magic, as a little-endian u16 (bytes `9f eb`).
    pub const BTF_MAGIC: u16 = 0xeb9f;
    /// BTF version kfvm reads and writes.
    pub const BTF_VERSION: u8 = 1;
    /// Size of `struct btf_header`.
    pub const HEADER_LEN: usize = 24;
    /// Size of `struct btf_type` (name_off, info, size/type).
    pub const TYPE_LEN: usize = 12;
    /// Largest type id the kernel accepts (`BTF_MAX_TYPE`).
    pub const MAX_TYPE: u32 = 0x000f_ffff;
    /// Largest string offset the kernel accepts (`BTF_MAX_NAME_OFFSET`).
    pub const MAX_NAME_OFFSET: u32 = 0x00ff_ffff;
    /// Largest vlen (`BTF_MAX_VLEN`).
    pub const MAX_VLEN: u32 = 0xffff;
    /// Bits of `btf_type.info` that carry meaning (`BTF_INFO_MASK` of the kernel): vlen,
    /// kind and kind_flag.
    pub const INFO_MASK: u32 = 0x9f00_ffff;
    /// INT encoding bit: signed.
    pub const INT_SIGNED: u8 = 1;
    /// INT encoding bit: char.
    pub const INT_CHAR: u8 = 2;
    /// INT encoding bit: bool.
    pub const INT_BOOL: u8 = 4;
    /// Size of `struct btf_ext_header` without the CO-RE fields.
    pub const EXT_HEADER_MIN_LEN: usize = 24;
    /// Size of `struct btf_ext_header` with the CO-RE relocation fields.
    pub const EXT_HEADER_CORE_LEN: usize = 32;
}

/// The kind of a BTF type (`BTF_KIND_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Kind {
    /// Id 0: `void`. Never stored in the type section.
    Void = 0,
    /// An integer (`BTF_KIND_INT`).
    Int = 1,
    /// A pointer.
    Ptr = 2,
    /// An array.
    Array = 3,
    /// A struct.
    Struct = 4,
    /// A union.
    Union = 5,
    /// An enum with 32-bit values.
    Enum = 6,
    /// A forward declaration of a struct or union (`kind_flag` set: union).
    Fwd = 7,
    /// A typedef.
    Typedef = 8,
    /// `volatile`.
    Volatile = 9,
    /// `const`.
    Const = 10,
    /// `restrict`.
    Restrict = 11,
    /// A function (name + linkage, pointing at its FUNC_PROTO).
    Func = 12,
    /// A function prototype: return type and parameters.
    FuncProto = 13,
    /// A global or static variable.
    Var = 14,
    /// A data section: variables (or extern functions) at offsets.
    Datasec = 15,
    /// A floating-point type.
    Float = 16,
    /// `__attribute__((btf_decl_tag("...")))` on a type, member, parameter, variable or function.
    DeclTag = 17,
    /// `__attribute__((btf_type_tag("...")))` in a pointer chain (`__rcu`, `__user`, `__kptr`).
    TypeTag = 18,
    /// An enum with 64-bit values.
    Enum64 = 19,
}

impl Kind {
    /// Every kind, indexed by its number.
    pub const ALL: [Kind; 20] = [
        Kind::Void,
        Kind::Int,
        Kind::Ptr,
        Kind::Array,
        Kind::Struct,
        Kind::Union,
        Kind::Enum,
        Kind::Fwd,
        Kind::Typedef,
        Kind::Volatile,
        Kind::Const,
        Kind::Restrict,
        Kind::Func,
        Kind::FuncProto,
        Kind::Var,
        Kind::Datasec,
        Kind::Float,
        Kind::DeclTag,
        Kind::TypeTag,
        Kind::Enum64,
    ];

    /// The kind with number `k`, if there is one.
    pub fn from_raw(k: u8) -> Option<Kind> {
        Self::ALL.get(k as usize).copied()
    }

    /// The kind's name as bpftool prints it (`"INT"`, `"FUNC_PROTO"`; `"UNKNOWN"` for void).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Void => "UNKNOWN",
            Kind::Int => "INT",
            Kind::Ptr => "PTR",
            Kind::Array => "ARRAY",
            Kind::Struct => "STRUCT",
            Kind::Union => "UNION",
            Kind::Enum => "ENUM",
            Kind::Fwd => "FWD",
            Kind::Typedef => "TYPEDEF",
            Kind::Volatile => "VOLATILE",
            Kind::Const => "CONST",
            Kind::Restrict => "RESTRICT",
            Kind::Func => "FUNC",
            Kind::FuncProto => "FUNC_PROTO",
            Kind::Var => "VAR",
            Kind::Datasec => "DATASEC",
            Kind::Float => "FLOAT",
            Kind::DeclTag => "DECL_TAG",
            Kind::TypeTag => "TYPE_TAG",
            Kind::Enum64 => "ENUM64",
        }
    }

    /// The kind's name as libbpf's messages print it (`btf_kind_str`): lower-case, `"void"` for
    /// void (`"int"`, `"func_proto"`).
    pub fn libbpf_str(self) -> &'static str {
        match self {
            Kind::Void => "void",
            Kind::Int => "int",
            Kind::Ptr => "ptr",
            Kind::Array => "array",
            Kind::Struct => "struct",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::Fwd => "fwd",
            Kind::Typedef => "typedef",
            Kind::Volatile => "volatile",
            Kind::Const => "const",
            Kind::Restrict => "restrict",
            Kind::Func => "func",
            Kind::FuncProto => "func_proto",
            Kind::Var => "var",
            Kind::Datasec => "datasec",
            Kind::Float => "float",
            Kind::DeclTag => "decl_tag",
            Kind::TypeTag => "type_tag",
            Kind::Enum64 => "enum64",
        }
    }

    /// `const`, `volatile`, `restrict` or a type tag (libbpf's `btf_is_mod`).
    pub fn is_mod(self) -> bool {
        matches!(self, Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag)
    }

    /// Struct or union.
    pub fn is_composite(self) -> bool {
        matches!(self, Kind::Struct | Kind::Union)
    }

    /// Enum or enum64.
    pub fn is_any_enum(self) -> bool {
        matches!(self, Kind::Enum | Kind::Enum64)
    }

    /// Kinds whose third word is a size (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT).
    pub fn has_size(self) -> bool {
        matches!(
            self,
            Kind::Int | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Datasec | Kind::Float
        )
    }

    /// Kinds whose third word is a type id (PTR, TYPEDEF, modifiers, FUNC, FUNC_PROTO's return
    /// type, VAR, DECL_TAG, TYPE_TAG).
    pub fn has_type_ref(self) -> bool {
        matches!(
            self,
            Kind::Ptr
                | Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Func
                | Kind::FuncProto
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag
        )
    }

    /// Bytes after the 12-byte common header: a fixed part and a per-vlen part.
    pub(crate) fn extra_layout(self) -> (usize, usize) {
        match self {
            Kind::Int => (4, 0),
            Kind::Array => (12, 0),
            Kind::Struct | Kind::Union => (0, 12),
            Kind::Enum => (0, 8),
            Kind::Enum64 => (0, 12),
            Kind::FuncProto => (0, 8),
            Kind::Var => (4, 0),
            Kind::Datasec => (0, 12),
            Kind::DeclTag => (4, 0),
            _ => (0, 0),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Void => "VOID",
            k => k.as_str(),
        })
    }
}

/// The encoding bits of an INT: at most one of signed, char, bool.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct IntEncoding(pub u8);

impl IntEncoding {
    /// No encoding bit: an unsigned integer.
    pub const NONE: IntEncoding = IntEncoding(0);
    /// A signed integer.
    pub const SIGNED: IntEncoding = IntEncoding(raw::INT_SIGNED);
    /// A character type.
    pub const CHAR: IntEncoding = IntEncoding(raw::INT_CHAR);
    /// `_Bool`.
    pub const BOOL: IntEncoding = IntEncoding(raw::INT_BOOL);

    /// Signed?
    pub fn is_signed(self) -> bool {
        self.0 & raw::INT_SIGNED != 0
    }
    /// A char type?
    pub fn is_char(self) -> bool {
        self.0 & raw::INT_CHAR != 0
    }
    /// `_Bool`?
    pub fn is_bool(self) -> bool {
        self.0 & raw::INT_BOOL != 0
    }
    /// As bpftool prints it: `(none)`, `SIGNED`, `CHAR`, `BOOL`, `UNKN`.
    pub fn as_str(self) -> &'static str {
        match self.0 {
            0 => "(none)",
            raw::INT_SIGNED => "SIGNED",
            raw::INT_CHAR => "CHAR",
            raw::INT_BOOL => "BOOL",
            _ => "UNKN",
        }
    }
}

macro_rules! linkage {
    ($(#[$m:meta])* $name:ident, global: $global:literal, extern: $ext:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            /// `static`.
            Static = 0,
            #[doc = $global]
            Global = 1,
            #[doc = $ext]
            Extern = 2,
        }

        impl $name {
            /// From the raw value, if valid.
            pub fn from_raw(v: u32) -> Option<Self> {
                match v {
                    0 => Some(Self::Static),
                    1 => Some(Self::Global),
                    2 => Some(Self::Extern),
                    _ => None,
                }
            }
            /// As bpftool prints it.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::Static => "static",
                    Self::Global => "global",
                    Self::Extern => "extern",
                }
            }
        }
    };
}

linkage! {
    /// Linkage of a FUNC (stored in its vlen).
    FuncLinkage,
    global: "Global, defined here.",
    extern: "`extern`: defined elsewhere (a kfunc declared in a BPF object, for instance)."
}

linkage! {
    /// Linkage of a VAR.
    VarLinkage,
    global: "Global, allocated here.",
    extern: "`extern` (a `__ksym` or `__kconfig` variable)."
}
