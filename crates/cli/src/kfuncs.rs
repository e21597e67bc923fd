//! `kfvm kfuncs` and `kfvm btf dump`: the kernel model's kfunc catalogue and the host BTF.

use crate::json::js;
use kfvm::kernel;
use kfvm::kfunc::{BpfProgType, KfFlags, KfuncHook, KfuncRegistry, ProgInfo, RegisteredKfunc};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// What `kfvm kfuncs` says about one kfunc.
struct Row<'a> {
    k: &'a RegisteredKfunc,
    prototype: String,
    /// Flags per hook (a kfunc may be registered with different flags in different hooks).
    flags: Vec<(KfuncHook, KfFlags)>,
    sets: Vec<String>,
    prog_types: Vec<BpfProgType>,
}

fn rows(reg: &KfuncRegistry, prog_type: Option<BpfProgType>) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = reg
        .kfuncs()
        .filter(|k| k.is_kfunc())
        .filter(|k| match prog_type {
            Some(t) => reg.btf_kfunc_id_set_contains(k.btf_id(), &ProgInfo::new(t)).is_some(),
            None => true,
        })
        .map(|k| {
            let mut flags: Vec<(KfuncHook, KfFlags)> =
                k.registrations().iter().map(|r| (r.hook, r.flags)).collect();
            flags.sort_by_key(|(h, _)| *h);
            flags.dedup();
            let mut sets: Vec<String> = k.registrations().iter().map(|r| r.set.clone()).collect();
            sets.dedup();
            Row {
                k,
                prototype: reg.c_prototype(k.name()).unwrap_or_default(),
                flags,
                sets,
                prog_types: reg.allowed_prog_types(k.btf_id()),
            }
        })
        .collect();
    rows.sort_by_key(|r| r.k.name());
    rows
}

/// The flags, or per-hook flags when they differ between hooks.
fn flags_text(row: &Row<'_>, prog: Option<(&KfuncRegistry, BpfProgType)>) -> String {
    if let Some((reg, t)) = prog {
        if let Some(f) = reg.btf_kfunc_id_set_contains(row.k.btf_id(), &ProgInfo::new(t)) {
            return f.to_string();
        }
    }
    let first = row.flags.first().map(|(_, f)| *f).unwrap_or(row.k.desc().flags);
    if row.flags.iter().all(|(_, f)| *f == first) {
        first.to_string()
    } else {
        row.flags.iter().map(|(h, f)| format!("{}: {f}", h.name())).collect::<Vec<_>>().join("; ")
    }
}

fn hooks_text(row: &Row<'_>) -> String {
    let mut hooks: Vec<&str> = row.flags.iter().map(|(h, _)| h.name()).collect();
    hooks.dedup();
    if hooks.is_empty() {
        "none (declared only)".to_owned()
    } else {
        hooks.join(", ")
    }
}

/// `kfvm kfuncs [--prog-type TYPE] [--json]`.
pub(crate) fn cmd_kfuncs(prog_type: Option<&str>, json: bool) -> Result<ExitCode, String> {
    let prog_type = prog_type.map(|t| t.parse::<BpfProgType>().map_err(|e| e.to_string())).transpose()?;
    let reg = kernel::registry();
    let rows = rows(&reg, prog_type);
    let mut out = String::new();
    if json {
        out.push('[');
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n  {");
            let _ = write!(out, "\"name\": {}, ", js(r.k.name()));
            let _ = write!(out, "\"btf_id\": {}, ", r.k.btf_id());
            let _ = write!(out, "\"prototype\": {}, ", js(&r.prototype));
            let flags = match prog_type {
                Some(t) => reg.btf_kfunc_id_set_contains(r.k.btf_id(), &ProgInfo::new(t)).unwrap_or_default(),
                None => r.flags.first().map(|(_, f)| *f).unwrap_or(r.k.desc().flags),
            };
            let _ = write!(out, "\"flags\": [{}], ", list(flags.names()));
            let hooks = r
                .flags
                .iter()
                .map(|(h, f)| format!("{{\"hook\": {}, \"flags\": [{}]}}", js(h.name()), list(f.names())));
            let _ = write!(out, "\"hooks\": [{}], ", hooks.collect::<Vec<_>>().join(", "));
            let _ = write!(out, "\"sets\": [{}], ", list(r.sets.iter().map(String::as_str)));
            let _ = write!(
                out,
                "\"prog_types\": [{}], ",
                list(r.prog_types.iter().map(|t| t.name().to_ascii_uppercase()))
            );
            match r.k.deprecation() {
                None => out.push_str("\"deprecation\": null"),
                Some(d) => {
                    let _ = write!(
                        out,
                        "\"deprecation\": {{\"note\": {}, \"replacement\": {}, \"removed_in\": {}}}",
                        js(d.note),
                        d.replacement.map(js).unwrap_or_else(|| "null".into()),
                        d.removed_in.map(|v| js(&v.to_string())).unwrap_or_else(|| "null".into())
                    );
                }
            }
            out.push('}');
        }
        out.push_str("\n]\n");
    } else {
        for r in &rows {
            let _ = writeln!(out, "{}", r.prototype);
            let _ = writeln!(out, "    flags: {}", flags_text(r, prog_type.map(|t| (&reg, t))));
            let _ = writeln!(out, "    hooks: {} (sets: {})", hooks_text(r), r.sets.join(", "));
            if let Some(d) = r.k.deprecation() {
                let _ = writeln!(out, "    {d}");
            }
        }
        let what = match prog_type {
            Some(t) => format!(" callable from {}", t.c_name()),
            None => String::new(),
        };
        let _ = writeln!(out, "{} kfuncs{what}", rows.len());
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn list<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items.map(|s| js(s.as_ref())).collect::<Vec<_>>().join(", ")
}

/// Output formats of `kfvm btf dump`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BtfFormat {
    /// bpftool's listing (`bpftool btf dump file F`).
    Raw,
    /// A C header (`bpftool btf dump file F format c`); for the host, with the kfunc prototypes.
    C,
    /// The BTF bytes themselves.
    Bin,
}

/// `kfvm btf dump [FILE | --host] [--format raw|c|bin]`. FILE is raw BTF (`/sys/kernel/btf/vmlinux`)
/// or an ELF object, whose `.BTF` is dumped with libbpf's open-time fix-ups applied.
pub(crate) fn cmd_btf_dump(file: Option<&Path>, host: bool, format: BtfFormat) -> Result<ExitCode, String> {
    let (bytes, text) = match (file, host) {
        (Some(_), true) => return Err("give a FILE or --host, not both".into()),
        (None, false) => {
            return Err("nothing to dump: give a BTF FILE, or --host for the kernel model's BTF".into())
        }
        (None, true) => {
            let reg = kernel::registry();
            let text = match format {
                BtfFormat::Raw => reg.btf_text().map_err(|e| e.to_string())?,
                BtfFormat::C => reg.c_header().map_err(|e| e.to_string())?,
                BtfFormat::Bin => String::new(),
            };
            (reg.btf(), text)
        }
        (Some(f), false) => {
            let mut bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
            // An ELF object: its `.BTF`, as libbpf sees it after opening the object.
            if bytes.starts_with(b"\x7fELF") {
                let obj = kfvm::object::Object::parse(&bytes, &f.display().to_string())
                    .map_err(|e| format!("{}: {e}", f.display()))?;
                let btf = obj
                    .btf
                    .as_ref()
                    .ok_or_else(|| format!("{}: the object has no .BTF section", f.display()))?;
                bytes = btf.to_bytes();
            }
            let btf = kfvm::btf::Btf::parse(&bytes).map_err(|e| format!("{}: {e}", f.display()))?;
            let text = match format {
                BtfFormat::Raw => kfvm::btf::dump_raw(&btf),
                BtfFormat::C => kfvm::btf::dump_c(&btf, &kfvm::btf::CDumpOptions::default())
                    .map_err(|e| format!("{}: {e}", f.display()))?,
                BtfFormat::Bin => String::new(),
            };
            (bytes, text)
        }
    };
    let mut stdout = std::io::stdout().lock();
    let written = match format {
        BtfFormat::Bin => stdout.write_all(&bytes),
        _ => stdout.write_all(text.as_bytes()),
    };
    written.and_then(|_| stdout.flush()).map_err(|e| format!("stdout: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
