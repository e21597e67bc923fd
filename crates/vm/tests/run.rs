//! Text-assembly run tests: `tests/run/*.s`, kernel pseudo-C with directives in `;` comments.
//!
//! ```text
//! ; result: 0x2a              expected R0 (64 bits) after the run
//! ; ctx: 01 02 03             optional input memory: R1 points to it (R2 holds its length)
//! ; ctx-after: 01 02 2a       optional expected memory after the run
//! r0 = 42
//! exit
//! ```
//!
//! Each file runs in the interpreter, checked and verified. Where `bpf()` works (root on Linux),
//! each file also runs on the live kernel as a `BPF_PROG_TYPE_SYSCALL` program with the memory as
//! its context: the kernel must accept it, return the low 32 bits of the expected R0, and leave
//! the same memory. Elsewhere those trials are ignored, and their name says why.
//!
//! `BLESS=1` rewrites `; result:` and `; ctx-after:` from kfvm's run; the kernel trials are what
//! keep those values honest, so bless on a machine where they run.

use kfvm_isa::asm::assemble_raw;
use kfvm_isa::disasm::NoSymbols;
use kfvm_isa::RawInsn;
use kfvm_vm::{HostFns, Interpreter, Program, Region};
use libtest_mimic::{Arguments, Failed};
use std::path::Path;

struct Case {
    insns: Vec<RawInsn>,
    result: u64,
    ctx: Vec<u8>,
    ctx_after: Option<Vec<u8>>,
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).map_err(|_| format!("bad byte `{b}`"))).collect()
}

fn parse(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (mut result, mut ctx, mut ctx_after) = (None, Vec::new(), None);
    for line in text.lines() {
        let Some(d) = line.trim().strip_prefix(';') else { continue };
        let d = d.trim();
        if let Some(v) = d.strip_prefix("result:") {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => v.parse::<i64>().ok().map(|v| v as u64),
            };
            result = Some(parsed.ok_or_else(|| format!("bad result `{v}`"))?);
        } else if let Some(v) = d.strip_prefix("ctx-after:") {
            ctx_after = Some(hex_bytes(v)?);
        } else if let Some(v) = d.strip_prefix("ctx:") {
            ctx = hex_bytes(v)?;
        }
    }
    let insns = assemble_raw(&text, &NoSymbols).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Case { insns, result: result.ok_or("no `; result:` line")?, ctx, ctx_after })
}

fn run_kfvm(case: &Case, verified: bool) -> Result<(u64, Vec<u8>), String> {
    let prog = Program::load(&case.insns, &HostFns::new()).map_err(|e| e.to_string())?;
    let mut mem = case.ctx.clone();
    let r = Region::writable(&mut mem);
    let (args, regions) =
        if case.ctx.is_empty() { (vec![], vec![]) } else { (vec![r.start, r.len], vec![r]) };
    let mut vm = Interpreter::new();
    let r0 = if verified {
        // SAFETY: the test programs are accepted by the kernel verifier (checked by the kernel
        // trials where bpf() works) and run in checked mode first.
        unsafe { vm.run_verified(&prog, &args, &regions, std::ptr::null_mut()) }
    } else {
        vm.run(&prog, &args, &regions, std::ptr::null_mut())
    }
    .map_err(|e| e.to_string())?;
    Ok((r0, mem))
}

/// `BLESS=1`: rewrite the file's `; result:` and `; ctx-after:` lines with what kfvm computes.
/// The kernel trials then check kfvm against the live kernel.
fn bless(path: &Path, case: &Case) -> Result<(), Failed> {
    let (r0, mem) = run_kfvm(case, false)?;
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for line in text.lines() {
        let d = line.trim().strip_prefix(';').map(str::trim).unwrap_or("");
        if d.starts_with("ctx-after:") {
            continue;
        }
        if d.starts_with("result:") {
            out.push_str(&format!("; result: {r0:#x}\n"));
            if !mem.is_empty() {
                let hex: Vec<String> = mem.iter().map(|b| format!("{b:02x}")).collect();
                out.push_str(&format!("; ctx-after: {}\n", hex.join(" ")));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| e.to_string())?;
    Ok(())
}

fn check_kfvm(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    if std::env::var_os("BLESS").is_some() {
        return bless(path, &case);
    }
    // Checked first: a bad test program must not reach the unchecked mode.
    for verified in [false, true] {
        let (r0, mem) = run_kfvm(&case, verified)?;
        let mode = if verified { "verified" } else { "checked" };
        if r0 != case.result {
            return Err(format!("{mode}: r0 = {r0:#x}, expected {:#x}", case.result).into());
        }
        if let Some(after) = &case.ctx_after {
            if &mem != after {
                return Err(
                    format!("{mode}: memory after the run is {mem:02x?}, expected {after:02x?}").into()
                );
            }
        }
    }
    Ok(())
}

fn check_kernel(path: &Path) -> Result<(), Failed> {
    let case = parse(path)?;
    let loaded = kfvm_oracle::load(kfvm_oracle::prog_type::SYSCALL, &case.insns, kfvm_oracle::F_SLEEPABLE, 1);
    let Some(fd) = loaded.fd else {
        return Err(format!("the kernel refused the program:\n{}", loaded.log).into());
    };
    let (retval, ctx) = kfvm_oracle::test_run_syscall(&fd, &case.ctx).map_err(|e| e.to_string())?;
    if retval != case.result as u32 {
        return Err(format!("kernel returned {retval:#x}, expected {:#x}", case.result as u32).into());
    }
    let (_, mem) = run_kfvm(&case, false)?;
    if ctx != mem {
        return Err(format!("memory after the run: kernel {ctx:02x?}, kfvm {mem:02x?}").into());
    }
    Ok(())
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run");
    let trials = kfvm_oracle::file_trials(&dir, "s", check_kfvm, check_kernel);
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
