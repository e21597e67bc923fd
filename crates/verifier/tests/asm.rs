//! Text-assembly verifier tests: `tests/asm/*.s`, kernel pseudo-C with directives in `;`
//! comments (see `asm_support` for the format), one test per file and checker:
//!
//! - `kfvm::NAME`: kfvm's verdict and messages match the annotations; with `; log_level: N` its
//!   log equals `NAME.log` (the kernel's log, map addresses and times normalised); with
//!   `; processed: N` it processed N instructions;
//! - `kernel::NAME`: the live kernel agrees with the same annotations (skipped, saying why, where
//!   `bpf()` is refused). `BLESS=1` rewrites the `.log` files from the kernel's log;
//! - `run::NAME`: an accepted program runs in kfvm-vm's checked interpreter without a memory
//!   fault (`; run: no` opts out).
//!
//! A summary trial prints the agreement between kfvm and the kernel over the whole corpus:
//! verdicts, messages and `processed N insns`.

#[path = "asm_support/mod.rs"]
mod asm_support;

use asm_support::{normalize_log, parse, processed_of, Case};
use kfvm_verifier::{bpf_check_full, VerifyError};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn check_msgs(log: &str, msgs: &[String], who: &str) -> Result<(), Failed> {
    for m in msgs {
        if !log.contains(m.as_str()) {
            return Err(format!("{who}'s log lacks `{m}`:\n{log}").into());
        }
    }
    Ok(())
}

fn log_path(path: &Path) -> PathBuf {
    path.with_extension("log")
}

fn check_kfvm(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    let level = case.log_level.unwrap_or(1);
    let v = bpf_check_full(&case.insns, &case.options(level), None);
    match (&v.result, case.accept) {
        (Ok(()), true) => {}
        (Err(VerifyError::Rejected(_)), false) => {}
        (Ok(()), false) => return Err(format!("kfvm accepted the program:\n{}", v.log).into()),
        (Err(e), _) => return Err(format!("{e}\nlog:\n{}", v.log).into()),
    }
    check_msgs(&v.log, &case.msgs, "kfvm")?;
    if let Some(n) = case.processed {
        if v.stats.insn_processed != n {
            return Err(format!("kfvm processed {} insns, expected {n}", v.stats.insn_processed).into());
        }
    }
    if case.log_level.is_some_and(|l| l & 3 != 0) {
        let want = std::fs::read_to_string(log_path(path))
            .map_err(|e| format!("{}: {e} (BLESS=1 writes it from the kernel)", log_path(path).display()))?;
        let got = normalize_log(&v.log);
        if got != want {
            let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
            let first = w.iter().zip(g.iter()).position(|(a, b)| a != b).unwrap_or(w.len().min(g.len()));
            return Err(format!(
                "kfvm's log differs from {} at line {}:\n  kernel: {}\n  kfvm:   {}\nkfvm's log:\n{got}",
                log_path(path).display(),
                first + 1,
                w.get(first).unwrap_or(&"<end>"),
                g.get(first).unwrap_or(&"<end>")
            )
            .into());
        }
    }
    Ok(())
}

fn check_kernel(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    let level = case.log_level.unwrap_or(1);
    let l = case.kernel_load(level)?;
    match (l.fd.is_some(), case.accept) {
        (true, false) => return Err(format!("the kernel accepted the program:\n{}", l.log).into()),
        (false, true) => return Err(format!("the kernel rejected the program:\n{}", l.log).into()),
        _ => {}
    }
    check_msgs(&l.log, &case.msgs, "the kernel")?;
    if let Some(n) = case.processed {
        if processed_of(&l.log) != Some(n) {
            return Err(format!("the kernel processed {:?} insns, expected {n}", processed_of(&l.log)).into());
        }
    }
    if case.log_level.is_some_and(|l| l & 3 != 0) {
        let norm = normalize_log(&l.log);
        if std::env::var("BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(log_path(path), &norm).map_err(|e| e.to_string())?;
        } else {
            let want = std::fs::read_to_string(log_path(path)).map_err(|e| e.to_string())?;
            if want != norm {
                return Err(
                    format!("the kernel's log differs from {}:\n{norm}", log_path(path).display()).into()
                );
            }
        }
    }
    Ok(())
}

fn check_run(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    if !case.accept || !case.run {
        return Ok(());
    }
    run_support::run_case(&case)
}

mod run_support {
    use super::Case;
    use kfvm_verifier::env::prog_type;
    use kfvm_vm::{HostFns, Interpreter, Program, Region, VmError};
    use libtest_mimic::Failed;

    /// Runs an accepted program in the checked interpreter over a zeroed context (and packet),
    /// with stand-in helpers that return zero or a pointer to a zeroed map value; a memory
    /// fault fails the test.
    pub(super) fn run_case(case: &Case) -> Result<(), Failed> {
        // Maps: each lddw of a map loads the address of its value buffer.
        let mut values: Vec<Vec<u8>> =
            case.maps.iter().map(|m| vec![0u8; m.info.value_size.max(8) as usize]).collect();
        let mut insns = case.insns.clone();
        let mut i = 0;
        while i < insns.len() {
            if insns[i].code == 0x18 && matches!(insns[i].src(), 1 | 2 | 5 | 6) {
                let idx = insns[i].imm as usize;
                let off = if matches!(insns[i].src(), 2 | 6) { insns[i + 1].imm as u64 } else { 0 };
                let addr = values[idx].as_mut_ptr() as u64 + off;
                insns[i].regs &= 0x0f;
                insns[i].imm = addr as u32 as i32;
                insns[i + 1].imm = (addr >> 32) as i32;
                i += 1;
            }
            i += 1;
        }
        let mut host = HostFns::new();
        for id in 1..212 {
            host.helper(id, helper_stub);
        }
        let prog = match Program::load(&insns, &host) {
            Ok(p) => p,
            Err(e) => return Err(format!("the interpreter refused the program: {e}").into()),
        };
        // XDP's `data`/`data_end` are 32-bit fields: the packet must sit below 4 GiB.
        let packet = LowPacket::new();
        let mut ctx = vec![0u8; 256];
        let pkt = packet.0 as u64;
        if case.prog_type == prog_type::XDP {
            ctx[0..4].copy_from_slice(&(pkt as u32).to_le_bytes());
            ctx[4..8].copy_from_slice(&((pkt + 64) as u32).to_le_bytes());
            ctx[8..12].copy_from_slice(&(pkt as u32).to_le_bytes());
        }
        let mut regions = vec![Region::writable(&mut ctx), Region { start: pkt, len: 64, writable: true }];
        for v in values.iter_mut() {
            regions.push(Region::writable(v));
        }
        let mut vm = Interpreter::new();
        vm.set_budget(10_000_000);
        let ctx_addr = regions[0].start;
        match vm.run(&prog, &[ctx_addr], &regions, core::ptr::null_mut()) {
            Ok(_) => Ok(()),
            Err(VmError::BudgetExhausted { .. }) => Ok(()),
            Err(e) => Err(format!("the checked interpreter stopped the program: {e}").into()),
        }
    }

    /// 64 zeroed bytes mapped below 4 GiB.
    struct LowPacket(*mut libc::c_void);

    impl LowPacket {
        fn new() -> LowPacket {
            // SAFETY: a fresh anonymous private mapping.
            let p = unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    4096,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                    -1,
                    0,
                )
            };
            assert!(p != libc::MAP_FAILED && (p as u64) < 1 << 32, "cannot map a packet below 4 GiB");
            LowPacket(p)
        }
    }

    impl Drop for LowPacket {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`.
            unsafe { libc::munmap(self.0, 4096) };
        }
    }

    extern "C" fn helper_stub(
        _ctx: &mut kfvm_vm::CallCtx,
        _r1: u64,
        _r2: u64,
        _r3: u64,
        _r4: u64,
        _r5: u64,
    ) -> u64 {
        0
    }
}

fn summary(files: &[PathBuf]) -> Result<(), Failed> {
    let (mut n, mut verdicts, mut msgs, mut proc_eq, mut proc_n) = (0, 0, 0, 0, 0);
    let (mut errno_eq, mut errno_n) = (0, 0);
    let mut diffs = Vec::new();
    for f in files {
        let Ok(case) = parse(f) else { continue };
        let level = case.log_level.unwrap_or(1);
        let Ok(l) = case.kernel_load(level) else { continue };
        let v = bpf_check_full(&case.insns, &case.options(level), None);
        n += 1;
        let k_acc = l.fd.is_some();
        let f_acc = v.result.is_ok();
        let name = f.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        if k_acc == f_acc && !matches!(v.result, Err(VerifyError::Unsupported(_))) {
            verdicts += 1;
        } else {
            diffs.push(format!("{name}: verdict kernel={k_acc} kfvm={:?}", v.result.as_ref().err()));
        }
        if let (Some(ke), Err(VerifyError::Rejected(r))) = (l.errno, &v.result) {
            errno_n += 1;
            if ke == r.errno.raw() {
                errno_eq += 1;
            } else {
                diffs.push(format!("{name}: errno kernel={ke} kfvm={}", r.errno.raw()));
            }
        }
        // The kernel's last error line (before the statistics) must be in kfvm's log.
        let last = l.log.lines().rev().find(|x| !x.starts_with("processed ") && !x.is_empty()).unwrap_or("");
        if k_acc || v.log.contains(last) {
            msgs += 1;
        } else {
            diffs.push(format!("{name}: message `{last}` not in kfvm's log"));
        }
        if let Some(kp) = processed_of(&l.log) {
            proc_n += 1;
            if kp == v.stats.insn_processed {
                proc_eq += 1;
            } else {
                diffs.push(format!("{name}: processed kernel={kp} kfvm={}", v.stats.insn_processed));
            }
        }
    }
    eprintln!(
        "corpus: {n} programs; verdicts agree {verdicts}/{n}; errno agree {errno_eq}/{errno_n}; error messages agree {msgs}/{n}; processed insns agree {proc_eq}/{proc_n}"
    );
    for d in &diffs {
        eprintln!("  {d}");
    }
    Ok(())
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
    for f in &files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let (f1, f2, f3) = (f.clone(), f.clone(), f.clone());
        trials.push(Trial::test(format!("kfvm::{name}"), move || check_kfvm(&f1)));
        trials.push(Trial::test(format!("run::{name}"), move || check_run(&f3)));
        match &kernel {
            Ok(()) => trials.push(Trial::test(format!("kernel::{name}"), move || check_kernel(&f2))),
            Err(why) => trials.push(
                Trial::test(format!("kernel::{name} (skipped: {why})"), || Ok(())).with_ignored_flag(true),
            ),
        }
    }
    match &kernel {
        Ok(()) => {
            let fs = files.clone();
            trials.push(Trial::test("summary::agreement", move || summary(&fs)));
        }
        Err(why) => trials.push(
            Trial::test(format!("summary::agreement (skipped: {why})"), || Ok(())).with_ignored_flag(true),
        ),
    }
    libtest_mimic::run(&args, trials).exit();
}
