//! `kfvm objdump`: each program in the kernel verifier log's syntax, with the source lines of
//! `line_info` interleaved the way the verifier prints them (`; line @ file:N`).

use std::borrow::Cow;
use std::fmt::Write as _;

use kfvm_isa::disasm::{self, Options, Symbols};
use kfvm_isa::{CallKind, Pseudo, RawInsn};

use crate::{ExternKind, Object, Program, RelocKind};

/// Names for relocated instructions: each relocated `lddw`/`call` is rewritten to carry an index
/// into `labels` (a `BPF_PSEUDO_MAP_IDX` load, or a kfunc call with that "BTF id").
struct Labels {
    labels: Vec<String>,
}

impl Symbols for Labels {
    fn call_name(&self, call: CallKind) -> Option<Cow<'_, str>> {
        match call {
            CallKind::Kfunc { btf_id, btf_off: -1 } => {
                self.labels.get(btf_id as usize).map(|s| Cow::Borrowed(s.as_str()))
            }
            _ => None,
        }
    }

    fn imm64(&self, pseudo: Pseudo, imm: i32, _imm_hi: i32, _full: u64) -> Option<String> {
        match pseudo {
            Pseudo::MapIdx => self.labels.get(imm as usize).cloned(),
            _ => None,
        }
    }
}

fn labelled(obj: &Object, prog: &Program) -> (Vec<RawInsn>, Labels) {
    let mut insns = prog.insns.clone();
    let mut labels = Vec::new();
    for r in &prog.relocations {
        let i = r.insn;
        let text = match &r.kind {
            RelocKind::Map { map } => format!("map[{}]", obj.maps.get(*map).map_or("?", |m| m.name.as_str())),
            RelocKind::MapValue { map, offset } => {
                format!("map[{}][0]+{offset}", obj.maps.get(*map).map_or("?", |m| m.name.as_str()))
            }
            RelocKind::Extern { ext } => match obj.externs.get(*ext) {
                Some(x) => match x.kind {
                    ExternKind::Kconfig { .. } => format!("kconfig[{}]", x.name),
                    ExternKind::Ksym { .. } => format!("ksym[{}]", x.name),
                },
                None => "extern[?]".to_string(),
            },
            RelocKind::ExternCall { ext } => {
                let name = obj.externs.get(*ext).map_or("?", |x| x.name.as_str()).to_string();
                if let Some(insn) = insns.get_mut(i) {
                    insn.imm = labels.len() as i32;
                    insn.off = -1;
                    insn.regs = (insn.regs & 0x0f) | (2 << 4);
                }
                labels.push(name);
                continue;
            }
            _ => continue,
        };
        if i + 1 < insns.len() {
            insns[i].regs = (insns[i].regs & 0x0f) | (5 << 4);
            insns[i].imm = labels.len() as i32;
            insns[i + 1].imm = 0;
        }
        labels.push(text);
    }
    (insns, Labels { labels })
}

/// One program's listing.
pub fn program_listing(obj: &Object, prog: &Program) -> String {
    let mut out = String::new();
    let attach = match (&prog.expected_attach_type, &prog.attach_target) {
        (Some(a), Some(t)) => format!(", attach {a} to {}", t.btf_name),
        (Some(a), None) => format!(", attach {a}"),
        (None, Some(t)) => format!(", attach to {}", t.btf_name),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "prog '{}': section '{}', type {}{}{}{}, {} insns",
        prog.name,
        prog.section,
        prog.prog_type,
        attach,
        if prog.sleepable { ", sleepable" } else { "" },
        if prog.autoload { "" } else { ", not autoloaded" },
        prog.insns.len()
    );
    for c in &prog.comments {
        let _ = match c.value.is_empty() {
            true => writeln!(out, "; __{}", c.key),
            false => writeln!(out, "; __{}: {}", c.key, c.value),
        };
    }
    let (insns, labels) = labelled(obj, prog);
    let mut prev_line: Option<usize> = None;
    let mut idx = 0;
    while idx < insns.len() {
        if let Some(sp) = prog.subprogs.iter().find(|s| s.insn_off == idx) {
            let name = obj.functions.get(sp.function).map_or("?", |f| f.name.as_str());
            let _ = writeln!(out, "{name}:");
        }
        // verbose_linfo: the record covering idx, printed when it changes file or line
        let li = prog.line_info.partition_point(|l| l.insn_off as usize <= idx);
        if li > 0 {
            let cur = li - 1;
            let l = &prog.line_info[cur];
            let same = prev_line.is_some_and(|p| {
                p == cur || {
                    let q = &prog.line_info[p];
                    q.file_name_off == l.file_name_off && q.line() == l.line()
                }
            });
            if !same {
                let file = l.file.rsplit('/').next().unwrap_or(&l.file);
                let _ = writeln!(out, "; {} @ {}:{}", l.source.trim_start(), file, l.line());
            }
            prev_line = Some(cur);
        }
        match kfvm_isa::decode(&insns, idx) {
            Ok(insn) => {
                let _ = writeln!(out, "{idx}: {}", disasm::display(&insn, &labels, Options::LOG));
                idx += insn.slots();
            }
            Err(err) => {
                let _ = writeln!(out, "{idx}: ({:02x}) <{err}>", insns[idx].code);
                idx += 1;
            }
        }
    }
    out
}

/// The whole object (or one program): a header, the maps and externs, then each listing.
pub fn objdump(obj: &Object, only: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    if let Some(name) = only {
        let p = obj.program(name).ok_or_else(|| format!("no program named '{name}'"))?;
        return Ok(program_listing(obj, p));
    }
    let _ = writeln!(
        out,
        "object '{}': {} programs, {} maps, {} externs, license '{}'",
        obj.name,
        obj.programs.len(),
        obj.maps.len(),
        obj.externs.len(),
        obj.license
    );
    for (i, m) in obj.maps.iter().enumerate() {
        let ty = m.map_type_enum().map_or_else(|| m.map_type.to_string(), |t| t.name().to_string());
        let _ = writeln!(
            out,
            "map {i} '{}': {ty}, key {}, value {}, max_entries {}, flags {:#x}",
            m.name, m.key_size, m.value_size, m.max_entries, m.map_flags
        );
    }
    for (i, x) in obj.externs.iter().enumerate() {
        let what = match x.kind {
            ExternKind::Kconfig { data_off, size, .. } => format!("kconfig at {data_off}, {size} bytes"),
            ExternKind::Ksym { func: true, .. } => "kfunc".to_string(),
            ExternKind::Ksym { type_id: 0, .. } => "ksym (typeless)".to_string(),
            ExternKind::Ksym { .. } => "ksym".to_string(),
        };
        let _ = writeln!(out, "extern {i} '{}': {what}{}", x.name, if x.weak { ", weak" } else { "" });
    }
    for p in &obj.programs {
        out.push('\n');
        out.push_str(&program_listing(obj, p));
    }
    Ok(out)
}
