//! Differential fuzzing of the path walk against the live kernel: random programs from
//! `tests/walk_support` verified by both at log level 2, logs compared.
//! `cargo run -p kfvm-verifier --example kfuzz -- FIRST_SEED COUNT [LEVEL]`; mismatching cases are
//! written to /tmp/kfuzz/.

#[path = "../tests/asm_support/mod.rs"]
mod asm_support;
#[path = "../tests/walk_support/mod.rs"]
mod walk_support;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let first: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let count: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let level: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    std::fs::create_dir_all("/tmp/kfuzz").unwrap();
    let (mut same, mut verdict_diff, mut log_diff, mut unsupported, mut kacc) = (0, 0, 0, 0, 0);
    let mut proc_same = 0;
    for seed in first..first + count {
        let g = walk_support::gen(seed);
        let path = format!("/tmp/kfuzz/seed-{seed}.s");
        std::fs::write(&path, &g.text).unwrap();
        let case = asm_support::parse(std::path::Path::new(&path)).expect("parse");
        // Programs that run long are compared at level 0 (verdict and statistics) only.
        let quick = kfvm_verifier::bpf_check_full(&case.insns, &case.options(4), None);
        let level = if quick.stats.insn_processed > 100_000 { 4 } else { level };
        let v = if level == 4 {
            quick
        } else {
            kfvm_verifier::bpf_check_full(&case.insns, &case.options(level), None)
        };
        let k = case.kernel_load(level).expect("kernel");
        if k.fd.is_some() {
            kacc += 1;
        }
        if matches!(v.result, Err(kfvm_verifier::VerifyError::Unsupported(_))) {
            unsupported += 1;
            println!("seed {seed}: unsupported {:?}", v.result);
            continue;
        }
        if asm_support::processed_of(&k.log) == Some(v.stats.insn_processed) {
            proc_same += 1;
        }
        let f_errno = match &v.result {
            Err(kfvm_verifier::VerifyError::Rejected(r)) => Some(r.errno.raw()),
            _ => None,
        };
        if (k.fd.is_some()) != v.result.is_ok() || k.errno != f_errno {
            verdict_diff += 1;
            println!(
                "seed {seed}: VERDICT kernel={} errno {:?} kfvm={:?}",
                k.fd.is_some(),
                k.errno,
                v.result.as_ref().err()
            );
            continue;
        }
        let (kl, fl) = (asm_support::normalize_log(&k.log), asm_support::normalize_log(&v.log));
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("verification time") && !l.starts_with("stack depth"))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        };
        let (kl, fl) = if level == 4 { (strip(&kl), strip(&fl)) } else { (kl, fl) };
        if k.log.len() >= (1 << 24) - 1 || k.errno == Some(28) {
            // The kernel's log overflowed its buffer: compare the ends.
            let tail = |s: &str| s.lines().rev().take(30).map(|l| l.to_string()).collect::<Vec<_>>();
            if tail(&kl) == tail(&fl) {
                same += 1;
                std::fs::remove_file(&path).ok();
                continue;
            }
        }
        if kl == fl {
            std::fs::remove_file(&path).ok();
            same += 1;
        } else {
            log_diff += 1;
            let (ka, fa): (Vec<&str>, Vec<&str>) = (kl.lines().collect(), fl.lines().collect());
            let i = ka.iter().zip(fa.iter()).position(|(a, b)| a != b).unwrap_or(ka.len().min(fa.len()));
            println!(
                "seed {seed}: line {}\n  K {}\n  F {}",
                i + 1,
                ka.get(i).unwrap_or(&"<end>"),
                fa.get(i).unwrap_or(&"<end>")
            );
        }
    }
    println!(
        "{count} programs ({kacc} accepted by the kernel): {same} identical logs, {log_diff} differing logs, {verdict_diff} differing verdicts, {unsupported} unsupported; processed equal {proc_same}"
    );
}
