//! The bpf_conformance suite (`../shared/conformance` beside the repository, or
//! `KFVM_CONFORMANCE_DIR`): one test per `.data` file. Every file in `tests/` must pass in the
//! interpreter; every file in `negative/` must be refused.

use kfvm::conformance::{data_files, run_file, Outcome, TestFile};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn suite_dir() -> PathBuf {
    match std::env::var_os("KFVM_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
}

fn name(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).display().to_string()
}

fn main() {
    let args = Arguments::from_args();
    let dir = suite_dir();
    let positive = data_files(&dir.join("tests"))
        .unwrap_or_else(|e| panic!("the conformance suite is missing at {}: {e}", dir.display()));
    let negative = data_files(&dir.join("negative"))
        .unwrap_or_else(|e| panic!("the conformance suite is missing at {}: {e}", dir.display()));
    assert!(
        positive.len() >= 312 && negative.len() >= 60,
        "conformance suite incomplete in {}",
        dir.display()
    );

    let mut trials = Vec::new();
    for p in positive {
        let n = name(&dir, &p);
        trials.push(Trial::test(n, move || match run_file(&p) {
            Outcome::Pass => Ok(()),
            other => Err(Failed::from(other.to_string())),
        }));
    }
    for p in negative {
        let n = name(&dir, &p);
        trials.push(Trial::test(n, move || {
            let expects_error = std::fs::read_to_string(&p)
                .ok()
                .and_then(|t| TestFile::parse(&t).ok())
                .is_none_or(|t| t.error.is_some() || (t.asm.is_none() && t.raw.is_none()));
            match run_file(&p) {
                Outcome::Refused(_) => Ok(()),
                // A file with a wrong expected result is refused by the mismatch; a file that
                // expects an error must be refused by kfvm itself.
                Outcome::Mismatch { .. } if !expects_error => Ok(()),
                other => Err(Failed::from(format!("not refused: {other}"))),
            }
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
