//! The loader: libbpf's `bpf_object__elf_collect`, `bpf_object__collect_externs`,
//! `bpf_object__init_maps`, `bpf_object__collect_relos`, CO-RE record collection and
//! `bpf_object__relocate_calls`, in that order.

use std::collections::HashMap;

use kfvm_isa::RawInsn;
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym as _};
use object::Endianness;

use crate::fields::find_special_fields;
use crate::section::{find_sec_def, flags, AttachTarget};
use crate::types::{
    AttachType, MapType, ProgType, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS,
};
use crate::{
    CommentTag, CoreRelo, DeclTag, Error, ErrorKind, Extern, ExternKind, FuncInfo, Function, InitSlot,
    KconfigType, LineInfo, MapDef, MapSource, Object, ObjectBtf, Program, Reloc, RelocKind, SubprogPlacement,
};
use kfvm_btf::{essential_name, Btf, BtfExt, FuncLinkage, Kind, VarLinkage, VarSecinfo};

/// The ELF numbers the loader compares against (raw, as `elf.h` defines them).
mod el {
    pub(super) const SHN_UNDEF: u16 = 0;
    pub(super) const SHN_LORESERVE: u16 = 0xff00;
    pub(super) const STB_LOCAL: u8 = 0;
    pub(super) const STB_GLOBAL: u8 = 1;
    pub(super) const STB_WEAK: u8 = 2;
    pub(super) const STT_NOTYPE: u8 = 0;
    pub(super) const STT_OBJECT: u8 = 1;
    pub(super) const STT_FUNC: u8 = 2;
    pub(super) const STT_SECTION: u8 = 3;
    pub(super) const STV_INTERNAL: u8 = 1;
    pub(super) const STV_HIDDEN: u8 = 2;
    pub(super) const SHT_PROGBITS: u32 = 1;
    pub(super) const SHT_SYMTAB: u32 = 2;
    pub(super) const SHT_STRTAB: u32 = 3;
    pub(super) const SHT_NOBITS: u32 = 8;
    pub(super) const SHT_REL: u32 = 9;
    pub(super) const SHT_LLVM_ADDRSIG: u32 = 0x6fff_4c03;
    pub(super) const SHF_EXECINSTR: u64 = 4;
    pub(super) const ET_REL: u16 = 1;
    pub(super) const EM_BPF: u16 = 247;
}

/// The `.BTF` and `.BTF.ext` section contents, if present.
type BtfSections<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

const INSN_SZ: usize = 8;
const BPF_JMP_CALL: u8 = 0x85;
const BPF_LD_IMM_DW: u8 = 0x18;
const BPF_PSEUDO_CALL: u8 = 1;
const BPF_PSEUDO_FUNC: u8 = 4;
const PAGE_SIZE: u64 = 4096;
/// `BPF_OBJ_NAME_LEN`.
const OBJ_NAME_LEN: usize = 16;

fn e(kind: ErrorKind, sec: Option<&str>, off: Option<u64>, msg: impl Into<String>) -> Error {
    Error::new(kind, sec, off, msg)
}

/// libbpf's classification of a section (`enum sec_type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SecType {
    Unused,
    Relo,
    Data,
    Rodata,
    Bss,
    StructOps,
}

#[derive(Debug)]
struct Sec<'a> {
    name: String,
    sh_type: u32,
    flags: u64,
    data: &'a [u8],
    size: u64,
    info: u32,
    entsize: u64,
    ty: SecType,
}

#[derive(Clone, Copy, Debug)]
struct ElfSym {
    name_off: u32,
    name: usize, // index into sym_names
    info: u8,
    other: u8,
    shndx: u16,
    value: u64,
    size: u64,
}

impl ElfSym {
    fn bind(&self) -> u8 {
        self.info >> 4
    }
    fn ty(&self) -> u8 {
        self.info & 0xf
    }
    /// `sym_is_extern`.
    fn is_extern(&self) -> bool {
        self.shndx == el::SHN_UNDEF
            && matches!(self.bind(), el::STB_GLOBAL | el::STB_WEAK)
            && self.ty() == el::STT_NOTYPE
    }
    /// `sym_is_subprog`.
    fn is_subprog(&self, text: Option<usize>) -> bool {
        if Some(self.shndx as usize) != text {
            return false;
        }
        (self.bind() == el::STB_LOCAL && self.ty() == el::STT_SECTION)
            || (matches!(self.bind(), el::STB_GLOBAL | el::STB_WEAK) && self.ty() == el::STT_FUNC)
    }
}

/// A relocation of one function, before linking (`struct reloc_desc`).
#[derive(Clone, Debug)]
struct FnReloc {
    insn: usize,
    kind: RawReloc,
}

#[derive(Clone, Debug)]
enum RawReloc {
    Ld64 { map: usize },
    Data { map: usize, sym_off: u64 },
    ExternLd64 { ext: usize },
    ExternCall { ext: usize },
    Call { sym_off: u64 },
    SubprogAddr { sym_off: u64 },
    Core(CoreRelo),
}

impl RawReloc {
    fn order(&self) -> u8 {
        // libbpf's `enum reloc_type` order, used to sort relocations on the same instruction
        match self {
            RawReloc::Ld64 { .. } => 0,
            RawReloc::Call { .. } => 1,
            RawReloc::Data { .. } => 2,
            RawReloc::ExternLd64 { .. } => 3,
            RawReloc::ExternCall { .. } => 4,
            RawReloc::SubprogAddr { .. } => 5,
            RawReloc::Core(_) => 6,
        }
    }
}

struct Func {
    f: Function,
    relos: Vec<FnReloc>,
}

struct Loader<'a> {
    secs: Vec<Sec<'a>>,
    syms: Vec<ElfSym>,
    sym_names: Vec<String>,
    symtab_idx: usize,
    text: Option<usize>,
    maps_shndx: Option<usize>,
    funcs: Vec<Func>,
    btf: Option<Btf>,
    btf_ext: Option<BtfExt>,
    externs: Vec<Extern>,
    maps: Vec<MapDef>,
    map_sec_info: Vec<Option<(u32, u32)>>, // for .maps maps: (var offset, var size)
    license: String,
    kern_version: u32,
    obj_name: String,
    warnings: Vec<String>,
}

pub(crate) fn load(bytes: &[u8], file_name: &str) -> Result<Object, Error> {
    let obj_name = {
        let base = file_name.rsplit('/').next().unwrap_or(file_name);
        let mut n: String = base.split('.').next().unwrap_or("").to_string();
        if n.len() > 63 {
            n.truncate(63);
        }
        n
    };
    let mut l = Loader {
        secs: Vec::new(),
        syms: Vec::new(),
        sym_names: Vec::new(),
        symtab_idx: 0,
        text: None,
        maps_shndx: None,
        funcs: Vec::new(),
        btf: None,
        btf_ext: None,
        externs: Vec::new(),
        maps: Vec::new(),
        map_sec_info: Vec::new(),
        license: String::new(),
        kern_version: 0,
        obj_name,
        warnings: Vec::new(),
    };
    let (btf_data, btf_ext_data) = l.elf_collect(bytes)?;
    l.init_btf(btf_data, btf_ext_data)?;
    l.collect_externs()?;
    l.fixup_btf()?;
    l.init_maps()?;
    l.collect_relos()?;
    l.collect_core_relos()?;
    let programs = l.link_programs()?;
    let decl_tags = l.decl_tags();
    let mut programs = programs;
    for p in &mut programs {
        p.comments = comment_tags(l.btf.as_ref(), &decl_tags, &p.name);
    }
    l.resolve_init_slots(&programs);
    Ok(Object {
        name: l.obj_name,
        license: l.license,
        kern_version: l.kern_version,
        programs,
        functions: l.funcs.into_iter().map(|f| f.f).collect(),
        maps: l.maps,
        externs: l.externs,
        btf: l.btf.map(ObjectBtf::new),
        btf_ext: l.btf_ext,
        decl_tags,
        warnings: l.warnings,
    })
}

fn ignore_section(sh_type: u32, size: u64, name: &str) -> bool {
    if sh_type == el::SHT_STRTAB || sh_type == el::SHT_LLVM_ADDRSIG {
        return true;
    }
    if sh_type == el::SHT_PROGBITS && size == 0 && name == ".text" {
        return true;
    }
    if name.starts_with(".debug_") {
        return true;
    }
    if let Some(rest) = name.strip_prefix(".rel") {
        if rest.starts_with(".debug_") || rest == ".BTF" || rest == ".BTF.ext" {
            return true;
        }
    }
    false
}

fn cstr_lossy(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl<'a> Loader<'a> {
    fn sec_name(&self, idx: usize) -> &str {
        self.secs.get(idx).map_or("<?>", |s| s.name.as_str())
    }

    /// `bpf_object__elf_init` + `bpf_object__elf_collect`.
    fn elf_collect(&mut self, bytes: &'a [u8]) -> Result<BtfSections<'a>, Error> {
        let bad = |msg: String| e(ErrorKind::Elf, None, None, msg);
        let header = elf::FileHeader64::<Endianness>::parse(bytes)
            .map_err(|err| bad(format!("failed to read ELF header: {err}")))?;
        let endian = header.endian().map_err(|err| bad(format!("failed to read ELF header: {err}")))?;
        if endian != Endianness::Little {
            return Err(e(ErrorKind::Unsupported, None, Some(5), "big-endian BPF objects are not supported"));
        }
        if header.e_type(endian).0 != el::ET_REL
            || (header.e_machine(endian).0 != 0 && header.e_machine(endian).0 != el::EM_BPF)
        {
            return Err(e(
                ErrorKind::Elf,
                None,
                Some(16),
                "not a valid eBPF object file (need ET_REL, EM_BPF)",
            ));
        }
        let sections = header
            .sections(endian, bytes)
            .map_err(|err| bad(format!("failed to read section headers: {err}")))?;
        for (i, sh) in sections.iter().enumerate() {
            let name = sections
                .section_name(endian, sh)
                .map_err(|err| bad(format!("section #{i}: bad name: {err}")))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let sh_type = sh.sh_type(endian).0;
            let data: &[u8] = if i == 0 || sh_type == el::SHT_NOBITS {
                &[]
            } else {
                sh.data(endian, bytes).map_err(|_| {
                    e(
                        ErrorKind::Elf,
                        Some(&name),
                        Some(sh.sh_offset(endian)),
                        "section data out of bounds of the file",
                    )
                })?
            };
            self.secs.push(Sec {
                name,
                sh_type,
                flags: sh.sh_flags(endian).0,
                data,
                size: sh.sh_size(endian),
                info: sh.sh_info(endian),
                entsize: sh.sh_entsize(endian),
                ty: SecType::Unused,
            });
        }
        // the symbol table first
        let mut symtab = None;
        for (i, s) in self.secs.iter().enumerate() {
            if s.sh_type == el::SHT_SYMTAB {
                if symtab.is_some() {
                    return Err(e(ErrorKind::Elf, Some(&s.name), None, "multiple symbol tables"));
                }
                symtab = Some(i);
            }
        }
        let Some(symtab_idx) = symtab else {
            return Err(e(ErrorKind::Elf, None, None, "couldn't find symbol table, stripped object file?"));
        };
        self.symtab_idx = symtab_idx;
        let sym_sh =
            sections.section(object::SectionIndex(symtab_idx)).map_err(|err| bad(err.to_string()))?;
        if sym_sh.sh_entsize(endian) != 24 {
            return Err(e(
                ErrorKind::Elf,
                Some(&self.secs[symtab_idx].name),
                None,
                "symbol table entry size is not 24",
            ));
        }
        let table = sections.symbols(endian, bytes, elf::SHT_SYMTAB).map_err(|err| {
            e(ErrorKind::Elf, Some(&self.secs[symtab_idx].name), None, format!("bad symbol table: {err}"))
        })?;
        for (i, s) in table.symbols().iter().enumerate() {
            let name = table.symbol_name(endian, s).map_err(|_| {
                e(
                    ErrorKind::Elf,
                    Some(&self.secs[symtab_idx].name),
                    Some(i as u64 * 24),
                    format!("symbol #{i}: bad name"),
                )
            })?;
            self.sym_names.push(String::from_utf8_lossy(name).into_owned());
            self.syms.push(ElfSym {
                name_off: s.st_name(endian),
                name: i,
                info: s.st_info().0,
                other: s.st_other().0,
                shndx: s.st_shndx(endian).0,
                value: s.st_value(endian),
                size: s.st_size(endian),
            });
        }

        let mut btf_data = None;
        let mut btf_ext_data = None;
        for idx in 1..self.secs.len() {
            let (name, sh_type, size, flags, info, entsize) = {
                let s = &self.secs[idx];
                (s.name.clone(), s.sh_type, s.size, s.flags, s.info, s.entsize)
            };
            if ignore_section(sh_type, size, &name) {
                continue;
            }
            let data = self.secs[idx].data;
            match name.as_str() {
                "license" => {
                    self.license = cstr_lossy(data);
                    continue;
                }
                "version" => {
                    if data.len() != 4 {
                        return Err(e(
                            ErrorKind::Elf,
                            Some(&name),
                            None,
                            format!("invalid kver section size {}", data.len()),
                        ));
                    }
                    self.kern_version = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                    continue;
                }
                "maps" => {
                    return Err(e(
                        ErrorKind::Unsupported,
                        Some(&name),
                        None,
                        "legacy map definitions in 'maps' section are not supported by libbpf v1.0+",
                    ))
                }
                ".maps" => {
                    self.maps_shndx = Some(idx);
                    continue;
                }
                ".BTF" | ".BTF.ext" => {
                    if sh_type != el::SHT_PROGBITS {
                        return Err(e(ErrorKind::Elf, Some(&name), None, "BTF section is not SHT_PROGBITS"));
                    }
                    if name == ".BTF" {
                        btf_data = Some(data);
                    } else {
                        btf_ext_data = Some(data);
                    }
                    continue;
                }
                _ => {}
            }
            if sh_type == el::SHT_SYMTAB {
                continue;
            }
            if sh_type == el::SHT_PROGBITS && size > 0 {
                if flags & el::SHF_EXECINSTR != 0 {
                    if name == ".text" {
                        self.text = Some(idx);
                    }
                    self.add_programs(idx)?;
                } else if name == ".data" || name.starts_with(".data.") {
                    self.secs[idx].ty = SecType::Data;
                } else if name == ".rodata" || name.starts_with(".rodata.") {
                    self.secs[idx].ty = SecType::Rodata;
                } else if matches!(
                    name.as_str(),
                    ".struct_ops" | ".struct_ops.link" | "?.struct_ops" | "?.struct_ops.link"
                ) {
                    self.secs[idx].ty = SecType::StructOps;
                    self.warnings.push(format!("sec '{name}': struct_ops maps are not read yet"));
                } else if name == ".addr_space.1" {
                    self.warnings.push(format!("sec '{name}': arena global data is not read yet"));
                } else {
                    // libbpf: "skipping unrecognized data section"
                }
            } else if sh_type == el::SHT_REL {
                let targ = info as usize;
                if entsize != 16 || targ >= self.secs.len() {
                    return Err(e(
                        ErrorKind::Elf,
                        Some(&name),
                        None,
                        "invalid relocation section (entry size or target)",
                    ));
                }
                let targ_exec = self.secs[targ].flags & el::SHF_EXECINSTR != 0;
                if !targ_exec && name != ".rel.maps" {
                    // struct_ops relocations are collected by libbpf; kfvm skips them with the maps
                    continue;
                }
                self.secs[idx].ty = SecType::Relo;
            } else if sh_type == el::SHT_NOBITS && (name == ".bss" || name.starts_with(".bss.")) {
                self.secs[idx].ty = SecType::Bss;
            }
        }
        // sort functions by section, then offset (`cmp_progs`)
        self.funcs.sort_by_key(|f| (f.f.section_index, f.f.insn_off));
        Ok((btf_data, btf_ext_data))
    }

    /// `bpf_object__add_programs`.
    fn add_programs(&mut self, sec_idx: usize) -> Result<(), Error> {
        let sec_name = self.secs[sec_idx].name.clone();
        let data = self.secs[sec_idx].data;
        for sym in &self.syms {
            if sym.shndx as usize != sec_idx || sym.ty() != el::STT_FUNC {
                continue;
            }
            let name = &self.sym_names[sym.name];
            let (off, size) = (sym.value, sym.size);
            let end = off.checked_add(size);
            if end.is_none_or(|end| end > data.len() as u64) {
                return Err(e(
                    ErrorKind::Program,
                    Some(&sec_name),
                    Some(off),
                    format!("program '{name}' crosses section boundary"),
                ));
            }
            if Some(sec_idx) != self.text && sym.bind() == el::STB_LOCAL {
                return Err(e(
                    ErrorKind::Unsupported,
                    Some(&sec_name),
                    Some(off),
                    format!("program '{name}' is static and not supported"),
                ));
            }
            if size == 0 || size % INSN_SZ as u64 != 0 || off % INSN_SZ as u64 != 0 {
                return Err(e(
                    ErrorKind::Program,
                    Some(&sec_name),
                    Some(off),
                    format!("corrupted program '{name}', offset {off}, size {size}"),
                ));
            }
            let bytes = &data[off as usize..(off + size) as usize];
            let insns =
                bytes.chunks_exact(8).map(|c| RawInsn::from_bytes(c.try_into().unwrap_or([0; 8]))).collect();
            let global = sym.bind() != el::STB_LOCAL;
            let vis = sym.other & 0x3;
            let section = sec_name.strip_prefix('?').unwrap_or(&sec_name).to_string();
            self.funcs.push(Func {
                f: Function {
                    name: name.clone(),
                    section,
                    section_index: sec_idx,
                    insn_off: off as usize / INSN_SZ,
                    insns,
                    global,
                    hidden: global && (vis == el::STV_HIDDEN || vis == el::STV_INTERNAL),
                    is_subprog: Some(sec_idx) == self.text,
                },
                relos: Vec::new(),
            });
            let _ = sym.name_off;
        }
        Ok(())
    }

    /// `bpf_object__init_btf`: BTF problems are fatal only when BTF is needed.
    fn init_btf(&mut self, btf: Option<&[u8]>, ext: Option<&[u8]>) -> Result<(), Error> {
        if let Some(raw) = btf {
            match Btf::parse(raw) {
                Ok(b) => self.btf = Some(b),
                Err(err) => {
                    let needed = self.maps_shndx.is_some() || self.syms.iter().any(ElfSym::is_extern);
                    if needed {
                        return Err(e(ErrorKind::Btf, Some(".BTF"), None, err.to_string()));
                    }
                    self.warnings.push(format!("sec '.BTF': {err}; ignored, continuing without BTF"));
                }
            }
        }
        if let (Some(raw), Some(btf)) = (ext, &self.btf) {
            match BtfExt::parse(raw, btf) {
                Ok(x) => self.btf_ext = Some(x),
                Err(err) => self.warnings.push(format!("sec '.BTF.ext': {err}; ignored")),
            }
        }
        if self.btf.is_none() && self.maps_shndx.is_some() {
            return Err(e(
                ErrorKind::Btf,
                Some(".maps"),
                None,
                "BTF is required for BTF-defined maps, but .BTF is missing",
            ));
        }
        Ok(())
    }

    /// `bpf_object__collect_externs`.
    fn collect_externs(&mut self) -> Result<(), Error> {
        let has_ext = self.syms.iter().any(|s| s.is_extern() && !self.sym_names[s.name].is_empty());
        if !has_ext {
            return Ok(());
        }
        let Some(btf) = &self.btf else {
            return Err(e(ErrorKind::Extern, None, None, "externs need BTF, but the object has no .BTF"));
        };
        let mut out = Vec::new();
        for (i, sym) in self.syms.iter().enumerate() {
            if !sym.is_extern() {
                continue;
            }
            let name = &self.sym_names[sym.name];
            if name.is_empty() {
                continue;
            }
            let ext_err = |msg: String| e(ErrorKind::Extern, Some(".symtab"), Some(i as u64 * 24), msg);
            // find_extern_btf_id: the first VAR or FUNC of that name, which must be extern
            let t = btf.find_by_name(name).into_iter().find(|t| matches!(t.kind(), Kind::Var | Kind::Func));
            let Some(t) = t else {
                return Err(ext_err(format!("failed to find BTF for extern '{name}': -2")));
            };
            let is_extern = match t.kind() {
                Kind::Var => t.var_linkage() == Some(VarLinkage::Extern),
                _ => t.func_linkage() == Some(FuncLinkage::Extern),
            };
            if !is_extern {
                return Err(ext_err(format!(
                    "failed to find BTF for extern '{name}': -22 (not extern linkage)"
                )));
            }
            let btf_id = t.id();
            let sec = btf.types().find(|s| s.datasec_vars().any(|v| v.type_id == btf_id));
            let Some(sec) = sec else {
                return Err(ext_err(format!(
                    "failed to find BTF for extern '{name}' [{btf_id}] section: -2"
                )));
            };
            let sec_btf_id = sec.id();
            let kind = match sec.name() {
                ".kconfig" => {
                    if t.kind() == Kind::Func {
                        return Err(e(
                            ErrorKind::Unsupported,
                            Some(".kconfig"),
                            None,
                            format!("extern function {name} is unsupported under .kconfig section"),
                        ));
                    }
                    let size =
                        btf.resolve_size(t.size_or_type()).ok().filter(|&s| s > 0).ok_or_else(|| {
                            ext_err(format!("failed to resolve size of extern (kcfg) '{name}'"))
                        })?;
                    let align = btf.align_of(t.size_or_type()).ok().filter(|&a| a > 0).ok_or_else(|| {
                        ext_err(format!("failed to determine alignment of extern (kcfg) '{name}'"))
                    })?;
                    let (ty, signed) = kcfg_type(btf, t.size_or_type()).ok_or_else(|| {
                        e(
                            ErrorKind::Unsupported,
                            Some(".kconfig"),
                            None,
                            format!("extern (kcfg) '{name}': type is unsupported"),
                        )
                    })?;
                    ExternKind::Kconfig { ty, size, align, signed, data_off: 0 }
                }
                ".ksyms" => {
                    let func = t.kind() == Kind::Func;
                    let type_id =
                        btf.skip_mods_and_typedefs(t.size_or_type()).map_or(t.size_or_type(), |t| t.id());
                    ExternKind::Ksym { func, type_id }
                }
                other => {
                    return Err(e(
                        ErrorKind::Unsupported,
                        None,
                        None,
                        format!("unrecognized extern section '{other}'"),
                    ))
                }
            };
            out.push(Extern {
                name: name.clone(),
                essent_name: essential_name(name).to_string(),
                weak: sym.bind() == el::STB_WEAK,
                btf_id,
                sec_btf_id,
                sym_idx: i,
                kind,
            });
        }
        // cmp_externs: kconfig before ksyms; kconfig by descending align, ascending size; then name
        out.sort_by(|a, b| {
            let rank = |x: &Extern| match x.kind {
                ExternKind::Kconfig { .. } => 0,
                ExternKind::Ksym { .. } => 1,
            };
            rank(a)
                .cmp(&rank(b))
                .then_with(|| match (&a.kind, &b.kind) {
                    (
                        ExternKind::Kconfig { align: aa, size: sa, .. },
                        ExternKind::Kconfig { align: ab, size: sb, .. },
                    ) => ab.cmp(aa).then(sa.cmp(sb)),
                    _ => core::cmp::Ordering::Equal,
                })
                .then_with(|| a.name.as_bytes().cmp(b.name.as_bytes()))
        });
        let mut off: u32 = 0;
        for ext in &mut out {
            if let ExternKind::Kconfig { align, size, data_off, .. } = &mut ext.kind {
                *data_off = off.div_ceil(*align).saturating_mul(*align);
                off = data_off.saturating_add(*size);
            }
        }
        self.externs = out;
        Ok(())
    }

    /// `bpf_object_fixup_btf`: clang leaves `DATASEC` sizes and variable offsets zero; libbpf
    /// fills them from the ELF sections and symbols, marks hidden variables static, and sorts
    /// each `DATASEC` by offset (`btf_fixup_datasec`).
    fn fixup_btf(&mut self) -> Result<(), Error> {
        let Some(btf) = &self.btf else { return Ok(()) };
        let bad = |msg: String| e(ErrorKind::Btf, Some(".BTF"), None, msg);
        let mut patch = btf.patch();
        // VARs made static so far (libbpf edits in place: a later DATASEC sees the change)
        let mut made_static = Vec::new();
        for t in btf.types().filter(|t| t.kind() == Kind::Datasec) {
            let sec_name = t.name();
            let ferr = |msg: String| bad(format!("sec '{sec_name}': {msg}"));
            let mut secinfo: Vec<VarSecinfo> = t.datasec_vars().collect();
            if sec_name != ".kconfig" && sec_name != ".ksyms" {
                let fixup_offsets = t.size_or_type() == 0;
                if fixup_offsets {
                    let size = self.secs.iter().find(|s| s.name == sec_name).map_or(0, |s| s.size);
                    if size == 0 || size > u32::MAX as u64 {
                        return Err(ferr(format!("failed to determine size from ELF: size {size}")));
                    }
                    patch.set_size(t.id(), size as u32).map_err(|err| ferr(err.to_string()))?;
                }
                for vsi in &mut secinfo {
                    let Some(var) = btf.get(vsi.type_id).filter(|v| v.kind() == Kind::Var) else {
                        return Err(ferr("unexpected non-VAR type found".to_string()));
                    };
                    if made_static.contains(&vsi.type_id)
                        || matches!(var.var_linkage(), Some(VarLinkage::Static | VarLinkage::Extern))
                    {
                        continue;
                    }
                    let var_name = var.name();
                    let sym = self.syms.iter().find(|s| {
                        s.ty() == el::STT_OBJECT
                            && matches!(s.bind(), el::STB_GLOBAL | el::STB_WEAK)
                            && self.sym_names[s.name] == var_name
                    });
                    let Some(sym) = sym else {
                        return Err(ferr(format!("failed to find ELF symbol for VAR '{var_name}'")));
                    };
                    if fixup_offsets {
                        vsi.offset = sym.value.min(u32::MAX as u64) as u32;
                    }
                    let vis = sym.other & 0x3;
                    if vis == el::STV_HIDDEN || vis == el::STV_INTERNAL {
                        patch
                            .set_var_linkage(vsi.type_id, VarLinkage::Static)
                            .map_err(|err| ferr(err.to_string()))?;
                        made_static.push(vsi.type_id);
                    }
                }
            }
            secinfo.sort_by_key(|v| v.offset);
            patch.set_datasec_vars(t.id(), &secinfo).map_err(|err| ferr(err.to_string()))?;
        }
        let fixed = patch.finish().map_err(|err| bad(err.to_string()))?;
        self.btf = Some(fixed);
        Ok(())
    }

    /// `bpf_object__init_maps`: `.maps`, then global data, then `.kconfig`.
    fn init_maps(&mut self) -> Result<(), Error> {
        self.init_btf_maps()?;
        self.init_global_data_maps();
        self.init_kconfig_map();
        Ok(())
    }

    fn init_btf_maps(&mut self) -> Result<(), Error> {
        let Some(shndx) = self.maps_shndx else { return Ok(()) };
        let btf = self.btf.as_ref().ok_or_else(|| e(ErrorKind::Btf, Some(".maps"), None, "no BTF"))?;
        let Some(sec) = btf.find_by_name_kind(".maps", Kind::Datasec) else {
            return Err(e(ErrorKind::Map, Some(".maps"), None, "DATASEC '.maps' not found"));
        };
        let data_len = self.secs[shndx].data.len().max(self.secs[shndx].size as usize);
        for (vi_idx, vi) in sec.datasec_vars().enumerate() {
            let var = btf.get(vi.type_id);
            let map_name = var.map_or("", |v| v.name()).to_string();
            let at = Some(vi.offset as u64);
            let merr = |msg: String| e(ErrorKind::Map, Some(".maps"), at, msg);
            if map_name.is_empty() {
                return Err(merr(format!("map #{vi_idx}: empty name.")));
            }
            if vi.offset as u64 + vi.size as u64 > data_len as u64 {
                return Err(merr(format!("map '{map_name}' BTF data is corrupted.")));
            }
            let var = var.ok_or_else(|| merr(format!("map '{map_name}': bad BTF")))?;
            if var.kind() != Kind::Var {
                return Err(merr(format!(
                    "map '{map_name}': unexpected var kind {}.",
                    var.kind().libbpf_str()
                )));
            }
            if var.var_linkage() != Some(VarLinkage::Global) {
                return Err(e(
                    ErrorKind::Unsupported,
                    Some(".maps"),
                    at,
                    format!(
                        "map '{map_name}': unsupported map linkage {}.",
                        var.var_linkage().map_or("unknown", VarLinkage::as_str)
                    ),
                ));
            }
            let def = btf
                .skip_mods_and_typedefs(var.size_or_type())
                .map_err(|_| merr(format!("map '{map_name}': bad BTF")))?;
            let def_id = def.id();
            if def.kind() != Kind::Struct {
                return Err(merr(format!(
                    "map '{map_name}': unexpected def kind {}.",
                    def.kind().libbpf_str()
                )));
            }
            if def.size_or_type() > vi.size {
                return Err(merr(format!("map '{map_name}': invalid def size.")));
            }
            let (mut m, inner) = parse_btf_map_def(btf, &map_name, def_id, true).map_err(merr)?;
            m.source = MapSource::Btf;
            m.section_index = shndx;
            m.section_offset = vi.offset as u64;
            m.name = map_name.clone();
            m.real_name = map_name.clone();
            m.fields = if m.btf_value_type_id != 0 {
                find_special_fields(btf, m.btf_value_type_id)
            } else {
                Ok(Vec::new())
            };
            if let Some(mut inner) = inner {
                inner.source = MapSource::Inner;
                inner.name = format!("{map_name}.inner");
                inner.real_name = inner.name.clone();
                inner.section_index = shndx;
                inner.fields = if inner.btf_value_type_id != 0 {
                    find_special_fields(btf, inner.btf_value_type_id)
                } else {
                    Ok(Vec::new())
                };
                m.inner = Some(Box::new(inner));
            }
            self.maps.push(m);
            self.map_sec_info.push(Some((vi.offset, vi.size)));
        }
        Ok(())
    }

    /// `bpf_object__init_global_data_maps`.
    fn init_global_data_maps(&mut self) {
        for idx in 1..self.secs.len() {
            let s = &self.secs[idx];
            let source = match s.ty {
                SecType::Data => MapSource::Data,
                SecType::Rodata => MapSource::Rodata,
                SecType::Bss => MapSource::Bss,
                _ => continue,
            };
            let size = if source == MapSource::Bss { s.size } else { s.data.len() as u64 };
            if size == 0 {
                continue;
            }
            let data = if source == MapSource::Bss { None } else { Some(s.data.to_vec()) };
            let name = s.name.clone();
            self.add_internal_map(source, &name, idx, size, data);
        }
    }

    fn init_kconfig_map(&mut self) {
        let last = self.externs.iter().rev().find_map(|x| match x.kind {
            ExternKind::Kconfig { data_off, size, .. } => Some(data_off as u64 + size as u64),
            _ => None,
        });
        if let Some(size) = last {
            self.add_internal_map(MapSource::Kconfig, ".kconfig", self.symtab_idx, size, None);
        }
    }

    /// `bpf_object__init_internal_map`.
    fn add_internal_map(
        &mut self,
        source: MapSource,
        real_name: &str,
        sec_idx: usize,
        size: u64,
        data: Option<Vec<u8>>,
    ) {
        let mut flags =
            if matches!(source, MapSource::Rodata | MapSource::Kconfig) { BPF_F_RDONLY_PROG } else { 0 };
        // map_fill_btf_type_info: the DATASEC named after the section
        let value_id =
            self.btf.as_ref().and_then(|b| b.find_by_name(real_name).first().map(|t| t.id())).unwrap_or(0);
        let mut fields = Ok(Vec::new());
        if let Some(btf) = &self.btf {
            if let Some(t) = btf.get(value_id).filter(|t| t.kind() == Kind::Datasec) {
                // map_is_mmapable: a non-static variable; libbpf turns .kconfig externs into
                // allocated globals before asking, so .kconfig always qualifies
                let mmapable = t.datasec_vars().any(|vs| {
                    btf.get(vs.type_id).is_some_and(|v| {
                        v.kind() == Kind::Var
                            && (v.var_linkage() != Some(VarLinkage::Static) || source == MapSource::Kconfig)
                    })
                });
                if mmapable {
                    flags |= BPF_F_MMAPABLE;
                }
                if source != MapSource::Kconfig {
                    fields = find_special_fields(btf, value_id);
                }
            }
        }
        self.maps.push(MapDef {
            name: internal_map_name(&self.obj_name, real_name),
            real_name: real_name.to_string(),
            source,
            map_type: MapType::Array.as_u32(),
            key_size: 4,
            value_size: size.min(u32::MAX as u64) as u32,
            max_entries: 1,
            map_flags: flags,
            numa_node: 0,
            map_extra: 0,
            pinning: 0,
            btf_key_type_id: 0,
            btf_value_type_id: value_id,
            section_index: sec_idx,
            section_offset: 0,
            data,
            inner: None,
            init_slots: Vec::new(),
            fields,
        });
        self.map_sec_info.push(None);
    }

    /// `bpf_object__collect_relos`.
    fn collect_relos(&mut self) -> Result<(), Error> {
        let mut pending_map_relos = Vec::new();
        for idx in 0..self.secs.len() {
            if self.secs[idx].ty != SecType::Relo {
                continue;
            }
            let targ = self.secs[idx].info as usize;
            if Some(targ) == self.maps_shndx {
                pending_map_relos.push(idx);
            } else {
                self.collect_prog_relos(idx, targ)?;
            }
        }
        for idx in pending_map_relos {
            self.collect_map_relos(idx)?;
        }
        for f in &mut self.funcs {
            f.relos.sort_by_key(|r| (r.insn, r.kind.order()));
        }
        Ok(())
    }

    fn rels(&self, idx: usize) -> Vec<(u64, u32)> {
        self.secs[idx]
            .data
            .chunks_exact(16)
            .map(|c| {
                let off = u64::from_le_bytes(c[0..8].try_into().unwrap_or([0; 8]));
                let info = u64::from_le_bytes(c[8..16].try_into().unwrap_or([0; 8]));
                (off, (info >> 32) as u32)
            })
            .collect()
    }

    /// `find_prog_by_sec_insn`.
    fn find_func(&self, sec_idx: usize, insn: usize) -> Option<usize> {
        let i = self.funcs.partition_point(|f| (f.f.section_index, f.f.insn_off) <= (sec_idx, insn));
        let i = i.checked_sub(1)?;
        let f = &self.funcs[i].f;
        (f.section_index == sec_idx && insn >= f.insn_off && insn < f.insn_off + f.insns.len()).then_some(i)
    }

    /// `bpf_object__collect_prog_relos` + `bpf_program__record_reloc`.
    fn collect_prog_relos(&mut self, rel_idx: usize, sec_idx: usize) -> Result<(), Error> {
        let rel_name = self.secs[rel_idx].name.clone();
        let scn_len = self.secs[sec_idx].data.len() as u64;
        for (i, (r_offset, sym_idx)) in self.rels(rel_idx).into_iter().enumerate() {
            let at = Some(i as u64 * 16);
            let rerr = |kind: ErrorKind, msg: String| e(kind, Some(&rel_name), at, msg);
            let sym = *self
                .syms
                .get(sym_idx as usize)
                .ok_or_else(|| rerr(ErrorKind::Elf, format!("symbol #{sym_idx} not found for relo #{i}")))?;
            if sym.shndx as usize >= self.secs.len() && sym.shndx < el::SHN_LORESERVE {
                return Err(rerr(
                    ErrorKind::Elf,
                    format!(
                        "corrupted symbol #{sym_idx} pointing to invalid section #{} for relo #{i}",
                        sym.shndx
                    ),
                ));
            }
            if r_offset % INSN_SZ as u64 != 0 || r_offset >= scn_len {
                return Err(rerr(ErrorKind::Elf, format!("invalid offset {r_offset:#x} for relo #{i}")));
            }
            let insn_idx = (r_offset / INSN_SZ as u64) as usize;
            let sym_name = if sym.ty() == el::STT_SECTION && sym.name_off == 0 {
                self.sec_name(sym.shndx as usize).to_string()
            } else {
                self.sym_names[sym.name].clone()
            };
            let Some(fi) = self.find_func(sec_idx, insn_idx) else {
                // "couldn't find program ... probably overridden weak function, skipping"
                continue;
            };
            let local = insn_idx - self.funcs[fi].f.insn_off;
            let kind = self.record_reloc(fi, local, &sym_name, sym, sym_idx as usize, &rel_name, at)?;
            self.funcs[fi].relos.push(FnReloc { insn: local, kind });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn record_reloc(
        &self,
        fi: usize,
        local: usize,
        sym_name: &str,
        sym: ElfSym,
        sym_idx: usize,
        rel_name: &str,
        at: Option<u64>,
    ) -> Result<RawReloc, Error> {
        let prog = &self.funcs[fi].f;
        let insn = prog.insns[local];
        let rerr =
            |msg: String| e(ErrorKind::Reloc, Some(rel_name), at, format!("prog '{}': {msg}", prog.name));
        let is_call = insn.code == BPF_JMP_CALL;
        let is_ld64 = insn.code == BPF_LD_IMM_DW;
        if !is_call && !is_ld64 {
            return Err(rerr(format!(
                "invalid relo against '{sym_name}' for insns[{local}].code {:#x}",
                insn.code
            )));
        }
        if is_ld64 && local + 1 >= prog.insns.len() {
            return Err(rerr(format!("ldimm64 relo against '{sym_name}' at the last instruction")));
        }
        if sym.is_extern() {
            let ext = self.externs.iter().position(|x| x.sym_idx == sym_idx).ok_or_else(|| {
                rerr(format!("extern relo failed to find extern for '{sym_name}' ({sym_idx})"))
            })?;
            return Ok(if is_call { RawReloc::ExternCall { ext } } else { RawReloc::ExternLd64 { ext } });
        }
        let shndx = sym.shndx as usize;
        if is_call {
            if insn.src() != BPF_PSEUDO_CALL {
                return Err(rerr("incorrect bpf_call opcode".into()));
            }
            if shndx == 0 || Some(shndx) != self.text {
                return Err(rerr(format!(
                    "bad call relo against '{sym_name}' in section '{}'",
                    self.sec_name(shndx)
                )));
            }
            if sym.value % INSN_SZ as u64 != 0 {
                return Err(rerr(format!("bad call relo against '{sym_name}' at offset {}", sym.value)));
            }
            return Ok(RawReloc::Call { sym_off: sym.value });
        }
        if shndx == 0 || sym.shndx >= el::SHN_LORESERVE {
            return Err(rerr(format!(
                "invalid relo against '{sym_name}' in special section {:#x}; forgot to initialize global var?..",
                sym.shndx
            )));
        }
        if sym.is_subprog(self.text) {
            if sym.value % INSN_SZ as u64 != 0 || insn.imm % INSN_SZ as i32 != 0 {
                return Err(rerr(format!(
                    "bad subprog addr relo against '{sym_name}' at offset {}+{}",
                    sym.value, insn.imm
                )));
            }
            return Ok(RawReloc::SubprogAddr { sym_off: sym.value });
        }
        let sec_ty = if shndx == self.symtab_idx { None } else { self.secs.get(shndx).map(|s| s.ty) };
        let is_data = matches!(sec_ty, Some(SecType::Data | SecType::Rodata | SecType::Bss));
        if !is_data {
            if Some(shndx) != self.maps_shndx {
                return Err(rerr(format!(
                    "bad map relo against '{sym_name}' in section '{}'",
                    self.sec_name(shndx)
                )));
            }
            let map = self
                .maps
                .iter()
                .position(|m| {
                    m.source == MapSource::Btf && m.section_index == shndx && m.section_offset == sym.value
                })
                .ok_or_else(|| {
                    rerr(format!(
                        "map relo failed to find map for section '{}', off {}",
                        self.sec_name(shndx),
                        sym.value
                    ))
                })?;
            return Ok(RawReloc::Ld64 { map });
        }
        let map = self
            .maps
            .iter()
            .position(|m| {
                matches!(m.source, MapSource::Data | MapSource::Rodata | MapSource::Bss)
                    && m.section_index == shndx
            })
            .ok_or_else(|| {
                rerr(format!("data relo failed to find map for section '{}'", self.sec_name(shndx)))
            })?;
        Ok(RawReloc::Data { map, sym_off: sym.value })
    }

    /// `bpf_object__collect_map_relos`: `.values = { ... }` of map-in-map and prog-array maps.
    /// Programs are resolved after linking ([`Loader::resolve_init_slots`]).
    fn collect_map_relos(&mut self, rel_idx: usize) -> Result<(), Error> {
        let rel_name = self.secs[rel_idx].name.clone();
        let Some(btf) = self.btf.as_ref() else {
            return Err(e(ErrorKind::Reloc, Some(&rel_name), None, "no BTF"));
        };
        for (i, (r_offset, sym_idx)) in self.rels(rel_idx).into_iter().enumerate() {
            let at = Some(i as u64 * 16);
            let rerr = |kind: ErrorKind, msg: String| {
                e(kind, Some(&rel_name), at, format!(".maps relo #{i}: {msg}"))
            };
            let sym = *self
                .syms
                .get(sym_idx as usize)
                .ok_or_else(|| rerr(ErrorKind::Elf, format!("symbol {sym_idx:#x} not found")))?;
            let name = self.sym_names[sym.name].clone();
            let j = (0..self.maps.len())
                .find(|&j| {
                    self.map_sec_info[j].is_some_and(|(off, size)| {
                        off as u64 <= r_offset && r_offset + 8 <= off as u64 + size as u64
                    })
                })
                .ok_or_else(|| {
                    rerr(ErrorKind::Map, format!("cannot find map '{name}' at rel->r_offset {r_offset}"))
                })?;
            let mt = self.maps[j].map_type;
            let is_map_in_map = MapType::from_u32(mt).is_some_and(MapType::is_map_in_map);
            let is_prog_array = mt == MapType::ProgArray.as_u32();
            let slot_target =
                if is_map_in_map {
                    if Some(sym.shndx as usize) != self.maps_shndx {
                        return Err(rerr(ErrorKind::Reloc, format!("'{name}' isn't a BTF-defined map")));
                    }
                    if mt == MapType::HashOfMaps.as_u32() && self.maps[j].key_size != 4 {
                        return Err(rerr(
                            ErrorKind::Map,
                            format!("hash-of-maps '{}' should have key size 4.", self.maps[j].name),
                        ));
                    }
                    let t = self.maps.iter().position(|m| m.name == name).ok_or_else(|| {
                        rerr(ErrorKind::Map, format!("'{name}' isn't a valid map reference"))
                    })?;
                    PendingSlot::Map(t)
                } else if is_prog_array {
                    let f = self.funcs.iter().position(|f| !f.f.is_subprog && f.f.name == name).ok_or_else(
                        || rerr(ErrorKind::Map, format!("'{name}' isn't a valid program reference")),
                    )?;
                    let fr = &self.funcs[f].f;
                    if fr.section_index != sym.shndx as usize || (fr.insn_off * 8) as u64 != sym.value {
                        return Err(rerr(ErrorKind::Reloc, format!("'{name}' isn't an entry-point program")));
                    }
                    PendingSlot::Func(f)
                } else {
                    return Err(rerr(ErrorKind::Map, "map is neither map-in-map nor prog-array".into()));
                };
            let (var_off, _) = self.map_sec_info[j].unwrap_or((0, 0));
            let last = btf
                .find_by_name_kind(".maps", Kind::Datasec)
                .and_then(|s| s.datasec_vars().find(|v| v.offset == var_off))
                .and_then(|v| btf.get(v.type_id))
                .and_then(|var| btf.skip_mods_and_typedefs(var.size_or_type()).ok())
                .and_then(|def| def.members().last());
            let Some(last) = last else {
                return Err(rerr(ErrorKind::Map, "map definition has no members".into()));
            };
            if last.name != "values" {
                return Err(rerr(ErrorKind::Map, "'values' is not the last member".into()));
            }
            let moff = (last.bit_offset / 8) as u64;
            let rel = r_offset - var_off as u64;
            if rel < moff || (rel - moff) % 8 != 0 {
                return Err(rerr(ErrorKind::Reloc, format!("bad slot offset {rel}")));
            }
            let slot = ((rel - moff) / 8) as usize;
            if slot > (1 << 20) {
                return Err(rerr(ErrorKind::Reloc, format!("slot {slot} out of range")));
            }
            let slots = &mut self.maps[j].init_slots;
            if slots.len() <= slot {
                slots.resize(slot + 1, None);
            }
            slots[slot] = Some(match slot_target {
                PendingSlot::Map(m) => InitSlot::Map(m),
                // temporarily the function index; rewritten once programs are linked
                PendingSlot::Func(f) => InitSlot::Program(f),
            });
        }
        Ok(())
    }

    fn resolve_init_slots(&mut self, programs: &[Program]) {
        for m in &mut self.maps {
            if m.map_type != MapType::ProgArray.as_u32() {
                continue;
            }
            for s in m.init_slots.iter_mut() {
                if let Some(InitSlot::Program(f)) = *s {
                    *s = programs.iter().position(|p| p.function == f).map(InitSlot::Program);
                }
            }
        }
    }

    /// CO-RE records become `RELO_CORE` relocations of the function containing them
    /// (`bpf_object__relocate_core` records them the same way before resolving).
    fn collect_core_relos(&mut self) -> Result<(), Error> {
        let (Some(ext), Some(btf)) = (&self.btf_ext, &self.btf) else { return Ok(()) };
        let mut add = Vec::new();
        for sec in &ext.core_relos {
            let Some(sec_idx) = self.secs.iter().position(|s| s.name == sec.sec_name) else {
                return Err(e(
                    ErrorKind::Btf,
                    Some(".BTF.ext"),
                    None,
                    format!("CO-RE relocations for unknown section '{}'", sec.sec_name),
                ));
            };
            for (i, r) in sec.records.iter().enumerate() {
                let at = Some(i as u64);
                let insn = r.insn_off as usize / INSN_SZ;
                let Some(fi) = self.find_func(sec_idx, insn) else {
                    // "skipping CO-RE relocation ... belonging to eliminated weak subprogram"
                    continue;
                };
                // kind, type id and access string were checked when `.BTF.ext` was read
                if r.insn_off as usize % INSN_SZ != 0 {
                    return Err(e(
                        ErrorKind::Btf,
                        Some(".BTF.ext"),
                        at,
                        format!("sec '{}': CO-RE relo #{i}: bad record", sec.sec_name),
                    ));
                }
                let local = insn - self.funcs[fi].f.insn_off;
                add.push((
                    fi,
                    FnReloc {
                        insn: local,
                        kind: RawReloc::Core(CoreRelo {
                            type_id: r.type_id,
                            access: r.access_str(btf).to_string(),
                            kind: r.kind,
                        }),
                    },
                ));
            }
        }
        for (fi, r) in add {
            self.funcs[fi].relos.push(r);
        }
        for f in &mut self.funcs {
            f.relos.sort_by_key(|r| (r.insn, r.kind.order()));
        }
        Ok(())
    }

    /// `bpf_object__relocate` (calls part): each entry program with its subprograms appended.
    fn link_programs(&mut self) -> Result<Vec<Program>, Error> {
        // mark subprogram-address loads as BPF_PSEUDO_FUNC
        for f in &mut self.funcs {
            for r in &f.relos {
                if let RawReloc::SubprogAddr { .. } = r.kind {
                    let i = &mut f.f.insns[r.insn];
                    i.regs = (i.regs & 0x0f) | (BPF_PSEUDO_FUNC << 4);
                }
            }
        }
        let mut out = Vec::new();
        for fi in 0..self.funcs.len() {
            if self.funcs[fi].f.is_subprog {
                continue;
            }
            out.push(self.link_one(fi)?);
        }
        Ok(out)
    }

    fn link_one(&self, main: usize) -> Result<Program, Error> {
        let mf = &self.funcs[main].f;
        let sec_name = mf.section.clone();
        let mut insns = mf.insns.clone();
        let mut relos: Vec<(usize, RawReloc)> =
            self.funcs[main].relos.iter().map(|r| (r.insn, r.kind.clone())).collect();
        let mut placed: HashMap<usize, usize> = HashMap::new(); // function -> sub_insn_off
        placed.insert(main, 0);
        let mut subprogs = Vec::new();
        let mut func_info = Vec::new();
        let mut line_info = Vec::new();
        let mut info_state = InfoState { func_ok: true, line_ok: true };
        self.append_ext_info(main, main, 0, &mut func_info, &mut line_info, &mut info_state)?;
        // explicit stack of (function, its offset in `insns`, next instruction to examine)
        let mut stack = vec![(main, 0usize, 0usize)];
        let text = self.text;
        let mut exception_cb = self.exception_callback(main)?;
        loop {
            if stack.is_empty() {
                // bpf_prog_assign_exc_cb: the exception callback is appended last, if no call
                // appended it already
                match exception_cb.take() {
                    Some(cb) if !placed.contains_key(&cb) => {
                        let new_off = insns.len();
                        self.append_subprog(cb, new_off, &mut insns, &mut relos);
                        placed.insert(cb, new_off);
                        subprogs.push(SubprogPlacement { function: cb, insn_off: new_off });
                        self.append_ext_info(
                            main,
                            cb,
                            new_off,
                            &mut func_info,
                            &mut line_info,
                            &mut info_state,
                        )?;
                        stack.push((cb, new_off, 0));
                    }
                    _ => break,
                }
            }
            let Some(&mut (fi, sub_off, ref mut idx)) = stack.last_mut() else { break };
            let f = &self.funcs[fi];
            if *idx >= f.f.insns.len() {
                stack.pop();
                continue;
            }
            let i = *idx;
            let insn = insns[sub_off + i];
            let is_sub_call = insn.code == BPF_JMP_CALL
                && insn.src() == BPF_PSEUDO_CALL
                && insn.dst() == 0
                && insn.off == 0;
            let is_pseudo_func = insn.code == BPF_LD_IMM_DW && insn.src() == BPF_PSEUDO_FUNC;
            if !is_sub_call && !is_pseudo_func {
                *idx += 1;
                continue;
            }
            let relo = f.relos.iter().find(|r| r.insn == i && !matches!(r.kind, RawReloc::Core(_)));
            let perr = |msg: String| {
                e(
                    ErrorKind::Reloc,
                    Some(&f.f.section),
                    Some(((f.f.insn_off + i) * INSN_SZ) as u64),
                    format!("prog '{}': {msg}", mf.name),
                )
            };
            let sub_insn_idx: i64 = match relo.map(|r| &r.kind) {
                Some(RawReloc::ExternCall { .. }) => {
                    *idx += 1;
                    continue;
                }
                Some(RawReloc::Call { sym_off }) => (*sym_off / INSN_SZ as u64) as i64 + insn.imm as i64 + 1,
                Some(RawReloc::SubprogAddr { sym_off }) => {
                    (*sym_off as i64 + insn.imm as i64) / INSN_SZ as i64
                }
                Some(_) => return Err(perr(format!("unexpected relo for insn #{i}"))),
                None if is_pseudo_func => {
                    return Err(perr(format!("missing subprog addr relo for insn #{i}")))
                }
                None => (f.f.insn_off + i) as i64 + insn.imm as i64 + 1,
            };
            let target = match (text, usize::try_from(sub_insn_idx)) {
                (Some(t), Ok(s)) => self.find_func(t, s),
                _ => None,
            };
            let Some(target) = target else {
                return Err(perr("no .text section found yet sub-program call exists".into()));
            };
            if let Some(&t_off) = placed.get(&target) {
                let at = sub_off + i;
                insns[at].imm = (t_off as i64 - at as i64 - 1) as i32;
                *idx += 1;
                continue;
            }
            // append the subprogram and process it first (`bpf_object__append_subprog_code`)
            let new_off = insns.len();
            let tf = &self.funcs[target];
            if new_off + tf.f.insns.len() > 1 << 24 {
                return Err(perr("program too large after appending subprograms".into()));
            }
            let _ = tf;
            self.append_subprog(target, new_off, &mut insns, &mut relos);
            placed.insert(target, new_off);
            subprogs.push(SubprogPlacement { function: target, insn_off: new_off });
            self.append_ext_info(main, target, new_off, &mut func_info, &mut line_info, &mut info_state)?;
            stack.push((target, new_off, 0));
        }
        let mut relocations = Vec::new();
        for (at, k) in relos {
            let kind = match k {
                RawReloc::Ld64 { map } => RelocKind::Map { map },
                RawReloc::Data { map, sym_off } => {
                    let off = (insns[at].imm as i64 + sym_off as i64) as u32;
                    RelocKind::MapValue { map, offset: off }
                }
                RawReloc::ExternLd64 { ext } => RelocKind::Extern { ext },
                RawReloc::ExternCall { ext } => RelocKind::ExternCall { ext },
                RawReloc::Call { sym_off } => RelocKind::Call { target: sym_off as usize },
                RawReloc::SubprogAddr { sym_off } => RelocKind::SubprogAddr { target: sym_off as usize },
                RawReloc::Core(c) => RelocKind::Core(c),
            };
            relocations.push(Reloc { insn: at, kind });
        }
        // calls and subprogram addresses: from the re-targeted instructions, so that calls within
        // a section (which carry no ELF relocation) are listed too
        relocations.retain(|r| !matches!(r.kind, RelocKind::Call { .. } | RelocKind::SubprogAddr { .. }));
        for (at, insn) in insns.iter().enumerate() {
            let is_call = insn.code == BPF_JMP_CALL && insn.src() == BPF_PSEUDO_CALL;
            let is_func = insn.code == BPF_LD_IMM_DW && insn.src() == BPF_PSEUDO_FUNC;
            if is_call || is_func {
                let target = (at as i64 + insn.imm as i64 + 1) as usize;
                let kind =
                    if is_call { RelocKind::Call { target } } else { RelocKind::SubprogAddr { target } };
                relocations.push(Reloc { insn: at, kind });
            }
        }
        relocations.sort_by_key(|r| (r.insn, reloc_order(&r.kind)));
        let sec_def = find_sec_def(&sec_name);
        let (prog_type, mut expected_attach_type, def_flags) = match sec_def {
            Some(d) => (d.prog_type, d.expected_attach_type, d.flags),
            None => (ProgType::Unspec, None, 0),
        };
        if def_flags & flags::USDT != 0 {
            expected_attach_type = Some(AttachType::TraceUprobeMulti);
        }
        let sleepable = def_flags & flags::SLEEPABLE != 0;
        let mut prog_flags = 0;
        if sleepable {
            prog_flags |= BPF_F_SLEEPABLE;
        }
        if prog_type == ProgType::Xdp && def_flags & flags::XDP_FRAGS != 0 {
            prog_flags |= BPF_F_XDP_HAS_FRAGS;
        }
        let attach_target = if def_flags & flags::ATTACH_BTF != 0 {
            AttachTarget::from_section(&sec_name, expected_attach_type)
        } else {
            None
        };
        let raw_sec = &self.secs[mf.section_index].name;
        Ok(Program {
            name: mf.name.clone(),
            section: sec_name,
            function: main,
            autoload: !raw_sec.starts_with('?'),
            sec_def,
            prog_type,
            expected_attach_type,
            attach_target,
            sleepable,
            prog_flags,
            insns,
            relocations,
            func_info: if info_state.func_ok { func_info } else { Vec::new() },
            line_info: if info_state.line_ok { line_info } else { Vec::new() },
            subprogs,
            comments: Vec::new(),
        })
    }

    /// `bpf_object__append_subprog_code`: the subprogram's instructions and relocations.
    fn append_subprog(
        &self,
        fi: usize,
        at: usize,
        insns: &mut Vec<RawInsn>,
        relos: &mut Vec<(usize, RawReloc)>,
    ) {
        let f = &self.funcs[fi];
        insns.extend_from_slice(&f.f.insns);
        for r in &f.relos {
            if !matches!(r.kind, RawReloc::Call { .. } | RawReloc::SubprogAddr { .. }) {
                relos.push((at + r.insn, r.kind.clone()));
            }
        }
    }

    /// `bpf_prog_assign_exc_cb`: the subprogram named by an `exception_callback:NAME` decl tag on
    /// the program's `FUNC`.
    fn exception_callback(&self, main: usize) -> Result<Option<usize>, Error> {
        let Some(btf) = &self.btf else { return Ok(None) };
        let prog = &self.funcs[main].f;
        let mut found = None;
        for t in btf.types() {
            if t.decl_tag_component_raw() != Some(-1) {
                continue;
            }
            let Some(name) = t.name().strip_prefix("exception_callback:") else {
                continue;
            };
            let err = |msg: String| {
                e(ErrorKind::Program, Some(&prog.section), None, format!("prog '{}': {msg}", prog.name))
            };
            let target = btf.get(t.size_or_type()).filter(|f| f.func_linkage() == Some(FuncLinkage::Global));
            let Some(target) = target else {
                return Err(
                    err("exception_callback:<value> decl tag not applied to the main program".into()),
                );
            };
            if target.name() != prog.name {
                continue;
            }
            if found.is_some() {
                // several callbacks for one program: the verifier refuses it; libbpf appends none
                return Ok(None);
            }
            if name.is_empty() {
                return Err(err("exception_callback:<value> decl tag contains empty value".into()));
            }
            let cb = self.funcs.iter().position(|f| f.f.is_subprog && f.f.name == name);
            let Some(cb) = cb else {
                return Err(err(format!("cannot find exception callback '{name}'")));
            };
            if !self.funcs[cb].f.global || self.funcs[cb].f.hidden {
                return Err(err(format!("exception callback {name} must be a global non-hidden function")));
            }
            found = Some(cb);
        }
        Ok(found)
    }

    /// `reloc_prog_func_and_line_info` / `adjust_prog_btf_ext_info` for one (sub)program placed
    /// at `sub_off` of main program `main`.
    fn append_ext_info(
        &self,
        main: usize,
        fi: usize,
        sub_off: usize,
        func_info: &mut Vec<FuncInfo>,
        line_info: &mut Vec<LineInfo>,
        st: &mut InfoState,
    ) -> Result<(), Error> {
        let (Some(ext), Some(btf)) = (&self.btf_ext, &self.btf) else { return Ok(()) };
        let f = &self.funcs[fi].f;
        let sec = &self.secs[f.section_index].name;
        let (lo, hi) = (f.insn_off, f.insn_off + f.insns.len());
        let adj = |off: u32| (off as usize / INSN_SZ - lo + sub_off) as u32;
        let in_range = |off: u32| {
            let i = off as usize / INSN_SZ;
            i >= lo && i < hi
        };
        let missing = |what: &str| {
            e(
                ErrorKind::Btf,
                Some(".BTF.ext"),
                None,
                format!("prog '{}': missing .BTF.ext {what} info.", self.funcs[main].f.name),
            )
        };
        if st.func_ok {
            let recs: Vec<FuncInfo> = ext
                .func_info
                .iter()
                .filter(|s| &s.sec_name == sec)
                .flat_map(|s| s.records.iter())
                .filter(|r| in_range(r.insn_off))
                .map(|r| FuncInfo { insn_off: adj(r.insn_off), type_id: r.type_id })
                .collect();
            if recs.is_empty() && !ext.func_info.is_empty() {
                if main == fi || func_info.is_empty() {
                    st.func_ok = false;
                } else {
                    return Err(missing("function"));
                }
            }
            func_info.extend(recs);
        }
        if st.line_ok {
            let recs: Vec<LineInfo> = ext
                .line_info
                .iter()
                .filter(|s| &s.sec_name == sec)
                .flat_map(|s| s.records.iter())
                .filter(|r| in_range(r.insn_off))
                .map(|r| LineInfo {
                    insn_off: adj(r.insn_off),
                    file_name_off: r.file_name_off,
                    line_off: r.line_off,
                    line_col: r.line_col,
                    file: btf.str_at(r.file_name_off).unwrap_or("").to_string(),
                    source: btf.str_at(r.line_off).unwrap_or("").to_string(),
                })
                .collect();
            if recs.is_empty() && !ext.line_info.is_empty() {
                if main == fi || line_info.is_empty() {
                    st.line_ok = false;
                } else {
                    return Err(missing("line"));
                }
            }
            line_info.extend(recs);
        }
        Ok(())
    }

    fn decl_tags(&self) -> Vec<DeclTag> {
        let Some(btf) = &self.btf else { return Vec::new() };
        btf.types()
            .filter_map(|t| {
                Some(DeclTag {
                    btf_id: t.id(),
                    target: t.size_or_type(),
                    component_idx: t.decl_tag_component_raw()?,
                    value: t.name().to_string(),
                })
            })
            .collect()
    }
}

struct InfoState {
    func_ok: bool,
    line_ok: bool,
}

enum PendingSlot {
    Map(usize),
    Func(usize),
}

fn reloc_order(k: &RelocKind) -> u8 {
    match k {
        RelocKind::Map { .. } => 0,
        RelocKind::Call { .. } => 1,
        RelocKind::MapValue { .. } => 2,
        RelocKind::Extern { .. } => 3,
        RelocKind::ExternCall { .. } => 4,
        RelocKind::SubprogAddr { .. } => 5,
        RelocKind::Core(_) => 6,
    }
}

fn comment_tags(btf: Option<&Btf>, tags: &[DeclTag], prog: &str) -> Vec<CommentTag> {
    let Some(btf) = btf else { return Vec::new() };
    tags.iter()
        .filter(|t| t.component_idx == -1)
        .filter(|t| btf.get(t.target).is_some_and(|f| f.kind() == Kind::Func && f.name() == prog))
        .filter_map(|t| {
            let rest = t.value.strip_prefix("comment:")?;
            let (key, value) = rest.split_once('=').unwrap_or((rest, ""));
            let (counter, value) = match value.split_once('=') {
                Some((n, v)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => (n.parse().ok(), v),
                _ => (None, value),
            };
            Some(CommentTag { btf_id: t.btf_id, key: key.to_string(), counter, value: value.to_string() })
        })
        .collect()
}

/// `parse_btf_map_def`: a map definition struct; returns the map and its inner-map template.
fn parse_btf_map_def(
    btf: &Btf,
    map_name: &str,
    def_id: u32,
    outer: bool,
) -> Result<(MapDef, Option<MapDef>), String> {
    let def = btf.get(def_id).ok_or_else(|| format!("map '{map_name}': bad definition"))?;
    let mut m = MapDef {
        name: String::new(),
        real_name: String::new(),
        source: MapSource::Btf,
        map_type: 0,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
        numa_node: 0,
        map_extra: 0,
        pinning: 0,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        section_index: 0,
        section_offset: 0,
        data: None,
        inner: None,
        init_slots: Vec::new(),
        fields: Ok(Vec::new()),
    };
    let mut inner = None;
    let vlen = def.vlen() as usize;
    for mem in def.members() {
        let (i, name) = (mem.index as usize, mem.name);
        // `skip_mods_and_typedefs` of a member, as libbpf's messages name it
        let skip = |what: &str| {
            btf.skip_mods_and_typedefs(mem.type_id)
                .map_err(|_| format!("map '{map_name}': attr '{what}': type [{}] not found.", mem.type_id))
        };
        let int = |what: &str| -> Result<u32, String> {
            let t = skip(what)?;
            if t.kind() != Kind::Ptr {
                return Err(format!(
                    "map '{map_name}': attr '{what}': expected PTR, got {}.",
                    t.kind().libbpf_str()
                ));
            }
            let arr = btf.get(t.size_or_type()).ok_or_else(|| {
                format!("map '{map_name}': attr '{what}': type [{}] not found.", t.size_or_type())
            })?;
            let Some(a) = arr.array() else {
                return Err(format!(
                    "map '{map_name}': attr '{what}': expected ARRAY, got {}.",
                    arr.kind().libbpf_str()
                ));
            };
            Ok(a.nelems)
        };
        let typed = |what: &str| -> Result<(u32, u32), String> {
            let t = btf
                .get(mem.type_id)
                .ok_or_else(|| format!("map '{map_name}': {what} type [{}] not found.", mem.type_id))?;
            if t.kind() != Kind::Ptr {
                return Err(format!("map '{map_name}': {what} spec is not PTR: {}.", t.kind().libbpf_str()));
            }
            let sz = btf.resolve_size(t.size_or_type()).map_err(|err| {
                format!(
                    "map '{map_name}': can't determine {what} size for type [{}]: {err}.",
                    t.size_or_type()
                )
            })?;
            Ok((t.size_or_type(), sz))
        };
        match name {
            "type" => m.map_type = int(name)?,
            "max_entries" => m.max_entries = int(name)?,
            "map_flags" => m.map_flags = int(name)?,
            "numa_node" => m.numa_node = int(name)?,
            "key_size" => {
                let sz = int(name)?;
                if m.key_size != 0 && m.key_size != sz {
                    return Err(format!("map '{map_name}': conflicting key size {} != {sz}.", m.key_size));
                }
                m.key_size = sz;
            }
            "key" => {
                let (id, sz) = typed("key")?;
                if m.key_size != 0 && m.key_size != sz {
                    return Err(format!("map '{map_name}': conflicting key size {} != {sz}.", m.key_size));
                }
                m.key_size = sz;
                m.btf_key_type_id = id;
            }
            "value_size" => {
                let sz = int(name)?;
                if m.value_size != 0 && m.value_size != sz {
                    return Err(format!(
                        "map '{map_name}': conflicting value size {} != {sz}.",
                        m.value_size
                    ));
                }
                m.value_size = sz;
            }
            "value" => {
                let (id, sz) = typed("value")?;
                if m.value_size != 0 && m.value_size != sz {
                    return Err(format!(
                        "map '{map_name}': conflicting value size {} != {sz}.",
                        m.value_size
                    ));
                }
                m.value_size = sz;
                m.btf_value_type_id = id;
            }
            "values" => {
                let mt = MapType::from_u32(m.map_type);
                let is_mim = mt.is_some_and(MapType::is_map_in_map);
                let is_pa = mt == Some(MapType::ProgArray);
                let desc = if is_mim { "map-in-map inner" } else { "prog-array value" };
                if !outer {
                    return Err(format!("map '{map_name}': multi-level inner maps not supported."));
                }
                if i != vlen - 1 {
                    return Err(format!("map '{map_name}': '{name}' member should be last."));
                }
                if !is_mim && !is_pa {
                    return Err(format!("map '{map_name}': should be map-in-map or prog-array."));
                }
                if m.value_size != 0 && m.value_size != 4 {
                    return Err(format!("map '{map_name}': conflicting value size {} != 4.", m.value_size));
                }
                m.value_size = 4;
                let t = btf
                    .get(mem.type_id)
                    .ok_or_else(|| format!("map '{map_name}': {desc} type [{}] not found.", mem.type_id))?;
                let Some(a) = t.array().filter(|a| a.nelems == 0) else {
                    return Err(format!("map '{map_name}': {desc} spec is not a zero-sized array."));
                };
                let bad = |_| format!("map '{map_name}': bad {desc}");
                let pt = btf.skip_mods_and_typedefs(a.elem_type).map_err(bad)?;
                if pt.kind() != Kind::Ptr {
                    return Err(format!(
                        "map '{map_name}': {desc} def is of unexpected kind {}.",
                        pt.kind().libbpf_str()
                    ));
                }
                let tt = btf.skip_mods_and_typedefs(pt.size_or_type()).map_err(bad)?;
                if is_pa {
                    if tt.kind() != Kind::FuncProto {
                        return Err(format!(
                            "map '{map_name}': prog-array value def is of unexpected kind {}.",
                            tt.kind().libbpf_str()
                        ));
                    }
                    continue;
                }
                if tt.kind() != Kind::Struct {
                    return Err(format!(
                        "map '{map_name}': map-in-map inner def is of unexpected kind {}.",
                        tt.kind().libbpf_str()
                    ));
                }
                let (im, _) = parse_btf_map_def(btf, &format!("{map_name}.inner"), tt.id(), false)?;
                inner = Some(im);
            }
            "pinning" => {
                if !outer {
                    return Err(format!("map '{map_name}': inner def can't be pinned."));
                }
                let v = int(name)?;
                if v > 1 {
                    return Err(format!("map '{map_name}': invalid pinning value {v}."));
                }
                m.pinning = v;
            }
            "map_extra" => {
                let tt = skip(name)?;
                let mut values = tt.enum_values();
                m.map_extra = match (tt.kind(), values.len()) {
                    (Kind::Ptr, _) => int(name)? as u64,
                    // an ENUM's value zero-extended, an ENUM64's whole
                    (Kind::Enum | Kind::Enum64, 1) => values.next().map_or(0, |v| v.raw),
                    (Kind::Enum | Kind::Enum64, _) => {
                        return Err(format!("map '{map_name}': attr 'map_extra': invalid __ulong"))
                    }
                    (k, _) => {
                        return Err(format!(
                            "map '{map_name}': attr 'map_extra': expected ENUM or ENUM64, got {}.",
                            k.libbpf_str()
                        ))
                    }
                };
            }
            other => return Err(format!("map '{map_name}': unknown field '{other}'.")),
        }
    }
    if m.map_type == 0 {
        return Err(format!("map '{map_name}': map type isn't specified."));
    }
    // fill_map_from_def: ring buffers get a power-of-2 number of pages
    for mm in core::iter::once(&mut m).chain(inner.as_mut()) {
        if mm.map_type == MapType::Ringbuf.as_u32() || mm.map_type == MapType::UserRingbuf.as_u32() {
            mm.max_entries = adjust_ringbuf_sz(mm.max_entries);
        }
    }
    Ok((m, inner))
}

/// `adjust_ringbuf_sz` with 4 KiB pages.
fn adjust_ringbuf_sz(sz: u32) -> u32 {
    let sz = sz as u64;
    if sz == 0 {
        return 0;
    }
    if sz % PAGE_SIZE == 0 && (sz / PAGE_SIZE).is_power_of_two() {
        return sz as u32;
    }
    let mut mul = 1u64;
    while mul * PAGE_SIZE <= u32::MAX as u64 {
        if mul * PAGE_SIZE > sz {
            return (mul * PAGE_SIZE) as u32;
        }
        mul <<= 1;
    }
    sz as u32
}

/// `internal_map_name`.
fn internal_map_name(obj_name: &str, real_name: &str) -> String {
    let mut sfx_len = real_name.len().max(7);
    if sfx_len >= OBJ_NAME_LEN {
        sfx_len = OBJ_NAME_LEN - 1;
    }
    let pfx_len = if real_name.get(1..).is_some_and(|r| r.contains('.')) {
        0
    } else {
        (OBJ_NAME_LEN - sfx_len - 1).min(obj_name.len())
    };
    let name: String =
        obj_name.bytes().take(pfx_len).chain(real_name.bytes().take(sfx_len)).map(char::from).collect();
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// `find_kcfg_type`.
fn kcfg_type(btf: &Btf, id: u32) -> Option<(KconfigType, bool)> {
    let t = btf.skip_mods_and_typedefs(id).ok()?;
    let size = t.size_or_type();
    match t.kind() {
        Kind::Int => {
            let enc = t.int()?.encoding;
            if enc.is_bool() {
                return (size == 1).then_some((KconfigType::Bool, false));
            }
            let signed = enc.is_signed();
            if size == 1 {
                return Some((KconfigType::Char, signed));
            }
            if !(1..=8).contains(&size) || !size.is_power_of_two() {
                return None;
            }
            Some((KconfigType::Int, signed))
        }
        Kind::Enum => (size == 4 && t.name() == "libbpf_tristate").then_some((KconfigType::Tristate, false)),
        Kind::Enum64 => (t.name() == "libbpf_tristate").then_some((KconfigType::Tristate, false)),
        Kind::Array => {
            let a = t.array()?;
            if a.nelems == 0 {
                return None;
            }
            matches!(kcfg_type(btf, a.elem_type), Some((KconfigType::Char, _)))
                .then_some((KconfigType::CharArray, false))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_map_names() {
        // the examples of libbpf's comment in internal_map_name
        assert_eq!(internal_map_name("my_object_name", ".rodata"), "my_objec.rodata");
        assert_eq!(internal_map_name("my_object_name", ".bss"), "my_objec.bss");
        assert_eq!(internal_map_name("my_object_name", ".kconfig"), "my_obje.kconfig");
        assert_eq!(internal_map_name("my_object_name", ".rodata.abracadabra"), ".rodata.abracad");
        assert_eq!(internal_map_name("obj", ".data.custom"), ".data.custom");
    }

    #[test]
    fn ringbuf_sizes() {
        assert_eq!(adjust_ringbuf_sz(0), 0);
        assert_eq!(adjust_ringbuf_sz(4096 * 4), 4096 * 4);
        assert_eq!(adjust_ringbuf_sz(5000), 8192);
        assert_eq!(adjust_ringbuf_sz(4096 * 3), 4096 * 4);
    }
}
