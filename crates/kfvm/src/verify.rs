//! Verification of a whole object against the kernel model: [`verify_object`] reads an ELF
//! object, links it against the model's host BTF as libbpf would load it, and verifies each
//! program as the kernel's `BPF_PROG_LOAD` would see it
//! ([`kfvm_runtime::verify::check_options`]), giving a [`ProgramVerdict`] per program.
//!
//! ```no_run
//! let bytes = std::fs::read("prog.bpf.o").unwrap();
//! for v in kfvm::verify::verify_object(&bytes, &Default::default()).unwrap() {
//!     println!("{}: {}", v.name, v.verdict);
//! }
//! ```

use kfvm_kfunc::KfuncRegistry;
use kfvm_link::{LinkedObject, LinkedProgram, Target};
use kfvm_runtime::verify::{check_options, unmodelled_context, BtfNames, VerifyEnv};
pub use kfvm_runtime::verify::{Caps, OptionsError};
use kfvm_verifier::{Stats, VerifyError};
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What [`verify_object`] is asked.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The object's file name (libbpf names the object after it: `dir/x.bpf.o` is `x`).
    pub file_name: String,
    /// Only the program with this name (an unknown name is a [`LoadError::UnknownProgram`]).
    pub prog: Option<String>,
    /// Verifier log level (0, 1, 2, with 4 for the statistics).
    pub log_level: u32,
    /// The loader's capabilities (default: root).
    pub caps: Caps,
    /// kfvm's rule: calls of `KF_DEPRECATED` kfuncs are refused instead of warned about.
    pub deny_deprecated: bool,
    /// `nr_cpu_ids` of the kernel model.
    pub nr_cpu_ids: u32,
    /// kfvm's hints: one `hint:` line after the kernel's message of a rejection, in the log
    /// and in [`ProgramVerdict::hints`] (kept out of logs compared with the kernel's).
    pub hints: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            file_name: "prog.bpf.o".into(),
            prog: None,
            log_level: 0,
            caps: Caps::default(),
            deny_deprecated: false,
            nr_cpu_ids: 2,
            hints: false,
        }
    }
}

/// Why an object could not be verified at all.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum LoadError {
    /// The ELF object is unreadable or malformed.
    #[error("{file}: {message}")]
    Object {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The object could not be linked against the kernel model (libbpf would fail the load).
    #[error("{file}: {message}")]
    Link {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The selected program is not in the object.
    #[error("{file}: no program named `{prog}` (programs: {known})")]
    UnknownProgram {
        /// The file.
        file: String,
        /// The name asked for.
        prog: String,
        /// The object's programs, comma-separated.
        known: String,
    },
    /// The kernel model could not be built (a kfvm bug).
    #[error("kernel model: {0}")]
    Model(String),
}

/// The verdict on one program.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// The verifier accepts the program.
    Accept,
    /// The verifier rejects it, with this `errno`, as the kernel would.
    Reject {
        /// The errno `BPF_PROG_LOAD` would fail with.
        errno: i32,
    },
    /// kfvm cannot decide yet (why): neither accepted nor rejected.
    Unsupported(String),
    /// A kfvm bug.
    Internal(String),
    /// The program could not be prepared for loading (its relocation failed, a map of it would
    /// not be created): what libbpf or `BPF_MAP_CREATE` would have refused.
    LoadFailed(String),
}

impl Verdict {
    /// `accept`, `reject`, `unsupported`, `internal`, `load_failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject { .. } => "reject",
            Verdict::Unsupported(_) => "unsupported",
            Verdict::Internal(_) => "internal",
            Verdict::LoadFailed(_) => "load_failed",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => f.write_str("accepted"),
            Verdict::Reject { .. } => f.write_str("rejected"),
            Verdict::Unsupported(why) => write!(f, "unsupported: {why}"),
            Verdict::Internal(why) => write!(f, "internal verifier error (a kfvm bug): {why}"),
            Verdict::LoadFailed(why) => write!(f, "load failed: {why}"),
        }
    }
}

/// One program's verification.
#[derive(Clone, Debug)]
pub struct ProgramVerdict {
    /// The program (its function name).
    pub name: String,
    /// Its section.
    pub section: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The kernel-style error lines: the lines the kernel prints at the end of the log for a
    /// rejection (the message and what follows it, before the statistics); the reason for
    /// the other verdicts that are not acceptances; empty when accepted.
    pub error: Vec<String>,
    /// The log at the requested level.
    pub log: String,
    /// `processed N insns`.
    pub insns_processed: u32,
    /// The statistics.
    pub stats: Stats,
    /// How long `bpf_check` took.
    pub duration: Duration,
    /// kfvm's warnings (calls of deprecated kfuncs), whatever the log level.
    pub warnings: Vec<String>,
    /// kfvm's hints for a rejection (with [`VerifyOptions::hints`]).
    pub hints: Vec<String>,
}

impl ProgramVerdict {
    /// A verdict for program `name` in `section`, nothing measured or said yet.
    fn new(name: &str, section: &str, verdict: Verdict) -> ProgramVerdict {
        ProgramVerdict {
            name: name.to_string(),
            section: section.to_string(),
            verdict,
            error: Vec::new(),
            log: String::new(),
            insns_processed: 0,
            stats: Stats::default(),
            duration: Duration::ZERO,
            warnings: Vec::new(),
            hints: Vec::new(),
        }
    }
}

/// Verifies objects against one kernel model: its registry, and its host BTF parsed once.
#[derive(Debug)]
pub struct Verifier {
    registry: KfuncRegistry,
    target: Target,
}

impl Verifier {
    /// A verifier for the built-in kernel model.
    pub fn builtin() -> Result<Verifier, LoadError> {
        Verifier::new(kfvm_kernel::registry())
    }

    /// A verifier for the kernel model of `registry`.
    pub fn new(registry: KfuncRegistry) -> Result<Verifier, LoadError> {
        let target =
            Target::from_registry(&registry).map_err(|e| LoadError::Model(format!("host BTF: {e}")))?;
        Ok(Verifier { registry, target })
    }

    /// The registry.
    pub fn registry(&self) -> &KfuncRegistry {
        &self.registry
    }

    /// The link target (the host BTF).
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Reads and links `bytes` (an ELF object) against the model.
    pub fn link(&self, bytes: &[u8], file_name: &str) -> Result<LinkedObject, LoadError> {
        let obj = kfvm_object::Object::parse(bytes, file_name)
            .map_err(|e| LoadError::Object { file: file_name.into(), message: e.to_string() })?;
        kfvm_link::link(&obj, &self.target)
            .map_err(|e| LoadError::Link { file: file_name.into(), message: e.to_string() })
    }

    /// Verifies the programs of `bytes` (or only `opts.prog`).
    pub fn verify_object(
        &self,
        bytes: &[u8],
        opts: &VerifyOptions,
    ) -> Result<Vec<ProgramVerdict>, LoadError> {
        let linked = self.link(bytes, &opts.file_name)?;
        self.verify_linked(&linked, opts)
    }

    /// Verifies the programs of an already linked object (or only `opts.prog`).
    pub fn verify_linked(
        &self,
        linked: &LinkedObject,
        opts: &VerifyOptions,
    ) -> Result<Vec<ProgramVerdict>, LoadError> {
        if let Some(name) = &opts.prog {
            if let Some(p) = linked.program(name) {
                return Ok(vec![self.verify_program(linked, p, opts)]);
            }
            if let Some((_, e)) = linked.failed.iter().find(|(n, _)| n == name) {
                return Err(LoadError::Link { file: opts.file_name.clone(), message: e.to_string() });
            }
            let mut known: Vec<&str> = linked.programs.iter().map(|p| p.name.as_str()).collect();
            known.extend(linked.failed.iter().map(|(n, _)| n.as_str()));
            return Err(LoadError::UnknownProgram {
                file: opts.file_name.clone(),
                prog: name.clone(),
                known: known.join(", "),
            });
        }
        let mut out: Vec<ProgramVerdict> =
            linked.programs.iter().map(|p| self.verify_program(linked, p, opts)).collect();
        for (name, e) in &linked.failed {
            let mut v = ProgramVerdict::new(name, "", Verdict::LoadFailed(e.to_string()));
            v.error = vec![e.to_string()];
            out.push(v);
        }
        Ok(out)
    }

    /// Verifies one program of `linked`.
    pub fn verify_program(
        &self,
        linked: &LinkedObject,
        p: &LinkedProgram,
        opts: &VerifyOptions,
    ) -> ProgramVerdict {
        let env = VerifyEnv {
            registry: &self.registry,
            nr_cpu_ids: opts.nr_cpu_ids,
            caps: opts.caps,
            log_level: opts.log_level,
            deny_deprecated: opts.deny_deprecated,
            hints: opts.hints,
        };
        let mut v = ProgramVerdict::new(&p.name, &p.section, Verdict::Accept);
        let copts = match check_options(linked, p, &env) {
            Ok(o) => o,
            Err(e) => {
                v.error = vec![e.to_string()];
                v.verdict = Verdict::LoadFailed(e.0);
                return v;
            }
        };
        if let Some(why) = unmodelled_context(copts.prog_type) {
            v.error = vec![why.clone()];
            v.verdict = Verdict::Unsupported(why);
            return v;
        }
        let names = BtfNames::of(linked);
        let start = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            kfvm_verifier::bpf_check_full(&p.insns, &copts, Some(&names))
        }));
        v.duration = start.elapsed();
        let checked = match r {
            Ok(c) => c,
            Err(e) => {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                v.verdict = Verdict::Internal(format!("the verifier panicked: {why}"));
                v.error = vec![format!("the verifier panicked: {why}")];
                return v;
            }
        };
        v.log = checked.log;
        v.warnings = checked.warnings;
        if opts.hints {
            v.hints = checked.hints;
        }
        v.insns_processed = checked.stats.insn_processed;
        v.stats = checked.stats;
        match checked.result {
            Ok(()) => {}
            Err(VerifyError::Rejected(r)) => {
                v.verdict = Verdict::Reject { errno: r.errno.raw() };
                // As libbpf does after a failed load at level 0: load again with a log, for the
                // error lines.
                let tail_log = if opts.log_level == 0 {
                    let mut o = copts.clone();
                    o.log_level = 1;
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        kfvm_verifier::bpf_check_full(&p.insns, &o, Some(&names)).log
                    }))
                    .unwrap_or_default()
                } else {
                    v.log.clone()
                };
                v.error = error_lines(&tail_log, &r.message);
                // kfvm's warnings follow the message in the log; the verdict has them apart.
                v.error.retain(|l| !l.starts_with("warning: ") && !l.starts_with("hint: "));
            }
            Err(VerifyError::Unsupported(why)) => {
                v.error = vec![why.clone()];
                v.verdict = Verdict::Unsupported(why);
            }
            Err(VerifyError::Internal(why)) => {
                v.error = vec![why.clone()];
                v.verdict = Verdict::Internal(why);
            }
        }
        v
    }
}

/// The error lines at the end of a rejection's log: from the last line where `message` starts
/// to the statistics lines (`verification time`, `stack depth`, `processed`), with the lines the
/// kernel prints just before it about the same error (`Unreleased reference id=2 alloc_insn=1`
/// before `... would lead to reference leak`; `invalid access to map value, ...` before `R1 min
/// value is outside ...`); `message` itself when the log does not hold it.
pub fn error_lines(log: &str, message: &str) -> Vec<String> {
    let mut lines: Vec<&str> = log.lines().collect();
    while let Some(l) = lines.last() {
        if l.is_empty()
            || l.starts_with("processed ")
            || l.starts_with("verification time ")
            || l.starts_with("stack depth ")
        {
            lines.pop();
        } else {
            break;
        }
    }
    let first = message.lines().next().unwrap_or("");
    if !first.is_empty() {
        if let Some(mut i) = lines.iter().rposition(|l| l.contains(first)) {
            // At most a few lines back, and never into the walk's own lines.
            let floor = i.saturating_sub(4);
            while i > floor && is_error_context(lines[i - 1]) {
                i -= 1;
            }
            return lines[i..].iter().map(|s| s.to_string()).collect();
        }
    }
    message.lines().map(str::to_string).collect()
}

/// Whether a log line can belong to an error message: not an instruction or state line
/// (`12: (85) call ...`, `12: R0=...`), a source line (`; x = 1 @ f.c:3`), a branch line
/// (`from 3 to 7: ...`), precision tracking, or kfvm's own warnings and hints.
fn is_error_context(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let numbered = digits > 0 && line[digits..].starts_with(':');
    !(line.is_empty()
        || numbered
        || line.starts_with("; ")
        || line.starts_with("from ")
        || line.starts_with("mark_precise:")
        || line.starts_with("last_idx ")
        || line.starts_with("frame")
        || line.starts_with("func#")
        || line.starts_with("Func#")
        || line.starts_with("Validating ")
        || line.starts_with("Live regs")
        || line.starts_with("warning: ")
        || line.starts_with("hint: "))
}

/// Verifies the programs of `bytes` against the built-in kernel model (its registry and host BTF
/// built once per process).
pub fn verify_object(bytes: &[u8], options: &VerifyOptions) -> Result<Vec<ProgramVerdict>, LoadError> {
    static BUILTIN: OnceLock<Result<Arc<Verifier>, LoadError>> = OnceLock::new();
    let v = BUILTIN.get_or_init(|| Verifier::builtin().map(Arc::new)).clone()?;
    v.verify_object(bytes, options)
}

#[cfg(test)]
mod error_line_tests {
    use super::error_lines;

    #[test]
    fn a_leak_keeps_the_unreleased_reference_line() {
        let log = "8: (b7) r0 = 0                        ; R0=0 refs=2
9: (95) exit
Unreleased reference id=2 alloc_insn=1
BPF_EXIT instruction in main prog would lead to reference leak
hint: release it
processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
";
        assert_eq!(
            error_lines(log, "BPF_EXIT instruction in main prog would lead to reference leak"),
            [
                "Unreleased reference id=2 alloc_insn=1",
                "BPF_EXIT instruction in main prog would lead to reference leak",
                "hint: release it"
            ]
        );
    }

    #[test]
    fn an_error_right_after_its_instruction_is_one_line() {
        let log = "; return t->pid; @ x.c:3
2: (61) r0 = *(u32 *)(r6 +1240)
R6 invalid mem access 'ptr_or_null_'
processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
";
        assert_eq!(
            error_lines(log, "R6 invalid mem access 'ptr_or_null_'"),
            ["R6 invalid mem access 'ptr_or_null_'"]
        );
    }

    #[test]
    fn multi_line_errors_and_missing_messages() {
        let log = "5: (79) r0 = *(u64 *)(r0 +8)
invalid access to map value, value_size=8 off=8 size=8
R0 min value is outside of the allowed memory range
";
        assert_eq!(
            error_lines(log, "R0 min value is outside of the allowed memory range"),
            [
                "invalid access to map value, value_size=8 off=8 size=8",
                "R0 min value is outside of the allowed memory range"
            ]
        );
        assert_eq!(error_lines("", "unknown opcode 8d"), ["unknown opcode 8d"]);
    }
}
