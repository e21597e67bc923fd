//! ELF objects the way libbpf reads them.
//!
//! [`Object::parse`] reads a BPF ELF object as `bpf_object__open()` followed by the object-only
//! half of `bpf_object__load()` would (libbpf v1.6, the libbpf of Linux 6.18):
//!
//! - every function of an executable section; the ones outside `.text` are entry-point
//!   [`Program`]s, whose section name gives the program type, expected attach type, attach target
//!   and sleepable flag through libbpf's section table ([`section::SECTION_DEFS`]);
//! - subprograms (static and global, from `.text`) appended to each program that calls them, in
//!   libbpf's order (`bpf_object__reloc_code`), with calls re-targeted and `func_info`/`line_info`
//!   (from `.BTF.ext`) carried along;
//! - maps: BTF-defined `.maps` (with inner maps and initial slots), global data (`.data`,
//!   `.rodata`, `.bss`, `.data.*`, `.rodata.*`) and `.kconfig`, in libbpf's order and with
//!   libbpf's names; the special fields of each value type ([`fields`]);
//! - externs: `.kconfig` variables and `.ksyms` functions and variables, weak or not, sorted as
//!   libbpf sorts them and left unresolved;
//! - the relocations binding instructions to all of these ([`RelocKind`]), plus the CO-RE
//!   relocation records, kept on their (linked) instruction offsets for a later resolution step;
//! - licence, kernel version, and the `btf_decl_tag("comment:...")` annotations of kernel-style
//!   tests ([`CommentTag`]).
//!
//! What this crate does not do: resolve externs or CO-RE relocations against a kernel (that is
//! `kfvm-link`), or patch map file descriptors into instructions (`bpf_object__relocate_data`). [`Program::insns`] are
//! what libbpf holds right before that step: calls and subprogram addresses relocated, every
//! other relocated instruction as clang emitted it; [`Program::insns_with_map_indices`] gives the
//! fd-free form libbpf's loader generator uses.
//!
//! Malformed input is refused with an [`Error`] naming the section and offset, never a panic.

#![deny(missing_docs)]

mod btf;
pub mod fields;
mod load;
pub mod objdump;
pub mod section;
pub mod types;

use kfvm_isa::RawInsn;

pub use btf::ObjectBtf;
pub use fields::{FieldError, FieldKind, KptrKind, SpecialField};
/// `.BTF.ext` (func_info, line_info, CO-RE records) and `enum bpf_core_relo_kind`: `kfvm-btf`'s,
/// shared with the linker.
pub use kfvm_btf::{BtfExt, CoreReloKind};
pub use section::{AttachTarget, SecDef};
pub use types::{AttachType, MapType, ProgType};

/// What kind of input was wrong.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ErrorKind {
    /// Not an ELF file, or a malformed one (`LIBBPF_ERRNO__FORMAT`).
    Elf,
    /// The `.BTF` or `.BTF.ext` section.
    Btf,
    /// A program (function symbol, instruction data).
    Program,
    /// A map definition.
    Map,
    /// An extern.
    Extern,
    /// A relocation (`LIBBPF_ERRNO__RELOC`).
    Reloc,
    /// Something libbpf refuses as unsupported (`-ENOTSUP`).
    Unsupported,
}

/// Why an object could not be read: what, and where (ELF section and byte offset in it).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct Error {
    /// The class of problem.
    pub kind: ErrorKind,
    /// The ELF section concerned, if any.
    pub section: Option<String>,
    /// Byte offset within that section (or within the file when `section` is `None`).
    pub offset: Option<u64>,
    /// What is wrong, in libbpf's words where libbpf has words for it.
    pub message: String,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        section: Option<&str>,
        offset: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        Error { kind, section: section.map(str::to_string), offset, message: message.into() }
    }

    fn render(&self) -> String {
        let mut s = String::new();
        if let Some(sec) = &self.section {
            s.push_str(&format!("sec '{sec}': "));
        }
        if let Some(off) = self.offset {
            s.push_str(&format!("offset {off:#x}: "));
        }
        s.push_str(&self.message);
        s
    }
}

/// A function symbol of an executable section: an entry point, or a subprogram in `.text`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Function {
    /// Symbol name.
    pub name: String,
    /// ELF section name (with a leading `?` removed for programs).
    pub section: String,
    /// ELF section index.
    pub section_index: usize,
    /// First instruction, counted in 8-byte slots from the start of the section.
    pub insn_off: usize,
    /// The function's instructions as in the section.
    pub insns: Vec<RawInsn>,
    /// `STB_GLOBAL` or `STB_WEAK`.
    pub global: bool,
    /// Global with `STV_HIDDEN`/`STV_INTERNAL` visibility: libbpf marks its BTF `FUNC` static.
    pub hidden: bool,
    /// In `.text`: a subprogram rather than an entry point.
    pub is_subprog: bool,
}

/// One CO-RE relocation record (`struct bpf_core_relo`), unresolved.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CoreRelo {
    /// Root type id in the object's BTF.
    pub type_id: u32,
    /// The access string (`"0:1:2"`).
    pub access: String,
    /// What to compute.
    pub kind: CoreReloKind,
}

/// What a relocated instruction refers to (libbpf's `enum reloc_type`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RelocKind {
    /// `RELO_LD64`: `lddw` of map [`Object::maps`]`[map]` (becomes `BPF_PSEUDO_MAP_FD`).
    Map {
        /// Map index.
        map: usize,
    },
    /// `RELO_DATA`: `lddw` of the address `offset` bytes into the value of global-data map `map`
    /// (becomes `BPF_PSEUDO_MAP_VALUE`; `offset` is the symbol offset plus the instruction's `imm`).
    MapValue {
        /// Map index.
        map: usize,
        /// Byte offset in the map value.
        offset: u32,
    },
    /// `RELO_EXTERN_LD64`: `lddw` of extern [`Object::externs`]`[ext]` (a `.ksyms` variable, or a
    /// `.kconfig` variable, which libbpf turns into a `.kconfig` map value load).
    Extern {
        /// Extern index.
        ext: usize,
    },
    /// `RELO_EXTERN_CALL`: a call of kfunc extern `ext` (becomes `BPF_PSEUDO_KFUNC_CALL`).
    ExternCall {
        /// Extern index.
        ext: usize,
    },
    /// `RELO_CALL`: a bpf-to-bpf call, already re-targeted; `target` is the callee's first
    /// instruction in [`Program::insns`].
    Call {
        /// Callee's first instruction.
        target: usize,
    },
    /// `RELO_SUBPROG_ADDR`: `lddw` of a subprogram's address (`BPF_PSEUDO_FUNC`), already
    /// re-targeted.
    SubprogAddr {
        /// The subprogram's first instruction.
        target: usize,
    },
    /// `RELO_CORE`: a CO-RE relocation to resolve against the target kernel's BTF.
    Core(CoreRelo),
}

/// A relocation on instruction `insn` of a linked program.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reloc {
    /// Instruction index (8-byte slots) in [`Program::insns`].
    pub insn: usize,
    /// What it refers to.
    pub kind: RelocKind,
}

/// A `struct bpf_func_info` record of a linked program (`insn_off` in instructions).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FuncInfo {
    /// First instruction of the function in [`Program::insns`].
    pub insn_off: u32,
    /// The `FUNC` type id in the object's BTF.
    pub type_id: u32,
}

/// A `struct bpf_line_info` record of a linked program, with its strings.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LineInfo {
    /// Instruction in [`Program::insns`].
    pub insn_off: u32,
    /// String offset of the file name in the object's BTF.
    pub file_name_off: u32,
    /// String offset of the source line.
    pub line_off: u32,
    /// `line << 10 | col`, as in the record.
    pub line_col: u32,
    /// The file name.
    pub file: String,
    /// The source line.
    pub source: String,
}

impl LineInfo {
    /// `BPF_LINE_INFO_LINE_NUM`.
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    /// `BPF_LINE_INFO_LINE_COL`.
    pub fn col(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// Where a subprogram landed in a linked program.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SubprogPlacement {
    /// Index in [`Object::functions`].
    pub function: usize,
    /// Its first instruction in [`Program::insns`].
    pub insn_off: usize,
}

/// A kernel-selftest annotation: `btf_decl_tag("comment:KEY[=VALUE]")` on a program's `FUNC`
/// (what `bpf_misc.h`'s `__msg`, `__failure`, `__success`, `__log_level`, ... expand to).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CommentTag {
    /// The `DECL_TAG` type id (BTF order; the kernel's test loader sorts by `counter` instead).
    pub btf_id: u32,
    /// `test_expect_msg`, `test_expect_failure`, ...
    pub key: String,
    /// The `__COUNTER__` value of tags that carry one (`test_expect_msg=3=...`).
    pub counter: Option<u32>,
    /// The text after `=` (and after the counter); empty for bare tags.
    pub value: String,
}

/// An entry-point program, linked with its subprograms.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Program {
    /// Function name.
    pub name: String,
    /// Section name, without the `?` prefix.
    pub section: String,
    /// Index of the entry function in [`Object::functions`].
    pub function: usize,
    /// `SEC("?...")` marks a program not loaded by default.
    pub autoload: bool,
    /// The section-table row that matched, if any (an unknown section leaves the type `Unspec`).
    pub sec_def: Option<&'static SecDef>,
    /// Program type.
    pub prog_type: ProgType,
    /// Expected attach type (`None` is sent as 0).
    pub expected_attach_type: Option<AttachType>,
    /// For BTF-attached programs, the kernel function or type to attach to.
    pub attach_target: Option<AttachTarget>,
    /// `BPF_F_SLEEPABLE`.
    pub sleepable: bool,
    /// `prog_flags` libbpf passes (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`).
    pub prog_flags: u32,
    /// Instructions: the program's own, then each called subprogram appended.
    pub insns: Vec<RawInsn>,
    /// Relocations, sorted by instruction.
    pub relocations: Vec<Reloc>,
    /// `func_info`, one record per function (the program first).
    pub func_info: Vec<FuncInfo>,
    /// `line_info`.
    pub line_info: Vec<LineInfo>,
    /// The appended subprograms, in order.
    pub subprogs: Vec<SubprogPlacement>,
    /// `comment:` annotations on this program's `FUNC`.
    pub comments: Vec<CommentTag>,
}

impl Program {
    /// The expected attach type as the kernel receives it.
    pub fn expected_attach_type_raw(&self) -> u32 {
        self.expected_attach_type.map_or(0, AttachType::as_u32)
    }

    /// The relocation on instruction `insn`, if any.
    pub fn reloc_at(&self, insn: usize) -> Option<&Reloc> {
        self.relocations.iter().find(|r| r.insn == insn)
    }

    /// [`Program::insns`] with map references rewritten as libbpf's loader generator writes them:
    /// `BPF_PSEUDO_MAP_IDX` with the map index for [`RelocKind::Map`], and
    /// `BPF_PSEUDO_MAP_IDX_VALUE` with the map index and value offset for
    /// [`RelocKind::MapValue`] (`bpf_object__relocate_data` with `gen_loader`).
    pub fn insns_with_map_indices(&self) -> Vec<RawInsn> {
        let mut insns = self.insns.clone();
        for r in &self.relocations {
            let i = r.insn;
            if i + 1 >= insns.len() {
                continue;
            }
            match r.kind {
                RelocKind::Map { map } => {
                    insns[i].regs = (insns[i].regs & 0x0f) | (5 << 4);
                    insns[i].imm = map as i32;
                }
                RelocKind::MapValue { map, offset } => {
                    insns[i].regs = (insns[i].regs & 0x0f) | (6 << 4);
                    insns[i].imm = map as i32;
                    insns[i + 1].imm = offset as i32;
                }
                _ => {}
            }
        }
        insns
    }
}

/// Which libbpf map family a map belongs to (`enum libbpf_map_type`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MapSource {
    /// A BTF-defined map from `.maps`.
    Btf,
    /// `.data` or `.data.*`.
    Data,
    /// `.rodata` or `.rodata.*`.
    Rodata,
    /// `.bss` or `.bss.*`.
    Bss,
    /// `.kconfig` (libbpf-created, sized by the `.kconfig` externs).
    Kconfig,
    /// The inner-map template of a map-in-map.
    Inner,
}

/// What an initial slot of a map-in-map or prog array refers to (`map->init_slots`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InitSlot {
    /// Map [`Object::maps`]`[i]`.
    Map(usize),
    /// Program [`Object::programs`]`[i]`.
    Program(usize),
}

/// A map definition.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MapDef {
    /// libbpf's map name (for global data: object-name prefix and section name, 15 chars max).
    pub name: String,
    /// The BTF variable name or ELF section name.
    pub real_name: String,
    /// Where it comes from.
    pub source: MapSource,
    /// `map_type`.
    pub map_type: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries` (ring buffers rounded up to a power-of-2 number of 4 KiB pages, as libbpf does).
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `numa_node`.
    pub numa_node: u32,
    /// `map_extra`.
    pub map_extra: u64,
    /// `pinning` (`LIBBPF_PIN_BY_NAME` = 1).
    pub pinning: u32,
    /// BTF type id of the key (0: none).
    pub btf_key_type_id: u32,
    /// BTF type id of the value (0: none; a `DATASEC` for global data).
    pub btf_value_type_id: u32,
    /// ELF section index and offset of the definition.
    pub section_index: usize,
    /// Offset within that section.
    pub section_offset: u64,
    /// Initial contents of `.data`/`.rodata` maps (`None` for zero-filled maps).
    pub data: Option<Vec<u8>>,
    /// The inner map template of a map-in-map.
    pub inner: Option<Box<MapDef>>,
    /// Initial slots (`.values = { ... }`), by index.
    pub init_slots: Vec<Option<InitSlot>>,
    /// Special fields of the value type, or why the kernel would refuse them.
    pub fields: Result<Vec<SpecialField>, FieldError>,
}

impl MapDef {
    /// The map type as an enum, if the kernel knows it.
    pub fn map_type_enum(&self) -> Option<MapType> {
        MapType::from_u32(self.map_type)
    }
}

/// `enum kcfg_type`: how libbpf fills a `.kconfig` extern.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum KconfigType {
    /// `bool`.
    Bool,
    /// `char`.
    Char,
    /// `enum libbpf_tristate`.
    Tristate,
    /// An integer of 1, 2, 4 or 8 bytes.
    Int,
    /// `char[N]`.
    CharArray,
}

/// What an extern is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExternKind {
    /// A `.kconfig` variable, placed in the `.kconfig` map.
    Kconfig {
        /// How libbpf parses its value.
        ty: KconfigType,
        /// Size in bytes.
        size: u32,
        /// Alignment.
        align: u32,
        /// Whether the integer type is signed.
        signed: bool,
        /// Offset in the `.kconfig` map value.
        data_off: u32,
    },
    /// A `.ksyms` kernel symbol.
    Ksym {
        /// A function (kfunc) rather than a variable.
        func: bool,
        /// For a function, its `FUNC_PROTO`; for a variable, its type with modifiers and typedefs
        /// skipped; 0 for a typeless `extern const void x __ksym`.
        type_id: u32,
    },
}

/// An extern symbol, left unresolved for the link step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Extern {
    /// Name.
    pub name: String,
    /// The name without a `___flavor` suffix (`bpf_core_essential_name_len`).
    pub essent_name: String,
    /// `STB_WEAK`: may stay unresolved.
    pub weak: bool,
    /// The `VAR` or `FUNC` type id in the object's BTF.
    pub btf_id: u32,
    /// The `DATASEC` (`.kconfig` or `.ksyms`) holding it.
    pub sec_btf_id: u32,
    /// ELF symbol index.
    pub sym_idx: usize,
    /// What it is.
    pub kind: ExternKind,
}

/// A `btf_decl_tag` of the object's BTF.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeclTag {
    /// The `DECL_TAG` type id.
    pub btf_id: u32,
    /// The tagged type id.
    pub target: u32,
    /// The member/parameter index, -1 for the declaration itself.
    pub component_idx: i32,
    /// The tag text.
    pub value: String,
}

/// A BPF ELF object as libbpf reads it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Object {
    /// libbpf's object name: the file name up to its first `.`.
    pub name: String,
    /// The `license` section.
    pub license: String,
    /// The `version` section (0 if absent).
    pub kern_version: u32,
    /// Entry-point programs, in libbpf's order (section index, then offset).
    pub programs: Vec<Program>,
    /// Every function of every executable section, in the same order.
    pub functions: Vec<Function>,
    /// Maps: `.maps` in BTF order, then global data in section order, then `.kconfig`.
    pub maps: Vec<MapDef>,
    /// Externs, sorted as libbpf sorts them (kconfig first, by alignment, size and name; then ksyms by name).
    pub externs: Vec<Extern>,
    /// The object's BTF, with libbpf's open-time fix-ups (`bpf_object__fixup_btf`: DATASEC sizes
    /// and variable offsets from the ELF, hidden variables static, entries sorted by offset).
    pub btf: Option<ObjectBtf>,
    /// `.BTF.ext`, if libbpf could read it.
    pub btf_ext: Option<BtfExt>,
    /// Every decl tag of the BTF.
    pub decl_tags: Vec<DeclTag>,
    /// Non-fatal problems libbpf would only warn about (a `.BTF.ext` it could not read, ...).
    pub warnings: Vec<String>,
}

impl Object {
    /// Reads an object from its bytes; `name` is the file name (libbpf takes the object name from
    /// it: `dir/foo.bpf.o` is `foo`).
    pub fn parse(bytes: &[u8], name: &str) -> Result<Object, Error> {
        load::load(bytes, name)
    }

    /// Reads an object file.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Object, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(ErrorKind::Elf, None, None, format!("failed to read {}: {e}", path.display()))
        })?;
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Object::parse(&bytes, &file)
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The map named `name` (libbpf name or real name).
    pub fn map(&self, name: &str) -> Option<(usize, &MapDef)> {
        self.maps.iter().enumerate().find(|(_, m)| m.name == name || m.real_name == name)
    }

    /// The extern named `name`.
    pub fn extern_by_name(&self, name: &str) -> Option<(usize, &Extern)> {
        self.externs.iter().enumerate().find(|(_, e)| e.name == name)
    }

    /// A fresh copy of [`Object::btf`] (it is already parsed and validated: prefer it, or
    /// [`ObjectBtf::shared`]). `None` without BTF.
    pub fn parsed_btf(&self) -> Option<Result<kfvm_btf::Btf, kfvm_btf::BtfError>> {
        self.btf.as_ref().map(|b| kfvm_btf::Btf::parse(b.raw_data()))
    }
}
