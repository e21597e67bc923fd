//! Replays the verifier logs in `tests/scalar-logs/` against kfvm's scalar domain
//! ([`kfvm_verifier::scalar`]): for every instruction of every path the kernel walked, kfvm's
//! transfer function on the kernel's state before the instruction must print exactly the
//! registers the kernel printed after it (see `scalar_support` for the method).
//!
//! The files are random scalar programs with Linux 6.18's log, recorded by
//! `KFVM_ORACLE_GEN=1 cargo test -p kfvm-verifier --test scalar_live` on a machine where `bpf()`
//! works; this test needs no kernel. One test per file, then a summary line of the agreement.

mod scalar_support;

use libtest_mimic::{Arguments, Failed, Trial};
use scalar_support::{parse_listing, parse_log_file, replay};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scalar-logs")
}

fn check(path: &PathBuf) -> Result<(usize, usize, usize), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let f = parse_log_file(&text)?;
    let prog = parse_listing(&f.listing)?;
    let r = replay(&prog, &f.log);
    if r.insns == 0 {
        return Err("the log shows no instruction".into());
    }
    if !r.unsupported.is_empty() {
        return Err(format!("instructions the replay does not model:\n{}", r.unsupported.join("\n")).into());
    }
    if !r.mismatches.is_empty() {
        return Err(format!(
            "{} of {} register prints and {} branches differ:\n{}",
            r.mismatches.len(),
            r.compared,
            r.branches,
            r.mismatches.join("\n")
        )
        .into());
    }
    Ok((r.insns, r.compared, r.branches))
}

fn main() {
    let args = Arguments::from_args();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
    files.sort();
    assert!(!files.is_empty(), "no logs in {}", dir().display());
    let trials = files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            Trial::test(name, move || check(&p).map(|_| ()))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
