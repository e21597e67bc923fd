//! The scalar domain against the live kernel: random scalar programs are loaded with
//! `BPF_PROG_LOAD` at log level 2 and the kernel's log is replayed against kfvm's scalar domain
//! (see `scalar_support`). Skips, saying why, where `bpf()` is refused.
//!
//! `KFVM_ORACLE_GEN=1` also writes each program and its log to `tests/scalar-logs/`
//! (`KFVM_ORACLE_N` programs, default 200, seeds from `KFVM_ORACLE_SEED`, default 1), which
//! `tests/scalar_logs.rs` replays without a kernel.

mod scalar_support;

use kfvm_oracle::{available, load, prog_type, F_SLEEPABLE};
use scalar_support::{gen_program, listing, parse_listing, replay, LOG_MARK};
use std::path::PathBuf;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn scalar_domain_matches_live_kernel() {
    if let Err(why) = available() {
        eprintln!("skipped: {why}");
        return;
    }
    let generate = std::env::var("KFVM_ORACLE_GEN").is_ok_and(|v| v == "1");
    let n = env_u64("KFVM_ORACLE_N", if generate { 200 } else { 40 });
    let first = env_u64("KFVM_ORACLE_SEED", if generate { 1 } else { 1_000_000 });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scalar-logs");
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let (mut insns, mut compared, mut bad, mut branches) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for seed in first..first + n {
        let prog = gen_program(seed);
        let text = listing(&prog);
        let raw = kfvm_isa::encode_program(&prog);
        let l = load(prog_type::SYSCALL, &raw, F_SLEEPABLE, 2);
        if generate {
            let errno = l.errno.map_or("none".to_string(), |e| e.to_string());
            let file = format!(
                "# Random scalar program, seed {seed}; verified by Linux {} at log level 2 (errno: {errno}).\n{text}{LOG_MARK}{}",
                kernel.trim(),
                l.log
            );
            std::fs::write(dir.join(format!("seed-{seed:05}.txt")), file).expect("write log");
        }
        let map = parse_listing(&text).expect("listing");
        let r = replay(&map, &l.log);
        insns += r.insns;
        compared += r.compared;
        branches += r.branches;
        bad += r.mismatches.len();
        if std::env::var("KFVM_ORACLE_DUMP").is_ok() {
            eprintln!("{text}{LOG_MARK}{}", l.log);
        }
        if !r.mismatches.is_empty() || !r.unsupported.is_empty() {
            failures.push(format!(
                "seed {seed}:\n  {}\n  {}",
                r.mismatches.join("\n  "),
                r.unsupported.join("\n  ")
            ));
        }
    }
    eprintln!(
        "{n} programs, {insns} instruction steps, {compared} register prints and {branches} branch directions compared, {bad} differ"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
