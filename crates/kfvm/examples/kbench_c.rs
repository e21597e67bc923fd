//! Verification time, kfvm against the live kernel, on the C verifier corpus
//! (`tests/verifier/*.bpf.o`, or the objects given):
//! `cargo run --release -p kfvm --example kbench_c -- [OBJ ...]` (as root).
//!
//! The kernel's time is what it reports at `BPF_LOG_STATS` (`verification time N usec`, the
//! whole of `bpf_check()`), for the object loaded as `kfvm_oracle::object` loads it (linked
//! against the running kernel's BTF); kfvm's is the time of `bpf_check_full()` for the object
//! linked against the kernel model, at the same log level. Each figure is the best of several
//! runs. Prints one line per program, then the totals and their ratio (the asm corpus has its
//! own: `cargo run --release -p kfvm-verifier --example kbench`).

use kfvm::verify::{Verdict, Verifier, VerifyOptions};
use std::path::PathBuf;

const RUNS: usize = 7;

fn kernel_usec(linked: &kfvm::link::LinkedObject, name: &str) -> Option<(u64, bool)> {
    let p = linked.program(name)?;
    let mut best = None::<u64>;
    let mut accepted = false;
    for _ in 0..RUNS {
        let l = kfvm_oracle::object::load_program(linked, p, 4, 0).ok()?;
        accepted = l.loaded.fd.is_some();
        let t = l
            .loaded
            .log
            .lines()
            .find_map(|x| x.strip_prefix("verification time ")?.strip_suffix(" usec")?.parse().ok())?;
        best = Some(best.map_or(t, |b: u64| b.min(t)));
    }
    best.map(|b| (b, accepted))
}

fn main() {
    if let Err(why) = kfvm_oracle::available() {
        eprintln!("kbench_c: the live kernel cannot be asked: {why}");
        std::process::exit(2);
    }
    let mut files: Vec<PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    if files.is_empty() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier");
        files = kfvm_oracle::test_files(&dir, "o");
    }
    let verifier = Verifier::builtin().expect("the built-in kernel model");
    let (mut kt, mut ft, mut n) = (0u64, 0u64, 0);
    let (mut kt_big, mut ft_big, mut n_big) = (0u64, 0u64, 0);
    for f in &files {
        let bytes = std::fs::read(f).expect("object");
        let file = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Ok(model) = verifier.link(&bytes, &file) else { continue };
        let Ok(live) = kfvm_oracle::object::link_for_kernel(&bytes, &file) else { continue };
        let opts = VerifyOptions { file_name: file.clone(), log_level: 4, ..Default::default() };
        for p in &model.programs {
            let Some((k, k_acc)) = kernel_usec(&live, &p.name) else { continue };
            let mut best = u64::MAX;
            let mut v = None;
            for _ in 0..RUNS {
                let r = verifier.verify_program(&model, p, &opts);
                best = best.min(r.duration.as_micros() as u64);
                v = Some(r);
            }
            let Some(v) = v else { continue };
            if matches!(v.verdict, Verdict::Unsupported(_) | Verdict::Internal(_) | Verdict::LoadFailed(_)) {
                continue;
            }
            let agree = matches!(v.verdict, Verdict::Accept) == k_acc;
            n += 1;
            kt += k;
            ft += best;
            if v.insns_processed >= 100 {
                n_big += 1;
                kt_big += k;
                ft_big += best;
            }
            println!(
                "{:48} processed {:7}  kernel {k:6} us  kfvm {best:6} us  ratio {:.2}{}",
                format!("{}::{}", file.trim_end_matches(".bpf.o"), p.name),
                v.insns_processed,
                best as f64 / k.max(1) as f64,
                if agree { "" } else { "  (verdicts differ)" }
            );
        }
    }
    println!(
        "{n} programs: kernel {kt} us, kfvm {ft} us, kfvm/kernel {:.2}; {n_big} programs with >= 100 processed insns: kernel {kt_big} us, kfvm {ft_big} us, ratio {:.2}",
        ft as f64 / kt.max(1) as f64,
        ft_big as f64 / kt_big.max(1) as f64
    );
}
