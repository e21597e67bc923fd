//! `kfvm verify`: every program of an object through the verifier, against the kernel model.

use crate::json::js;
use std::path::Path;
use std::process::ExitCode;

use kfvm::kernel::ModelSpec;
use kfvm::verify::{Caps, ProgramVerdict, Verdict, VerifyOptions};

/// Exit status when kfvm cannot decide for a program (and none was rejected).
pub(crate) const EXIT_UNDECIDED: u8 = 3;

/// What `kfvm verify` was asked.
pub(crate) struct Args<'a> {
    pub(crate) obj: &'a Path,
    pub(crate) prog: Option<&'a str>,
    pub(crate) log_level: u32,
    pub(crate) json: bool,
    pub(crate) model: Option<&'a Path>,
    pub(crate) deny_deprecated: bool,
    pub(crate) hints: bool,
    pub(crate) caps: &'a [String],
    pub(crate) no_caps: &'a [String],
    pub(crate) repeat: u32,
}

pub(crate) fn cmd_verify(a: &Args<'_>) -> Result<ExitCode, String> {
    let mut caps = Caps::default();
    for c in a.no_caps {
        caps.set(c, false)?;
    }
    for c in a.caps {
        caps.set(c, true)?;
    }
    let spec = match a.model {
        Some(p) => ModelSpec::load(p).map_err(|e| e.to_string())?,
        None => ModelSpec::snapshot(),
    };
    let bytes = std::fs::read(a.obj).map_err(|e| format!("{}: {e}", a.obj.display()))?;
    let opts = VerifyOptions {
        file_name: a.obj.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        prog: a.prog.map(str::to_string),
        log_level: a.log_level,
        caps,
        deny_deprecated: a.deny_deprecated,
        hints: a.hints,
        nr_cpu_ids: spec.cpus.max(1),
    };
    let verifier = kfvm::verify::Verifier::builtin().map_err(|e| e.to_string())?;
    let linked = verifier.link(&bytes, &opts.file_name).map_err(|e| with_path(e.to_string(), a.obj))?;
    let mut verdicts = verifier.verify_linked(&linked, &opts).map_err(|e| with_path(e.to_string(), a.obj))?;
    if a.repeat > 1 {
        // Timing: verify each program `repeat` times and keep the fastest run.
        for v in verdicts.iter_mut() {
            let Some(p) = linked.program(&v.name) else { continue };
            for _ in 1..a.repeat {
                let again = verifier.verify_program(&linked, p, &opts);
                v.duration = v.duration.min(again.duration);
            }
        }
    }
    let mut out = String::new();
    for v in &verdicts {
        if a.json {
            out.push_str(&json_line(v, a.repeat > 1));
            out.push('\n');
        } else {
            out.push_str(&text(v, a.log_level, a.repeat > 1));
        }
    }
    print!("{out}");
    Ok(exit_code(&verdicts))
}

/// The object's path in front of messages that name only its file name.
fn with_path(msg: String, path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match msg.strip_prefix(&format!("{name}: ")) {
        Some(rest) => format!("{}: {rest}", path.display()),
        None => msg,
    }
}

/// 1 when a program is rejected; else 2 when one could not be loaded; else 3 when kfvm cannot
/// decide for one; else 0.
fn exit_code(verdicts: &[ProgramVerdict]) -> ExitCode {
    let any = |f: fn(&Verdict) -> bool| verdicts.iter().any(|v| f(&v.verdict));
    if any(|v| matches!(v, Verdict::Reject { .. })) {
        ExitCode::FAILURE
    } else if any(|v| matches!(v, Verdict::LoadFailed(_))) {
        ExitCode::from(2)
    } else if any(|v| matches!(v, Verdict::Unsupported(_) | Verdict::Internal(_))) {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

fn text(v: &ProgramVerdict, log_level: u32, timed: bool) -> String {
    let mut s = String::new();
    if log_level != 0 && !v.log.is_empty() {
        s.push_str(&v.log);
        if !v.log.ends_with('\n') {
            s.push('\n');
        }
    }
    if log_level == 0 {
        // The log (level 1 and up) has them already.
        for w in &v.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
    }
    s.push_str(&format!("{}: {}", v.name, v.verdict));
    if timed {
        s.push_str(&format!(" ({} usec)", v.duration.as_micros()));
    }
    s.push('\n');
    if let Verdict::Reject { .. } = v.verdict {
        for l in &v.error {
            s.push_str(&format!("  {l}\n"));
        }
        for h in &v.hints {
            s.push_str(&format!("  hint: {h}\n"));
        }
    }
    s
}

fn json_line(v: &ProgramVerdict, timed: bool) -> String {
    let errors: Vec<String> = v.error.iter().map(|l| js(l)).collect();
    let mut s = format!(
        "{{\"program\":{},\"section\":{},\"verdict\":{},\"error\":[{}],\"insns_processed\":{}",
        js(&v.name),
        js(&v.section),
        js(v.verdict.as_str()),
        errors.join(","),
        v.insns_processed
    );
    if let Verdict::Reject { errno } = v.verdict {
        s.push_str(&format!(",\"errno\":{errno}"));
    }
    if let Verdict::Unsupported(why) | Verdict::Internal(why) | Verdict::LoadFailed(why) = &v.verdict {
        s.push_str(&format!(",\"reason\":{}", js(why)));
    }
    s.push_str(&format!(
        ",\"max_states_per_insn\":{},\"total_states\":{},\"peak_states\":{}",
        v.stats.max_states_per_insn, v.stats.total_states, v.stats.peak_states
    ));
    if !v.warnings.is_empty() {
        let w: Vec<String> = v.warnings.iter().map(|l| js(l)).collect();
        s.push_str(&format!(",\"warnings\":[{}]", w.join(",")));
    }
    if !v.hints.is_empty() {
        let h: Vec<String> = v.hints.iter().map(|l| js(l)).collect();
        s.push_str(&format!(",\"hints\":[{}]", h.join(",")));
    }
    if timed {
        s.push_str(&format!(",\"verification_usec\":{}", v.duration.as_micros()));
    }
    if !v.log.is_empty() {
        s.push_str(&format!(",\"log\":{}", js(&v.log)));
    }
    s.push('}');
    s
}
