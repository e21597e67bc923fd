//! Checks the disassembler and the assembler against verifier logs of the live kernel.
//!
//! `tests/kernel-logs/*.log` are verifier logs (log level 2) that Linux 6.18 wrote for the
//! programs beside them (`rebuild.sh` captures them again; this test only reads the files). For
//! every instruction the kernel printed (`N: (xx) text`, the `Live regs before insn` listing, and
//! `mark_precise: ... before N: (xx) text`), the text is assembled, encoded, disassembled again,
//! and must come out identical. Where the program was raw instructions (`NAME.bin` beside
//! `NAME.log`, assembled from `tests/asm/NAME.s`), slot N of the binary must also disassemble to
//! exactly the kernel's text, except where the kernel shows a map's address (a `lddw` of a map,
//! whose fd the kernel replaced by the map pointer before printing).

use kfvm_isa::asm::parse_insn_with;
use kfvm_isa::disasm::{helper_id, insn_to_string, KfuncNames, Options};
use kfvm_isa::opcode::{form_of, Form, FORMS};
use kfvm_isa::{decode, raw_from_bytes, Insn, Pseudo};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-logs")
}

/// An instruction line of a verifier log.
struct Line<'a> {
    /// 1-based line number in the log.
    lineno: usize,
    /// Slot index the kernel printed.
    idx: usize,
    /// The printed `(xx) text`, without the register state that may follow.
    text: &'a str,
}

/// `print_bpf_insn` output in a log line: after `N: `, after the liveness column of
/// `Live regs before insn` (`  1  39: 0......... (e5) ...`), or after `before N: ` in
/// `mark_precise` lines.
fn insn_of(line: &str) -> Option<(usize, &str)> {
    let s = match line.find(" before ") {
        Some(p) if line.starts_with("mark_precise:") => &line[p + 8..],
        _ => line.trim_start(),
    };
    // An optional loop depth before the index in the liveness listing.
    let words: Vec<&str> = s.splitn(3, ' ').collect();
    let s = if words.len() == 3 && words[0].bytes().all(|b| b.is_ascii_digit()) && !words[0].is_empty() {
        s[words[0].len()..].trim_start()
    } else {
        s
    };
    let colon = s.find(": ")?;
    let idx: usize = s[..colon].parse().ok()?;
    let mut rest = &s[colon + 2..];
    // The liveness column: ten characters, `.` or a register number.
    if rest.len() > 11
        && rest.as_bytes()[10] == b' '
        && rest[..10].bytes().all(|b| b == b'.' || b.is_ascii_digit())
    {
        rest = &rest[11..];
    }
    let b = rest.as_bytes();
    if b.len() < 6
        || b[0] != b'('
        || b[3] != b')'
        || b[4] != b' '
        || !rest[1..3].bytes().all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    let text = rest.split(';').next().unwrap_or(rest).trim_end();
    Some((idx, text))
}

fn insn_lines(log: &str) -> Vec<Line<'_>> {
    log.lines()
        .enumerate()
        .filter_map(|(n, l)| insn_of(l).map(|(idx, text)| Line { lineno: n + 1, idx, text }))
        .collect()
}

/// Kfunc names as the kernel printed them (`call bpf_task_acquire#65909`).
fn kfunc_names(lines: &[Line<'_>]) -> KfuncNames {
    let mut names = KfuncNames::new();
    for l in lines {
        let Some(call) = l.text.split_once(") call ").map(|(_, c)| c) else { continue };
        let Some((name, id)) = call.split_once('#') else { continue };
        if helper_id(name).is_none() && name != "unknown" && name != "kernel-function" {
            if let Ok(id) = id.parse() {
                names.insert(0, id, name);
            }
        }
    }
    names
}

/// Checks one log; returns the forms the kernel printed.
fn check(path: &Path) -> Result<HashSet<&'static Form>, Failed> {
    let log = std::fs::read_to_string(path)?;
    let lines = insn_lines(&log);
    if lines.is_empty() {
        return Err(format!("{}: no instruction lines", path.display()).into());
    }
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let unpriv = name.ends_with(".unpriv.log");
    let stem = name.trim_end_matches(".log").trim_end_matches(".unpriv");
    let bin = path.with_file_name(format!("{stem}.bin"));
    let raw = if bin.exists() { Some(raw_from_bytes(&std::fs::read(&bin)?)?) } else { None };
    let names = kfunc_names(&lines);
    let opts = Options { allow_ptr_leaks: !unpriv, ..Options::LOG };
    let mut errors = String::new();
    let mut forms = HashSet::new();
    for l in &lines {
        let at = format!("{name}:{}", l.lineno);
        let insn = match parse_insn_with(l.text, &names) {
            Ok(i) => i,
            Err(e) => {
                writeln!(errors, "{at}: `{}`: {e}", l.text)?;
                continue;
            }
        };
        let again = insn_to_string(&insn, &names, opts);
        if again != l.text {
            writeln!(errors, "{at}: kernel `{}`, re-disassembled `{again}`", l.text)?;
        }
        if let Some(f) = form_of(insn.encode().0) {
            forms.insert(f);
        }
        let Some(raw) = &raw else { continue };
        let Ok(ours) = decode(raw, l.idx) else {
            writeln!(errors, "{at}: slot {} of {} does not decode", l.idx, bin.display())?;
            continue;
        };
        let hidden = matches!(ours, Insn::LdImm64 { pseudo: Pseudo::MapFd | Pseudo::MapValue, .. }) && unpriv;
        let shows_address = matches!(ours, Insn::LdImm64 { pseudo, .. } if pseudo != Pseudo::Imm) && !hidden;
        let ours_text = insn_to_string(&ours, &names, opts);
        if shows_address {
            if ours.encode().0.code != insn.encode().0.code {
                writeln!(errors, "{at}: kernel `{}`, slot {} is `{ours_text}`", l.text, l.idx)?;
            }
        } else if ours_text != l.text {
            writeln!(errors, "{at}: kernel `{}`, slot {} disassembles to `{ours_text}`", l.text, l.idx)?;
        }
    }
    if errors.is_empty() {
        Ok(forms)
    } else {
        Err(errors.into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/kernel-logs")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    let mut trials: Vec<Trial> = logs
        .iter()
        .cloned()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || check(&p).map(|_| ()))
        })
        .collect();
    trials.push(Trial::test("coverage", move || coverage(&logs)));
    libtest_mimic::run(&args, trials).exit();
}

/// Forms that Linux 6.18 never prints in a verifier log, with the reason.
const NOT_PRINTED: &[(u8, &str)] = &[(0x8d, "callx: `unknown opcode 8d` before any instruction is printed")];

/// Every form of the opcode table that the kernel accepts appears in some log.
fn coverage(logs: &[PathBuf]) -> Result<(), Failed> {
    let mut seen: HashSet<&Form> = HashSet::new();
    for p in logs {
        if let Ok(forms) = check(p) {
            seen.extend(forms);
        }
    }
    let missing: Vec<String> = FORMS
        .iter()
        .filter(|f| !seen.contains(f) && !NOT_PRINTED.iter().any(|(c, _)| *c == f.code))
        .map(|f| format!("{:#04x} {}", f.code, f.mnemonic))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("forms in no kernel log: {}", missing.join(", ")).into())
    }
}
