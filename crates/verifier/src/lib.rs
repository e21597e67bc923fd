//! The verifier: Linux 6.18's static analysis of BPF programs (`bpf_check` in
//! kernel/bpf/verifier.c), deciding like the kernel and saying so with the kernel's messages.
//!
//! # Passes, in the kernel's order
//!
//! 1. [`cfg::add_subprog_and_kfunc`]: subprogram boundaries from bpf-to-bpf calls and callback
//!    addresses; kfunc call sites.
//! 2. [`cfg::check_subprogs`]: jumps stay inside their subprogram; no fall-through between
//!    subprograms.
//! 3. [`resolve_pseudo_ldimm64`]: `lddw` forms and the opcode table.
//! 4. [`cfg::check_cfg`]: reachability, jumps into `lddw`, loops for unprivileged loaders, prune
//!    points.
//! 5. `do_check`: the path-exploring walk — not in kfvm yet; [`bpf_check`] reports
//!    [`VerifyError::Unsupported`] for programs that pass the passes above.
//!
//! # Errors
//!
//! [`VerifyError::Rejected`] is the kernel's verdict and message; [`VerifyError::Unsupported`]
//! means kfvm cannot decide yet; [`VerifyError::Internal`] is a kfvm bug. The log
//! ([`log::VerifierLog`]) is written in the kernel's format.

#![deny(missing_docs)]

pub mod cfg;
pub mod error;
pub mod helpers;
pub mod log;
pub mod scalar;
pub mod tnum;

pub use error::{Errno, Rejection, Result, VerifyError};
use kfvm_isa::RawInsn;
use log::VerifierLog;

/// Whether an opcode is one the kernel's interpreter table knows (`bpf_opcode_in_insntable`):
/// every form of kfvm's opcode table except the conformance suite's `callx`.
pub fn bpf_opcode_in_insntable(code: u8) -> bool {
    kfvm_isa::opcode::forms_of(code).any(|f| f.group != kfvm_isa::opcode::Group::Callx)
}

/// Mirrors the structural checks of `resolve_pseudo_ldimm64()`: `BPF_LDX` modes, the second slot
/// of every `lddw`, the `lddw` pseudo sources, and unknown opcodes. (Map and BTF-id resolution is
/// the loader's.)
pub fn resolve_pseudo_ldimm64(insns: &[RawInsn], log: &mut VerifierLog) -> Result<()> {
    let fail = |log: &mut VerifierLog, i: usize, msg: String| {
        verbose!(log, "{msg}\n");
        Err(VerifyError::reject(Errno::Inval, Some(i), msg))
    };
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        if insn.code & 7 == kfvm_isa::opcode::class::LDX
            && (!matches!(insn.code & 0xe0, 0x60 | 0x80) || insn.imm != 0)
        {
            return fail(log, i, "BPF_LDX uses reserved fields".into());
        }
        if insn.code == 0x18 {
            let next = insns.get(i + 1);
            if next.is_none_or(|n| n.code != 0 || n.regs != 0 || n.off != 0) {
                return fail(log, i, "invalid bpf_ld_imm64 insn".into());
            }
            let ok = match insn.src() {
                0..=4 => insn.src() != 1 || next.is_some_and(|n| n.imm == 0),
                5 => next.is_some_and(|n| n.imm == 0),
                6 => true,
                _ => false,
            };
            if !ok {
                return fail(log, i, "unrecognized bpf_ld_imm64 insn".into());
            }
            i += 2;
            continue;
        }
        if !bpf_opcode_in_insntable(insn.code) {
            return fail(log, i, format!("unknown opcode {:02x}", insn.code));
        }
        i += 1;
    }
    Ok(())
}

/// What the caller of [`bpf_check`] controls.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// The loader has `CAP_BPF` (or `CAP_SYS_ADMIN`): bpf-to-bpf calls, kfuncs and loops allowed.
    pub bpf_capable: bool,
    /// Log level (see [`log`]).
    pub log_level: u32,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { bpf_capable: true, log_level: 0 }
    }
}

/// Verifies `insns`, returning the verdict and the log.
pub fn bpf_check(insns: &[RawInsn], opts: CheckOptions) -> (Result<()>, String) {
    let mut log = VerifierLog::new(opts.log_level);
    let r = run_passes(insns, opts, &mut log);
    (r, log.into_string())
}

fn run_passes(insns: &[RawInsn], opts: CheckOptions, log: &mut VerifierLog) -> Result<()> {
    if insns.is_empty() {
        return Err(VerifyError::reject(Errno::Inval, None, "program has no instructions"));
    }
    let (mut subprogs, _kfunc_calls) = cfg::add_subprog_and_kfunc(insns, opts.bpf_capable, log)?;
    cfg::check_subprogs(insns, &mut subprogs, log)?;
    resolve_pseudo_ldimm64(insns, log)?;
    let _cfg = cfg::check_cfg(insns, opts.bpf_capable, log)?;
    Err(VerifyError::Unsupported("the path walk (do_check) is not implemented".into()))
}
