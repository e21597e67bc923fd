//! [`link`] and its result: [`LinkedObject`], [`LinkedProgram`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use kfvm_btf::{Btf, CoreReloKind, Kind};
use kfvm_isa::disasm::{self, Options, Symbols};
use kfvm_isa::{CallKind, Pseudo, RawInsn};
use kfvm_kfunc::ProgInfo;
use kfvm_object::{
    AttachTarget, AttachType, CommentTag, ExternKind, FuncInfo, LineInfo, MapDef, Object, ProgType,
    RelocKind, SubprogPlacement,
};

use crate::externs::{resolve_externs, ExternValue, ResolvedExtern};
use crate::relo_core::{self, CandCache, CoreReloRec, Errno, Log, Patched};
use crate::{LinkError, LinkErrorKind, Target};

/// libbpf's `POISON_CALL_KFUNC_BASE`: a call of an unresolved weak kfunc becomes
/// `call 2002000000 + extern index`, which the verifier reports as `invalid func
/// unknown#2002000NNN` if it is reachable.
pub const POISON_CALL_KFUNC_BASE: i32 = 2_002_000_000;

const BPF_PSEUDO_BTF_ID: u8 = 3;
const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
const BPF_PSEUDO_MAP_IDX: u8 = 5;
const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;
const LDIMM64: u8 = 0x18;

/// A kfunc call of a linked program.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KfuncCall {
    /// The call instruction.
    pub insn: usize,
    /// Index in [`Object::externs`] / [`LinkedObject::externs`].
    pub ext: usize,
    /// The extern's name.
    pub name: String,
    /// The target `FUNC` id (the call's `imm`); `None` for an unresolved weak kfunc, whose call
    /// was poisoned.
    pub btf_id: Option<u32>,
    /// The call's `off`: 0 for the main target BTF.
    pub btf_off: i16,
}

/// A map reference, kept as a map index for the runtime to bind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MapRef {
    /// The `lddw` instruction.
    pub insn: usize,
    /// Index in [`LinkedObject::maps`].
    pub map: usize,
    /// For a map value address (`BPF_PSEUDO_MAP_IDX_VALUE`: global data, `.kconfig`), the
    /// offset in the value.
    pub value_offset: Option<u32>,
}

/// A `__ksym` variable load (`lddw` of a kernel variable or of a kfunc's address).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KsymLoad {
    /// The `lddw` instruction.
    pub insn: usize,
    /// Extern index.
    pub ext: usize,
    /// The extern's name.
    pub name: String,
    /// Target `VAR`/`FUNC` id (`BPF_PSEUDO_BTF_ID`), if resolved through BTF.
    pub btf_id: Option<u32>,
    /// Otherwise the address loaded (0 for an unresolved weak extern).
    pub addr: u64,
}

/// A CO-RE relocation applied to a linked program.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AppliedCore {
    /// The instruction in [`LinkedProgram::insns`].
    pub insn: usize,
    /// The function ([`Object::functions`]) the record belongs to.
    pub function: usize,
    /// libbpf's relocation number (`relo #N`: index in its `.BTF.ext` section).
    pub relo_idx: usize,
    /// The kind.
    pub kind: CoreReloKind,
    /// The access string.
    pub access: String,
    /// Local spec, as libbpf prints it (`<byte_off> [7] struct task_struct.pid (0:55 @ offset
    /// 2364)`).
    pub local: String,
    /// The target spec matched, if any.
    pub target: Option<String>,
    /// The instruction was replaced by the poison call.
    pub poisoned: bool,
    /// Value expected in the instruction.
    pub orig_val: u64,
    /// Value patched in.
    pub new_val: u64,
}

/// A program linked against a target: what the verifier and the VM take.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LinkedProgram {
    /// Function name.
    pub name: String,
    /// Section name.
    pub section: String,
    /// Loaded by default (not `SEC("?...")`).
    pub autoload: bool,
    /// Program type.
    pub prog_type: ProgType,
    /// Expected attach type.
    pub expected_attach_type: Option<AttachType>,
    /// The attach target named by the section, if any.
    pub attach_target: Option<AttachTarget>,
    /// The attach target's id in the target BTF (`attach_btf_id`), when the target has it.
    pub attach_btf_id: Option<u32>,
    /// `BPF_F_SLEEPABLE`.
    pub sleepable: bool,
    /// `prog_flags`.
    pub prog_flags: u32,
    /// The instructions: subprograms appended, CO-RE applied, kfunc calls carrying target BTF
    /// ids, typed ksym loads `BPF_PSEUDO_BTF_ID`, map references as map indices.
    pub insns: Vec<RawInsn>,
    /// `func_info` (type ids of the object's BTF, [`LinkedObject::btf`]).
    pub func_info: Vec<FuncInfo>,
    /// `line_info`.
    pub line_info: Vec<LineInfo>,
    /// Where the subprograms were appended.
    pub subprogs: Vec<SubprogPlacement>,
    /// Kfunc calls, by instruction.
    pub kfunc_calls: Vec<KfuncCall>,
    /// Map references, by instruction.
    pub map_refs: Vec<MapRef>,
    /// `__ksym` variable loads.
    pub ksym_loads: Vec<KsymLoad>,
    /// CO-RE relocations applied.
    pub core_relos: Vec<AppliedCore>,
    /// `comment:` annotations on the program.
    pub comments: Vec<CommentTag>,
}

impl LinkedProgram {
    /// What a kfunc lookup knows about this program ([`kfvm_kfunc::KfuncRegistry::is_allowed`]).
    pub fn prog_info(&self) -> ProgInfo {
        let mut p = ProgInfo::new(self.prog_type);
        p.expected_attach_type = self.expected_attach_type.map_or(0, AttachType::as_u32);
        p.sleepable = self.sleepable;
        p.attach_func_name = self.attach_target.as_ref().map(|t| t.name.clone());
        p
    }

    /// The kfunc call at instruction `insn`.
    pub fn kfunc_call_at(&self, insn: usize) -> Option<&KfuncCall> {
        self.kfunc_calls.iter().find(|c| c.insn == insn)
    }
}

/// An object linked against a target.
#[derive(Clone, Debug)]
pub struct LinkedObject {
    /// libbpf's object name.
    pub name: String,
    /// The licence.
    pub license: String,
    /// Programs, in the object's order (those not loaded by default included, unless their
    /// relocation failed: see [`LinkedObject::failed`]).
    pub programs: Vec<LinkedProgram>,
    /// Programs not loaded by default whose relocation failed (libbpf would not have tried).
    pub failed: Vec<(String, LinkError)>,
    /// Maps, the `.kconfig` map's data filled in.
    pub maps: Vec<MapDef>,
    /// Every extern and its resolution ([`kfvm_object::Object::externs`] order).
    pub externs: Vec<ResolvedExtern>,
    /// The object's BTF (what `func_info` type ids and `TYPE_ID_LOCAL` refer to).
    pub btf: Option<Arc<Btf>>,
    /// The target BTF (what kfunc ids, `BPF_PSEUDO_BTF_ID` and `TYPE_ID_TARGET` refer to).
    pub target_btf: Arc<Btf>,
    /// Names of the object's functions ([`Object::functions`] order).
    pub functions: Vec<String>,
    /// What libbpf would have logged (debug and warnings).
    pub log: Log,
}

impl LinkedObject {
    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&LinkedProgram> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// One program in the kernel verifier log's syntax: kfuncs, maps and ksyms by name, source
    /// lines and applied CO-RE relocations as `;` comments.
    pub fn listing(&self, prog: &LinkedProgram) -> String {
        let syms = Names { obj: self, prog };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "prog '{}': section '{}', type {}{}{}, {} insns, {} kfunc calls, {} CO-RE relocations",
            prog.name,
            prog.section,
            prog.prog_type,
            match (&prog.attach_target, prog.attach_btf_id) {
                (Some(t), Some(id)) => format!(", attach {} [{id}]", t.btf_name),
                (Some(t), None) => format!(", attach {} (not in the target BTF)", t.btf_name),
                _ => String::new(),
            },
            if prog.autoload { "" } else { ", not autoloaded" },
            prog.insns.len(),
            prog.kfunc_calls.len(),
            prog.core_relos.len()
        );
        let mut prev_line: Option<usize> = None;
        let mut idx = 0;
        while idx < prog.insns.len() {
            if let Some(sp) = prog.subprogs.iter().find(|s| s.insn_off == idx) {
                let _ = writeln!(out, "{}:", sp_name(self, sp));
            }
            let li = prog.line_info.partition_point(|l| l.insn_off as usize <= idx);
            if li > 0 {
                let l = &prog.line_info[li - 1];
                let same = prev_line.is_some_and(|p| {
                    p == li - 1 || {
                        let q = &prog.line_info[p];
                        q.file_name_off == l.file_name_off && q.line() == l.line()
                    }
                });
                if !same {
                    let file = l.file.rsplit('/').next().unwrap_or(&l.file);
                    let _ = writeln!(out, "; {} @ {}:{}", l.source.trim_start(), file, l.line());
                }
                prev_line = Some(li - 1);
            }
            for c in prog.core_relos.iter().filter(|c| c.insn == idx) {
                let _ = match (&c.target, c.poisoned) {
                    (_, true) => writeln!(out, "; CO-RE {}: no match, poisoned", c.local),
                    (Some(t), false) => writeln!(out, "; CO-RE {} => {}", c.local, t),
                    (None, false) if c.kind == CoreReloKind::TypeIdLocal => {
                        writeln!(out, "; CO-RE {} => {}", c.local, c.new_val)
                    }
                    (None, false) => writeln!(out, "; CO-RE {} => not found: {}", c.local, c.new_val),
                };
            }
            match kfvm_isa::decode(&prog.insns, idx) {
                Ok(insn) => {
                    let _ = writeln!(out, "{idx}: {}", disasm::display(&insn, &syms, Options::LOG));
                    idx += insn.slots();
                }
                Err(err) => {
                    let _ = writeln!(out, "{idx}: ({:02x}) <{err}>", prog.insns[idx].code);
                    idx += 1;
                }
            }
        }
        out
    }

    /// The whole object (or the program named `only`): externs and their resolution, then each
    /// program's [`listing`](Self::listing).
    pub fn dump(&self, only: Option<&str>) -> Result<String, String> {
        if let Some(name) = only {
            let p = self.program(name).ok_or_else(|| format!("no program named '{name}'"))?;
            return Ok(self.listing(p));
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "object '{}': {} programs linked, {} externs, license '{}'",
            self.name,
            self.programs.len(),
            self.externs.len(),
            self.license
        );
        for (i, x) in self.externs.iter().enumerate() {
            let what = match &x.value {
                ExternValue::Kconfig { data_off, bytes } => format!("kconfig at {data_off} = {bytes:02x?}"),
                ExternValue::Kfunc { btf_id, .. } => format!("kfunc [{btf_id}]"),
                ExternValue::Var { btf_id } => format!("var [{btf_id}]"),
                ExternValue::Addr(a) => format!("address {a:#x}"),
                ExternValue::Unresolved => "unresolved (weak)".to_string(),
            };
            let _ = writeln!(out, "extern {i} '{}': {what}", x.name);
        }
        for (name, e) in &self.failed {
            let _ = writeln!(out, "prog '{name}' (not autoloaded): {e}");
        }
        for p in &self.programs {
            out.push('\n');
            out.push_str(&self.listing(p));
        }
        Ok(out)
    }
}

fn sp_name<'a>(obj: &'a LinkedObject, sp: &SubprogPlacement) -> Cow<'a, str> {
    match obj.functions.get(sp.function) {
        Some(n) => Cow::Borrowed(n.as_str()),
        None => Cow::Owned(format!("subprog#{}", sp.function)),
    }
}

/// Names for the listing.
struct Names<'a> {
    obj: &'a LinkedObject,
    prog: &'a LinkedProgram,
}

impl Symbols for Names<'_> {
    fn call_name(&self, call: CallKind) -> Option<Cow<'_, str>> {
        match call {
            CallKind::Kfunc { btf_id, btf_off: 0 } => {
                self.obj.target_btf.get(btf_id as u32).map(|t| Cow::Borrowed(t.name()))
            }
            _ => None,
        }
    }

    fn imm64(&self, pseudo: Pseudo, imm: i32, imm_hi: i32, _full: u64) -> Option<String> {
        let map = |i: i32| self.obj.maps.get(i as usize).map_or("?", |m| m.name.as_str());
        match pseudo {
            Pseudo::MapIdx => Some(format!("map[{}]", map(imm))),
            Pseudo::MapIdxValue => Some(format!("map[{}][0]+{imm_hi}", map(imm))),
            Pseudo::BtfId => self.obj.target_btf.get(imm as u32).map(|t| format!("ksym[{}]", t.name())),
            _ => {
                let _ = self.prog;
                None
            }
        }
    }
}

/// Which function (and where in it) linked instruction `insn` of `prog` comes from.
fn origin(obj: &Object, prog: &kfvm_object::Program, insn: usize) -> Option<(usize, usize)> {
    let main_len = obj.functions.get(prog.function)?.insns.len();
    if insn < main_len {
        return Some((prog.function, insn));
    }
    prog.subprogs.iter().find_map(|sp| {
        let len = obj.functions.get(sp.function)?.insns.len();
        (insn >= sp.insn_off && insn < sp.insn_off + len).then(|| (sp.function, insn - sp.insn_off))
    })
}

/// What CO-RE did to one function instruction.
struct CoreDone {
    relo_idx: usize,
    kind: CoreReloKind,
    access: String,
    resolved: relo_core::Resolved,
    patched: Patched,
}

struct CoreOut {
    /// Each function's instructions with CO-RE applied.
    funcs: Vec<Vec<RawInsn>>,
    done: HashMap<(usize, usize), CoreDone>,
    /// Programs (index) not loaded by default whose relocation failed.
    failed: HashMap<usize, LinkError>,
}

/// `bpf_object__relocate_core`.
fn relocate_core(
    obj: &Object,
    local: Option<&Btf>,
    target: &Target,
    log: &mut Log,
) -> Result<CoreOut, LinkError> {
    let mut out = CoreOut {
        funcs: obj.functions.iter().map(|f| f.insns.clone()).collect(),
        done: HashMap::new(),
        failed: HashMap::new(),
    };
    let Some(ext) = &obj.btf_ext else { return Ok(out) };
    if ext.core_relos.iter().all(|s| s.records.is_empty()) {
        return Ok(out);
    }
    let Some(local) = local else {
        return Err(LinkError {
            kind: LinkErrorKind::Btf,
            errno: Errno::Inval,
            message: "CO-RE relocations need the object's BTF".to_string(),
        });
    };
    // entry function -> (program index, autoload)
    let entry: HashMap<usize, (usize, bool)> =
        obj.programs.iter().enumerate().map(|(i, p)| (p.function, (i, p.autoload))).collect();
    // ELF sections named `?...` (Function::section has the `?` removed): those of the programs
    // not loaded by default
    let question: Vec<usize> = obj
        .programs
        .iter()
        .filter(|p| !p.autoload)
        .filter_map(|p| obj.functions.get(p.function).map(|f| f.section_index))
        .collect();
    let targets = [target.btf().as_ref()];
    let mut cache = CandCache::with_index(target.cand_index());
    for pass in 0..2 {
        for sec in &ext.core_relos {
            let (sec_name, q) = match sec.sec_name.strip_prefix('?') {
                Some(n) => (n, true),
                None => (sec.sec_name.as_str(), false),
            };
            for (i, rec) in sec.records.iter().enumerate() {
                let insn = rec.insn_off as usize / 8;
                let Some(fi) = obj.functions.iter().position(|f| {
                    f.section == sec_name
                        && question.contains(&f.section_index) == q
                        && insn >= f.insn_off
                        && insn < f.insn_off + f.insns.len()
                }) else {
                    // belongs to an eliminated weak subprogram
                    continue;
                };
                let deferred_prog = entry.get(&fi).filter(|(_, auto)| !auto).map(|(p, _)| *p);
                if (pass == 0) == deferred_prog.is_some() {
                    continue;
                }
                if let Some(p) = deferred_prog {
                    if out.failed.contains_key(&p) {
                        continue;
                    }
                }
                let fname = obj.functions[fi].name.as_str();
                let local_insn = insn - obj.functions[fi].insn_off;
                let result = (|| -> Result<CoreDone, LinkError> {
                    let kind = rec.kind;
                    let access = rec.access_str(local);
                    let r = CoreReloRec { insn_idx: insn, type_id: rec.type_id, access, kind };
                    let resolved = relo_core::resolve_relo(fname, &r, i, local, &targets, &mut cache, log)?;
                    let patched =
                        relo_core::patch_insn(fname, &mut out.funcs[fi], local_insn, i, &resolved.res, log)?;
                    Ok(CoreDone { relo_idx: i, kind, access: access.to_string(), resolved, patched })
                })();
                match result {
                    Ok(d) => {
                        out.done.insert((fi, local_insn), d);
                    }
                    Err(e) => match deferred_prog {
                        None => return Err(e),
                        Some(p) => {
                            out.failed.insert(p, e);
                        }
                    },
                }
            }
        }
    }
    Ok(out)
}

/// Links `obj` against `target` (libbpf's `bpf_object__load()` up to `BPF_PROG_LOAD`): externs,
/// then CO-RE, then data relocations. See the [crate documentation](crate).
pub fn link(obj: &Object, target: &Target) -> Result<LinkedObject, LinkError> {
    let mut log = Log::default();
    let local = obj.btf.as_ref().map(|b| b.shared().clone());
    let externs = resolve_externs(obj, local.as_deref(), target, &mut log)?;
    let core = relocate_core(obj, local.as_deref(), target, &mut log)?;
    let mut maps = obj.maps.clone();
    if let Some((m, data)) = &externs.kconfig_data {
        if let Some(map) = maps.get_mut(*m) {
            map.data = Some(data.clone());
        }
    }
    let kconfig_map = externs.kconfig_data.as_ref().map(|(m, _)| *m);
    let mut programs = Vec::new();
    let mut failed = Vec::new();
    for (pi, p) in obj.programs.iter().enumerate() {
        if let Some(e) = core.failed.get(&pi) {
            failed.push((p.name.clone(), e.clone()));
            continue;
        }
        programs.push(link_program(obj, p, target, &core, &externs.resolved, kconfig_map)?);
    }
    Ok(LinkedObject {
        name: obj.name.clone(),
        license: obj.license.clone(),
        programs,
        failed,
        maps,
        externs: externs.resolved,
        btf: local,
        target_btf: target.btf().clone(),
        functions: obj.functions.iter().map(|f| f.name.clone()).collect(),
        log,
    })
}

fn set_src(insn: &mut RawInsn, src: u8) {
    insn.regs = (insn.regs & 0x0f) | (src << 4);
}

/// `bpf_object__relocate_data` for one program, plus the CO-RE results of its functions.
fn link_program(
    obj: &Object,
    p: &kfvm_object::Program,
    target: &Target,
    core: &CoreOut,
    externs: &[ResolvedExtern],
    kconfig_map: Option<usize>,
) -> Result<LinkedProgram, LinkError> {
    let mut insns = p.insns.clone();
    let mut kfunc_calls = Vec::new();
    let mut map_refs = Vec::new();
    let mut ksym_loads = Vec::new();
    let mut core_relos = Vec::new();
    let bad = |what: &str, i: usize| LinkError {
        kind: LinkErrorKind::Core,
        errno: Errno::Inval,
        message: format!("prog '{}': {what} at insn #{i} out of range", p.name),
    };
    for r in &p.relocations {
        let i = r.insn;
        if i >= insns.len() {
            return Err(bad("relocation", i));
        }
        let two = i + 1 < insns.len();
        match &r.kind {
            RelocKind::Core(_) => {
                let Some((f, at)) = origin(obj, p, i) else { return Err(bad("CO-RE relocation", i)) };
                let Some(done) = core.done.get(&(f, at)) else { continue };
                let src = &core.funcs[f];
                let orig_ldimm = obj.functions[f].insns.get(at).is_some_and(|x| x.code == LDIMM64);
                insns[i] = src[at];
                if orig_ldimm && two && at + 1 < src.len() {
                    insns[i + 1] = src[at + 1];
                }
                core_relos.push(AppliedCore {
                    insn: i,
                    function: f,
                    relo_idx: done.relo_idx,
                    kind: done.kind,
                    access: done.access.clone(),
                    local: done.resolved.local.clone(),
                    target: done.resolved.target.clone(),
                    poisoned: done.patched == Patched::Poisoned,
                    orig_val: done.resolved.res.orig_val,
                    new_val: done.resolved.res.new_val,
                });
            }
            RelocKind::Map { map } => {
                set_src(&mut insns[i], BPF_PSEUDO_MAP_IDX);
                insns[i].imm = *map as i32;
                map_refs.push(MapRef { insn: i, map: *map, value_offset: None });
            }
            RelocKind::MapValue { map, offset } => {
                if !two {
                    return Err(bad("map value load", i));
                }
                set_src(&mut insns[i], BPF_PSEUDO_MAP_IDX_VALUE);
                insns[i].imm = *map as i32;
                insns[i + 1].imm = *offset as i32;
                map_refs.push(MapRef { insn: i, map: *map, value_offset: Some(*offset) });
            }
            RelocKind::Extern { ext } => {
                if !two {
                    return Err(bad("extern load", i));
                }
                let (Some(x), Some(res)) = (obj.externs.get(*ext), externs.get(*ext)) else {
                    return Err(bad("extern", i));
                };
                match (&x.kind, &res.value) {
                    (ExternKind::Kconfig { data_off, .. }, _) => {
                        let Some(m) = kconfig_map else {
                            return Err(bad("kconfig load without a .kconfig map", i));
                        };
                        set_src(&mut insns[i], BPF_PSEUDO_MAP_IDX_VALUE);
                        insns[i].imm = m as i32;
                        insns[i + 1].imm = *data_off as i32;
                        map_refs.push(MapRef { insn: i, map: m, value_offset: Some(*data_off) });
                    }
                    (ExternKind::Ksym { type_id, .. }, v) => {
                        let btf_id = match v {
                            ExternValue::Kfunc { btf_id, .. } | ExternValue::Var { btf_id }
                                if *type_id != 0 =>
                            {
                                Some(*btf_id)
                            }
                            _ => None,
                        };
                        let addr = if let ExternValue::Addr(a) = v { *a } else { 0 };
                        match btf_id {
                            Some(id) => {
                                set_src(&mut insns[i], BPF_PSEUDO_BTF_ID);
                                insns[i].imm = id as i32;
                                insns[i + 1].imm = 0;
                            }
                            None => {
                                insns[i].imm = addr as u32 as i32;
                                insns[i + 1].imm = (addr >> 32) as u32 as i32;
                            }
                        }
                        ksym_loads.push(KsymLoad { insn: i, ext: *ext, name: x.name.clone(), btf_id, addr });
                    }
                }
            }
            RelocKind::ExternCall { ext } => {
                let (Some(x), Some(res)) = (obj.externs.get(*ext), externs.get(*ext)) else {
                    return Err(bad("kfunc call", i));
                };
                set_src(&mut insns[i], BPF_PSEUDO_KFUNC_CALL);
                let btf_id = match res.value {
                    ExternValue::Kfunc { btf_id, btf_fd_idx } => {
                        insns[i].imm = btf_id as i32;
                        insns[i].off = btf_fd_idx;
                        Some(btf_id)
                    }
                    _ => {
                        // poison_kfunc_call
                        insns[i] = RawInsn {
                            code: 0x85,
                            regs: 0,
                            off: 0,
                            imm: POISON_CALL_KFUNC_BASE.wrapping_add(*ext as i32),
                        };
                        None
                    }
                };
                kfunc_calls.push(KfuncCall { insn: i, ext: *ext, name: x.name.clone(), btf_id, btf_off: 0 });
            }
            RelocKind::Call { .. } | RelocKind::SubprogAddr { .. } => {}
        }
    }
    let attach_btf_id = p.attach_target.as_ref().and_then(|t| {
        let kind = if t.btf_typedef { Kind::Typedef } else { Kind::Func };
        target.btf().find_by_name_kind(&t.btf_name, kind).map(|t| t.id())
    });
    Ok(LinkedProgram {
        name: p.name.clone(),
        section: p.section.clone(),
        autoload: p.autoload,
        prog_type: p.prog_type,
        expected_attach_type: p.expected_attach_type,
        attach_target: p.attach_target.clone(),
        attach_btf_id,
        sleepable: p.sleepable,
        prog_flags: p.prog_flags,
        insns,
        func_info: p.func_info.clone(),
        line_info: p.line_info.clone(),
        subprogs: p.subprogs.clone(),
        kfunc_calls,
        map_refs,
        ksym_loads,
        core_relos,
        comments: p.comments.clone(),
    })
}
