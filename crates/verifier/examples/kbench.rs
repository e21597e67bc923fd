//! Verification time, kfvm against the live kernel, on `tests/asm` cases (or the files given):
//! `cargo run --release -p kfvm-verifier --example kbench -- [FILE.s ...]`.
//!
//! The kernel's time is what it reports at `BPF_LOG_STATS` (`verification time N usec`, the
//! whole of `bpf_check()`); kfvm's is the wall time of `bpf_check_full()` at the same log level.
//! Each is the best of several runs. Prints one line per program and the totals' ratio.

#[path = "../tests/asm_support/mod.rs"]
mod asm_support;

use std::time::Instant;

const RUNS: usize = 5;

fn kernel_usec(case: &asm_support::Case) -> Option<u64> {
    let mut best = None::<u64>;
    for _ in 0..RUNS {
        let l = case.kernel_load(4).ok()?;
        let t = l
            .log
            .lines()
            .find_map(|x| x.strip_prefix("verification time ")?.strip_suffix(" usec")?.parse().ok())?;
        best = Some(best.map_or(t, |b: u64| b.min(t)));
    }
    best
}

fn kfvm_usec(case: &asm_support::Case) -> (u64, u32) {
    let opts = case.options(4);
    let mut best = u64::MAX;
    let mut processed = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let v = kfvm_verifier::bpf_check_full(&case.insns, &opts, None);
        best = best.min(t.elapsed().as_micros() as u64);
        processed = v.stats.insn_processed;
    }
    (best, processed)
}

fn main() {
    let mut files: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    if files.is_empty() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asm");
        files = std::fs::read_dir(dir)
            .expect("tests/asm")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "s"))
            .collect();
        files.sort();
    }
    let (mut kt, mut ft, mut n) = (0u64, 0u64, 0);
    let (mut kt_big, mut ft_big) = (0u64, 0u64);
    for f in &files {
        let Ok(case) = asm_support::parse_with(f, false) else { continue };
        let Some(k) = kernel_usec(&case) else { continue };
        let (t, processed) = kfvm_usec(&case);
        n += 1;
        kt += k;
        ft += t;
        if processed >= 1000 {
            kt_big += k;
            ft_big += t;
        }
        let name = f.file_stem().unwrap_or_default().to_string_lossy();
        println!(
            "{name:40} processed {processed:8}  kernel {k:8} us  kfvm {t:8} us  ratio {:.2}",
            t as f64 / k.max(1) as f64
        );
    }
    println!(
        "{n} programs: kernel {kt} us, kfvm {ft} us, kfvm/kernel {:.2}; programs with >= 1000 processed insns: kernel {kt_big} us, kfvm {ft_big} us, ratio {:.2}",
        ft as f64 / kt.max(1) as f64,
        ft_big as f64 / kt_big.max(1) as f64
    );
}
