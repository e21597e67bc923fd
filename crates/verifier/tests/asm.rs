//! Text-assembly verifier tests: `tests/asm/*.s`, kernel pseudo-C with directives in `;`
//! comments, one test per file.
//!
//! ```text
//! ; expect: reject            the verdict: accept or reject
//! ; msg: unreachable insn 1   a line the log must contain (repeatable)
//! r0 = 0
//! exit
//! ```
//!
//! Each file is verified by kfvm; where `bpf()` works, also by the live kernel (as a socket
//! filter, loaded by root), which must agree with the annotations. Elsewhere the kernel trials are
//! ignored and their name says why.

use kfvm_isa::asm::assemble_raw;
use kfvm_isa::disasm::NoSymbols;
use kfvm_isa::RawInsn;
use kfvm_verifier::{bpf_check, CheckOptions, VerifyError};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

struct Case {
    insns: Vec<RawInsn>,
    accept: bool,
    msgs: Vec<String>,
}

fn parse(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (mut accept, mut msgs) = (None, Vec::new());
    for line in text.lines() {
        let Some(d) = line.trim().strip_prefix(';') else { continue };
        let d = d.trim();
        if let Some(v) = d.strip_prefix("expect:") {
            accept = Some(match v.trim() {
                "accept" => true,
                "reject" => false,
                other => return Err(format!("bad verdict `{other}`")),
            });
        } else if let Some(v) = d.strip_prefix("msg:") {
            msgs.push(v.trim().to_string());
        }
    }
    let insns = assemble_raw(&text, &NoSymbols).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Case { insns, accept: accept.ok_or("no `; expect:` line")?, msgs })
}

fn check_msgs(log: &str, msgs: &[String], who: &str) -> Result<(), Failed> {
    for m in msgs {
        if !log.contains(m.as_str()) {
            return Err(format!("{who}'s log lacks `{m}`:\n{log}").into());
        }
    }
    Ok(())
}

fn check_kfvm(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    let (r, log) = bpf_check(&case.insns, CheckOptions { bpf_capable: true, log_level: 1 });
    match (r, case.accept) {
        (Ok(()), true) => {}
        (Err(VerifyError::Rejected(_)), false) => {}
        (Ok(()), false) => return Err("kfvm accepted the program".into()),
        (Err(e), _) => return Err(format!("{e}\nlog:\n{log}").into()),
    }
    check_msgs(&log, &case.msgs, "kfvm")
}

fn check_kernel(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    let l = kfvm_oracle::load(kfvm_oracle::prog_type::SOCKET_FILTER, &case.insns, 0, 1);
    match (l.fd.is_some(), case.accept) {
        (true, false) => return Err(format!("the kernel accepted the program:\n{}", l.log).into()),
        (false, true) => return Err(format!("the kernel rejected the program:\n{}", l.log).into()),
        _ => {}
    }
    check_msgs(&l.log, &case.msgs, "the kernel")
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/asm")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "s"))
        .collect();
    files.sort();
    let kernel = kfvm_oracle::available();
    let mut trials = Vec::new();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let f2 = f.clone();
        trials.push(Trial::test(format!("kfvm::{name}"), move || check_kfvm(&f2)));
        match &kernel {
            Ok(()) => trials.push(Trial::test(format!("kernel::{name}"), move || check_kernel(&f))),
            Err(why) => trials.push(
                Trial::test(format!("kernel::{name} (skipped: {why})"), || Ok(())).with_ignored_flag(true),
            ),
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
