//! The C verifier corpus: `tests/verifier/*.bpf.o` and the repository's `examples/kfuncs/*.bpf.o`
//! (BPF C in the kernel selftests' style, built
//! by `tests/verifier/build.sh` against the kernel model's `vmlinux.h`), with the annotations of
//! `tests/verifier/include/kfvm_misc.h` read from the object's BTF decl tags. One trial per
//! program and checker:
//!
//! - `kfvm::FILE::PROG`: kfvm's verdict (`__success`/`__failure`) and every `__msg` (in order,
//!   each after the previous one, as the kernel's test loader matches them) and `__kfvm_msg` in
//!   kfvm's log at the program's `__log_level` (a rejection at level 0 is verified again at level
//!   1, as libbpf does, for its log). `__kfvm_todo("why")` makes the trial expect
//!   `VerifyError::Unsupported` instead, and fail once kfvm decides, so the tag gets removed.
//!   kfvm verifies with its hints on: a `hint:` line follows the kernel's message.
//! - `kernel::FILE::PROG`: the same object linked against the live kernel's BTF by kfvm-link,
//!   its maps and BTF created and the program loaded by `kfvm_oracle::object`; the kernel's
//!   verdict, its log holds every `__msg`, and `__retval` (syscall and XDP programs) holds for a
//!   `BPF_PROG_TEST_RUN`. Skipped, saying why, where `bpf()` is refused, and for `__kfvm_only`
//!   programs (kfuncs only kfvm's model has).
//! - `run::FILE::PROG`: a program expected to verify runs once in the interpreter's checked mode
//!   on the kernel model of `tests/verifier/model.toml` (syscall programs with an empty context,
//!   XDP programs on a 64-byte IPv4 packet, others with their `__kfvm_run_arg`s): no fault, and
//!   `__retval` if given.
//!
//! Programs tagged `__kfvm_whole_log` have their whole log compared: kfvm's log at the
//! program's `__log_level` (hints off) must equal `FILE/PROG.log` next to the object (the
//! kernel's log, map addresses and kfunc BTF ids normalised, instructions CO-RE relocated
//! differently for the live kernel printed as linked against the model), and so must the
//! kernel's; `BLESS=1` rewrites the `.log` files from the kernel's log.
//!
//! `summary::agreement` prints kfvm's agreement with the kernel over the corpus: verdicts, the
//! kernel-confirmed `__msg` lines found in kfvm's log, how many level-1/2 logs are identical, and
//! how many of every program's whole level-2 logs are (listing the first line of each that is not).

use kfvm::kernel::{ArgSpec, Kernel, KernelConfig, ModelSpec};
use kfvm::link::{LinkedObject, LinkedProgram};
use kfvm::runtime::{LoadOptions, Runtime};
use kfvm::verify::{ProgramVerdict, Verdict, Verifier, VerifyOptions};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier")
}

/// A line to find in a log.
#[derive(Clone, Debug)]
struct Msg {
    text: String,
    /// `__not_msg`.
    negative: bool,
    /// `__kfvm_msg`: kfvm's log only.
    kfvm_only: bool,
    counter: u32,
}

/// The annotations of one program.
#[derive(Clone, Debug)]
struct Spec {
    file: String,
    name: String,
    section: String,
    /// `Some(true)`: `__success`; `Some(false)`: `__failure`.
    accept: Option<bool>,
    msgs: Vec<Msg>,
    retval: Option<i64>,
    log_level: u32,
    flags: u32,
    todo: Option<String>,
    /// `__kfvm_only("why")`: the kernel cannot load the program; its kernel trial is skipped.
    kfvm_only: Option<String>,
    run_args: Vec<String>,
    /// `__kfvm_whole_log`: kfvm's whole log must be the kernel's.
    whole_log: bool,
}

fn flag_value(s: &str) -> Result<u32, String> {
    Ok(match s {
        "BPF_F_STRICT_ALIGNMENT" => 1,
        "BPF_F_ANY_ALIGNMENT" => 2,
        "BPF_F_TEST_RND_HI32" => 4,
        "BPF_F_TEST_STATE_FREQ" => 8,
        "BPF_F_SLEEPABLE" => 16,
        "BPF_F_XDP_HAS_FRAGS" => 32,
        n => match n.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16),
            None => n.parse(),
        }
        .map_err(|_| format!("unknown __flag `{n}`"))?,
    })
}

fn specs_of(obj: &kfvm::object::Object, file: &str) -> Result<Vec<Spec>, String> {
    let mut out = Vec::new();
    for p in &obj.programs {
        let mut s = Spec {
            file: file.to_string(),
            name: p.name.clone(),
            section: p.section.clone(),
            accept: None,
            msgs: Vec::new(),
            retval: None,
            log_level: 0,
            flags: 0,
            todo: None,
            kfvm_only: None,
            run_args: Vec::new(),
            whole_log: false,
        };
        let mut args = Vec::new();
        for c in &p.comments {
            let counter = c.counter.unwrap_or(c.btf_id);
            match c.key.as_str() {
                "test_expect_success" => s.accept = Some(true),
                "test_expect_failure" => s.accept = Some(false),
                "test_expect_msg" | "test_expect_not_msg" | "kfvm_expect_msg" => s.msgs.push(Msg {
                    text: c.value.clone(),
                    negative: c.key == "test_expect_not_msg",
                    kfvm_only: c.key == "kfvm_expect_msg",
                    counter,
                }),
                "test_retval" => {
                    let v = c.value.trim();
                    let n = match v.strip_prefix("0x") {
                        Some(h) => i64::from_str_radix(h, 16).ok(),
                        None => v.parse().ok(),
                    };
                    s.retval = Some(n.ok_or_else(|| format!("{}: bad __retval `{v}`", p.name))?);
                }
                "test_log_level" => {
                    s.log_level =
                        c.value.parse().map_err(|_| format!("{}: bad __log_level `{}`", p.name, c.value))?
                }
                "test_prog_flags" => {
                    s.flags |= flag_value(&c.value).map_err(|e| format!("{}: {e}", p.name))?
                }
                "kfvm_todo" => s.todo = Some(c.value.clone()),
                "kfvm_only" => s.kfvm_only = Some(c.value.clone()),
                "kfvm_run_arg" => args.push((counter, c.value.clone())),
                "kfvm_whole_log" => s.whole_log = true,
                "test_description" => {}
                other => {
                    return Err(format!("{}: annotation `{other}` is not supported by this harness", p.name))
                }
            }
        }
        if s.accept.is_none() {
            return Err(format!("{}: neither __success nor __failure", p.name));
        }
        if s.whole_log && s.log_level == 0 {
            return Err(format!("{}: __kfvm_whole_log needs a __log_level", p.name));
        }
        s.msgs.sort_by_key(|m| m.counter);
        args.sort();
        s.run_args = args.into_iter().map(|(_, a)| a).collect();
        out.push(s);
    }
    Ok(out)
}

/// Whether `log` holds the positive messages in order and no negative one in its span (the
/// kernel's test loader's rule). `Err` names the first message missing.
fn match_msgs<'a>(log: &str, msgs: impl Iterator<Item = &'a Msg>) -> Result<(), String> {
    let msgs: Vec<&Msg> = msgs.collect();
    let mut pos = 0;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for m in &msgs {
        if m.negative {
            spans.push((pos, usize::MAX));
            continue;
        }
        match log[pos..].find(m.text.as_str()) {
            Some(i) => {
                let start = pos + i;
                for s in spans.iter_mut().filter(|s| s.1 == usize::MAX) {
                    s.1 = start;
                }
                pos = start + m.text.len();
            }
            None => return Err(format!("`{}` not found (in order)", m.text)),
        }
    }
    for (k, m) in msgs.iter().filter(|m| m.negative).enumerate() {
        let (a, b) = spans[k];
        let b = b.min(log.len());
        if log[a..b].contains(m.text.as_str()) {
            return Err(format!("`{}` found where it must not be", m.text));
        }
    }
    Ok(())
}

struct Corpus {
    verifier: Verifier,
    nr_cpu_ids: u32,
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus {
        verifier: Verifier::builtin().expect("the built-in kernel model"),
        nr_cpu_ids: model_spec().cpus.max(1),
    })
}

fn model_spec() -> ModelSpec {
    ModelSpec::load(&corpus_dir().join("model.toml")).expect("tests/verifier/model.toml")
}

/// The program with the harness's flags applied.
fn with_flags(p: &LinkedProgram, flags: u32) -> LinkedProgram {
    let mut p = p.clone();
    p.prog_flags |= flags;
    if flags & 16 != 0 {
        p.sleepable = true;
    }
    p
}

/// kfvm's verdict on `spec`'s program, and the log its messages are checked in.
fn kfvm_verdict(linked: &LinkedObject, spec: &Spec) -> Result<(ProgramVerdict, String), Failed> {
    let c = corpus();
    let p = linked.program(&spec.name).ok_or_else(|| format!("{}: not linked", spec.name))?;
    let p = with_flags(p, spec.flags);
    let mut opts = VerifyOptions {
        file_name: spec.file.clone(),
        log_level: spec.log_level,
        nr_cpu_ids: c.nr_cpu_ids,
        // kfvm's `hint:` lines, for the __kfvm_msg annotations (messages are matched in order,
        // and the hint comes after the kernel's text).
        hints: true,
        ..Default::default()
    };
    let v = c.verifier.verify_program(linked, &p, &opts);
    let log = if matches!(v.verdict, Verdict::Reject { .. }) && spec.log_level == 0 {
        opts.log_level = 1;
        c.verifier.verify_program(linked, &p, &opts).log
    } else {
        v.log.clone()
    };
    Ok((v, log))
}

/// The golden log of a `__kfvm_whole_log` program: `FILE/PROG.log` next to `FILE.bpf.o`.
fn log_path(path: &Path, spec: &Spec) -> PathBuf {
    let stem = spec.file.trim_end_matches(".bpf.o");
    path.with_file_name(stem).join(format!("{}.log", spec.name))
}

/// A log as kept in a golden file: map addresses (`0xffff` and 12 more hex digits, the kernel's
/// `lddw` of a map) and the verification time vary from load to load, and a kfunc's BTF id
/// (`call bpf_task_acquire#65909`) is its id in the kernel's BTF or in the model's
/// (`call bpf_task_acquire#KFUNC`).
fn normalize_log(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        if line.starts_with("verification time ") {
            out.push_str("verification time N usec\n");
            continue;
        }
        let kfunc_id = line.find(") call ").and_then(|p| {
            let call = &line[p + 7..];
            let hash = call.find('#')?;
            let digits =
                call[hash + 1..].find(|c: char| !c.is_ascii_digit()).unwrap_or(call.len() - hash - 1);
            let name = &call[..hash];
            let is_kfunc = digits > 0 && kfvm::isa::disasm::helper_id(name).is_none() && !name.contains(' ');
            is_kfunc.then(|| (p + 7 + hash + 1, p + 7 + hash + 1 + digits))
        });
        let line = match kfunc_id {
            // The state after the instruction is aligned on the instruction's length: one space.
            Some((a, b)) => match line[b..].trim_start().starts_with(';') {
                true => format!("{}KFUNC {}", &line[..a], line[b..].trim_start()),
                false => format!("{}KFUNC{}", &line[..a], &line[b..]),
            },
            None => line.to_string(),
        };
        // A tracing argument's type id in the kernel's BTF or the model's.
        let line = match (line.find(" has btf_id "), line.find(" type STRUCT ")) {
            (Some(a), Some(b)) if a < b => format!("{} has btf_id ID{}", &line[..a], &line[b..]),
            _ => line,
        };
        let mut rest = line.as_str();
        while let Some(p) = rest.find("0xffff") {
            out.push_str(&rest[..p]);
            let tail = &rest[p..];
            let end = tail[2..].find(|c: char| !c.is_ascii_hexdigit()).map_or(tail.len(), |e| e + 2);
            if end == 18 && !tail.starts_with("0xffffffff") {
                out.push_str("0xMAP");
            } else {
                out.push_str(&tail[..end]);
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// The kernel's log of `spec`'s program with the instructions CO-RE relocated differently for
/// the live kernel (`task_struct` fields: the model's layout is not the kernel's) printed as
/// linked against the model, so it compares with kfvm's. Calls are left alone (a kfunc's BTF id
/// is normalised by [`normalize_log`]); values derived from such offsets are not rewritten.
fn kernel_log_as_model(path: &Path, spec: &Spec, log: &str) -> Result<String, Failed> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kernel = kfvm_oracle::object::link_for_kernel(&bytes, &spec.file)?;
    let model = link_model(path)?;
    let (Some(k), Some(m)) = (kernel.program(&spec.name), model.program(&spec.name)) else {
        return Err(format!("{}: not linked", spec.name).into());
    };
    if k.insns.len() != m.insns.len() {
        return Ok(log.to_string());
    }
    let mut texts = std::collections::HashMap::new();
    for (i, (ki, mi)) in k.insns.iter().zip(&m.insns).enumerate() {
        if ki != mi && ki.code != 0x85 {
            let text = |insns: &[kfvm::isa::RawInsn]| kfvm::verifier::print::insn_text(insns, i, true);
            texts.insert(i, (text(&k.insns), text(&m.insns)));
        }
    }
    if texts.is_empty() {
        return Ok(log.to_string());
    }
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        let t = line.trim_start();
        let idx = t.find(": ").and_then(|p| t[..p].parse::<usize>().ok());
        match idx.and_then(|i| texts.get(&i)) {
            Some((kt, mt)) if line.contains(kt.as_str()) => {
                let at = line.find(kt.as_str()).unwrap_or(0);
                let rest = &line[at + kt.len()..];
                out.push_str(&line[..at]);
                out.push_str(mt);
                // The state after the instruction is aligned on its length (print_insn_state).
                match rest.trim_start().starts_with(';') {
                    true => {
                        let pos = at + mt.len() + 1;
                        let width = (pos + 4).max(40).next_multiple_of(8) - pos - 1;
                        out.push_str(&" ".repeat(width));
                        out.push_str(rest.trim_start());
                    }
                    false => out.push_str(rest),
                }
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

/// `Err` showing the first line where `got` (`who`'s normalised log) differs from `want`.
fn same_log(want: &str, got: &str, who: &str, golden: &Path) -> Result<(), Failed> {
    if want == got {
        return Ok(());
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let first = w.iter().zip(g.iter()).position(|(a, b)| a != b).unwrap_or(w.len().min(g.len()));
    Err(format!(
        "{who}'s log differs from {} at line {}:\n  kernel: {}\n  {who}: {}\n{who}'s log:\n{got}",
        golden.display(),
        first + 1,
        w.get(first).unwrap_or(&"<end>"),
        g.get(first).unwrap_or(&"<end>")
    )
    .into())
}

/// kfvm's log of a `__kfvm_whole_log` program, as the kernel writes it: hints off.
fn kfvm_whole_log(linked: &LinkedObject, spec: &Spec) -> Result<String, Failed> {
    let c = corpus();
    let p = linked.program(&spec.name).ok_or_else(|| format!("{}: not linked", spec.name))?;
    let p = with_flags(p, spec.flags);
    let opts = VerifyOptions {
        file_name: spec.file.clone(),
        log_level: spec.log_level,
        nr_cpu_ids: c.nr_cpu_ids,
        ..Default::default()
    };
    Ok(normalize_log(&c.verifier.verify_program(linked, &p, &opts).log))
}

fn link_model(path: &Path) -> Result<LinkedObject, Failed> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    Ok(corpus().verifier.link(&bytes, &name)?)
}

fn check_kfvm(path: &Path, spec: &Spec) -> Result<(), Failed> {
    let linked = link_model(path)?;
    let (v, log) = kfvm_verdict(&linked, spec)?;
    if let Some(why) = &spec.todo {
        return match &v.verdict {
            Verdict::Unsupported(_) => Ok(()),
            other => Err(format!(
                "kfvm decides now ({}), but the program is marked __kfvm_todo(\"{why}\"): remove the \
                 tag (the kernel's verdict is __{})\nlog:\n{log}",
                other.as_str(),
                if spec.accept == Some(true) { "success" } else { "failure" }
            )
            .into()),
        };
    }
    match (&v.verdict, spec.accept) {
        (Verdict::Accept, Some(true)) | (Verdict::Reject { .. }, Some(false)) => {}
        (Verdict::Accept, _) => return Err(format!("kfvm accepted the program:\n{log}").into()),
        (Verdict::Reject { .. }, _) => {
            return Err(format!("kfvm rejected the program: {}\nlog:\n{log}", v.error.join("\n")).into())
        }
        (other, _) => return Err(format!("kfvm: {other}\nlog:\n{log}").into()),
    }
    match_msgs(&log, spec.msgs.iter()).map_err(|e| format!("kfvm's log: {e}:\n{log}"))?;
    if spec.whole_log {
        let golden = log_path(path, spec);
        let want = std::fs::read_to_string(&golden)
            .map_err(|e| format!("{}: {e} (BLESS=1 writes it from the kernel)", golden.display()))?;
        same_log(&want, &kfvm_whole_log(&linked, spec)?, "kfvm", &golden)?;
    }
    Ok(())
}

/// The kernel's verdict: (accepted, log, loaded program).
fn kernel_load(path: &Path, spec: &Spec) -> Result<kfvm_oracle::object::LoadedProgram, Failed> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let linked = kfvm_oracle::object::link_for_kernel(&bytes, &spec.file)?;
    let p = linked.program(&spec.name).ok_or_else(|| format!("{}: not linked", spec.name))?;
    let p = with_flags(p, spec.flags);
    Ok(kfvm_oracle::object::load_program(&linked, &p, spec.log_level, 0)?)
}

/// A 64-byte IPv4/UDP packet.
fn packet() -> Vec<u8> {
    let mut p = vec![0u8; 64];
    p[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    p[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 2]);
    p[12..14].copy_from_slice(&[0x08, 0x00]);
    p[14] = 0x45;
    p[16..18].copy_from_slice(&50u16.to_be_bytes());
    p[22] = 64;
    p[23] = 17;
    p[26..30].copy_from_slice(&[10, 0, 0, 1]);
    p[30..34].copy_from_slice(&[10, 0, 0, 2]);
    p
}

fn check_kernel(path: &Path, spec: &Spec) -> Result<(), Failed> {
    let l = kernel_load(path, spec)?;
    let log = &l.loaded.log;
    match (l.loaded.fd.is_some(), spec.accept) {
        (true, Some(false)) => return Err(format!("the kernel accepted the program:\n{log}").into()),
        (false, Some(true)) => return Err(format!("the kernel rejected the program:\n{log}").into()),
        _ => {}
    }
    match_msgs(log, spec.msgs.iter().filter(|m| !m.kfvm_only))
        .map_err(|e| format!("the kernel's log: {e}:\n{log}"))?;
    if spec.whole_log {
        let golden = log_path(path, spec);
        let norm = normalize_log(&kernel_log_as_model(path, spec, log)?);
        if std::env::var("BLESS").is_ok_and(|v| v == "1") {
            if let Some(dir) = golden.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(&golden, &norm).map_err(|e| format!("{}: {e}", golden.display()))?;
        } else {
            let want = std::fs::read_to_string(&golden)
                .map_err(|e| format!("{}: {e} (BLESS=1 writes it from the kernel)", golden.display()))?;
            same_log(&want, &norm, "the kernel", &golden)?;
        }
    }
    if let (Some(want), Some(fd)) = (spec.retval, &l.loaded.fd) {
        let got = if spec.section.starts_with("syscall") {
            // The context: the __kfvm_run_arg integers, 8 bytes each (as the checked run has it).
            let mut ctx = Vec::new();
            for a in &spec.run_args {
                match ArgSpec::parse(a)? {
                    ArgSpec::Int(v) => ctx.extend_from_slice(&v.to_ne_bytes()),
                    other => {
                        return Err(
                            format!("a syscall program's context takes integers, not {other:?}").into()
                        )
                    }
                }
            }
            kfvm_oracle::test_run_syscall(fd, &ctx).map(|r| r.0)
        } else if spec.section.starts_with("xdp") {
            kfvm_oracle::test_run(fd, &packet(), &[])
        } else {
            return Ok(());
        };
        let got = got.map_err(|e| format!("BPF_PROG_TEST_RUN: {e}"))?;
        if got as i32 as i64 != want && got as i64 != want {
            return Err(format!("the kernel's run returned {got}, __retval is {want}").into());
        }
    }
    Ok(())
}

fn check_run(path: &Path, spec: &Spec) -> Result<(), Failed> {
    if spec.accept != Some(true) {
        return Ok(());
    }
    let linked = link_model(path)?;
    let model = model_spec();
    let kernel = Kernel::from_spec(&model, KernelConfig::small()).map_err(|e| format!("model: {e}"))?;
    let c = corpus();
    let mut linked = linked;
    for p in linked.programs.iter_mut().filter(|p| p.name == spec.name) {
        *p = with_flags(p, spec.flags);
    }
    let rt = Runtime::load(
        &kernel,
        c.verifier.registry(),
        &linked,
        &LoadOptions { no_verify: true, only: Some(vec![spec.name.clone()]) },
    )
    .map_err(|e| format!("runtime: {e}"))?;
    let mut run_args = spec.run_args.clone();
    if run_args.is_empty() {
        run_args = default_run_args(&spec.section);
    }
    let args: Vec<ArgSpec> = run_args.iter().map(|a| ArgSpec::parse(a)).collect::<Result<_, _>>()?;
    let data = spec.section.starts_with("xdp").then(packet);
    let r = rt.test_run(&spec.name, &args, data.as_deref(), 1).map_err(|e| format!("checked run: {e}"))?;
    if let Some(want) = spec.retval {
        if r.retval as i64 != want && r.retval as u32 as i32 as i64 != want {
            return Err(format!("the checked run returned {}, __retval is {want}", r.retval).into());
        }
    }
    Ok(())
}

/// The arguments of a tracing hook without `__kfvm_run_arg`s: the model's task 100 for a task,
/// its cgroup 40 for a cgroup (the runtime adds the path that follows it), 0 for an integer.
fn default_run_args(section: &str) -> Vec<String> {
    use kfvm::runtime::hooks::ArgType;
    let Some(decl) = kfvm::runtime::Hook::from_section(section, true).ok().and_then(|h| h.decl()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, t) in decl.args {
        out.push(match t {
            ArgType::Task => "task:100".to_string(),
            ArgType::Cgroup => "cgroup:40".to_string(),
            ArgType::Int => "0".to_string(),
            ArgType::Str => break,
        });
    }
    out
}

/// `Err` (why) when the runtime cannot load the program (a map type or helper it lacks): its
/// run trial is skipped then, saying why.
fn runtime_loadable(linked: &Result<LinkedObject, String>, spec: &Spec) -> Result<(), String> {
    let linked = linked.as_ref().map_err(Clone::clone)?;
    let kernel =
        Kernel::from_spec(&model_spec(), KernelConfig::small()).map_err(|e| format!("model: {e}"))?;
    let only = Some(vec![spec.name.clone()]);
    Runtime::load(&kernel, corpus().verifier.registry(), linked, &LoadOptions { no_verify: true, only })
        .map(|_| ())
        .map_err(|e| format!("the runtime cannot load it: {e}"))
}

fn summary(cases: &[(PathBuf, Spec)]) -> Result<(), Failed> {
    let (mut n, mut verdicts, mut undecided, mut msgs, mut msg_n) = (0, 0, 0, 0, 0);
    let (mut errno_eq, mut errno_n, mut proc_eq, mut proc_n, mut last_eq, mut last_n) = (0, 0, 0, 0, 0, 0);
    let processed_of = |log: &str| -> Option<u32> {
        log.lines().find_map(|l| l.strip_prefix("processed ")?.split(' ').next()?.parse().ok())
    };
    let (mut logs_eq, mut logs_n, mut all_eq, mut all_n) = (0, 0, 0, 0);
    let mut diffs = Vec::new();
    for (path, spec) in cases.iter().filter(|(_, s)| s.kfvm_only.is_none()) {
        let Ok(l) = kernel_load(path, spec) else { continue };
        let Ok(linked) = link_model(path) else { continue };
        let Ok((v, log)) = kfvm_verdict(&linked, spec) else { continue };
        n += 1;
        let k_acc = l.loaded.fd.is_some();
        let id = format!("{}::{}", spec.file, spec.name);
        match (&v.verdict, k_acc) {
            (Verdict::Accept, true) | (Verdict::Reject { .. }, false) => verdicts += 1,
            (Verdict::Unsupported(_), _) => undecided += 1,
            (other, _) => diffs.push(format!("{id}: verdict kernel={} kfvm={}", k_acc, other.as_str())),
        }
        if let (Some(ke), Verdict::Reject { errno }) = (l.loaded.errno, &v.verdict) {
            errno_n += 1;
            if ke == *errno {
                errno_eq += 1;
            } else {
                diffs.push(format!("{id}: errno kernel={ke} kfvm={errno}"));
            }
        }
        // Both logs at the same level: the kernel's last error line must be in kfvm's log, and
        // the instruction counts should match.
        if !k_acc && matches!(v.verdict, Verdict::Reject { .. }) {
            let last = l.loaded.log.lines().rev().find(|x| {
                !x.is_empty()
                    && !x.starts_with("processed ")
                    && !x.starts_with("verification time")
                    && !x.starts_with("stack depth")
            });
            if let Some(last) = last {
                last_n += 1;
                if log.contains(last) {
                    last_eq += 1;
                } else {
                    diffs.push(format!("{id}: the kernel's last line `{last}` not in kfvm's log"));
                }
            }
        }
        if let (Some(kp), Some(fp)) = (processed_of(&l.loaded.log), processed_of(&log)) {
            proc_n += 1;
            if kp == fp {
                proc_eq += 1;
            } else {
                diffs.push(format!("{id}: processed kernel={kp} kfvm={fp}"));
            }
        }
        // Every program's whole level-2 log (the annotated level's when it is 1 or 2).
        let l2spec = Spec { log_level: 2, ..spec.clone() };
        let l2 = if spec.log_level & 3 != 0 {
            Some(l.loaded.log.clone())
        } else {
            kernel_load(path, &l2spec).ok().map(|x| x.loaded.log)
        };
        if let Some(klog) = l2 {
            let s2 = if spec.log_level & 3 != 0 { spec } else { &l2spec };
            let k = normalize_log(&kernel_log_as_model(path, s2, &klog)?);
            let f = kfvm_whole_log(&linked, s2)?;
            all_n += 1;
            if k == f {
                all_eq += 1;
            } else if spec.log_level & 3 == 0 {
                let (kl, fl): (Vec<&str>, Vec<&str>) = (k.lines().collect(), f.lines().collect());
                let at = kl.iter().zip(fl.iter()).position(|(a, b)| a != b).unwrap_or(kl.len().min(fl.len()));
                diffs.push(format!(
                    "{id}: level-2 log (not annotated) differs from the kernel's at line {}:\n    kernel: {}\n    kfvm:   {}",
                    at + 1,
                    kl.get(at).unwrap_or(&"<end>"),
                    fl.get(at).unwrap_or(&"<end>")
                ));
            }
        }
        if spec.log_level & 3 != 0 {
            logs_n += 1;
            let k = normalize_log(&kernel_log_as_model(path, spec, &l.loaded.log)?);
            let f = kfvm_whole_log(&linked, spec)?;
            if k == f {
                logs_eq += 1;
            } else {
                let (kl, fl): (Vec<&str>, Vec<&str>) = (k.lines().collect(), f.lines().collect());
                let at = kl.iter().zip(fl.iter()).position(|(a, b)| a != b).unwrap_or(kl.len().min(fl.len()));
                diffs.push(format!(
                    "{id}: level-{} log differs from the kernel's at line {}:\n    kernel: {}\n    kfvm:   {}",
                    spec.log_level,
                    at + 1,
                    kl.get(at).unwrap_or(&"<end>"),
                    fl.get(at).unwrap_or(&"<end>")
                ));
            }
        }
        for m in spec.msgs.iter().filter(|m| !m.negative && !m.kfvm_only) {
            if !l.loaded.log.contains(&m.text) {
                continue;
            }
            msg_n += 1;
            if log.contains(&m.text) {
                msgs += 1;
            } else if !matches!(v.verdict, Verdict::Unsupported(_)) {
                diffs.push(format!("{id}: `{}` not in kfvm's log", m.text));
            }
        }
    }
    eprintln!(
        "C corpus: {n} programs; verdicts agree {verdicts}/{n} (kfvm cannot decide {undecided} yet); \
         kernel-confirmed messages found in kfvm's log {msgs}/{msg_n}; errno agree {errno_eq}/{errno_n}; \
         the kernel's last error line in kfvm's log {last_eq}/{last_n}; processed insns agree {proc_eq}/{proc_n}; \
         level-1/2 logs identical {logs_eq}/{logs_n}; every program's level-2 log identical {all_eq}/{all_n}"
    );
    for d in &diffs {
        eprintln!("  {d}");
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let kernel = kfvm_oracle::available();
    let mut trials = Vec::new();
    let mut cases = Vec::new();
    // The corpus, and the kfuncs.rst examples and their mistakes (examples/kfuncs), annotated
    // the same way.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kfuncs");
    let objects = kfvm_oracle::test_files(&corpus_dir(), "o")
        .into_iter()
        .chain(kfvm_oracle::test_files(&examples, "o"));
    for path in objects {
        let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let stem = file.trim_end_matches(".bpf.o").to_string();
        let obj = match kfvm::object::Object::open(&path) {
            Ok(o) => o,
            Err(e) => {
                let msg = format!("{}: {e}", path.display());
                trials.push(Trial::test(format!("object::{stem}"), move || Err(msg.into())));
                continue;
            }
        };
        let specs = match specs_of(&obj, &file) {
            Ok(s) => s,
            Err(e) => {
                trials.push(Trial::test(format!("object::{stem}"), move || Err(e.into())));
                continue;
            }
        };
        let model_linked = link_model(&path).map_err(|e| format!("{e:?}"));
        for spec in specs {
            let id = format!("{stem}::{}", spec.name);
            let s = Arc::new(spec);
            let (p1, s1) = (path.clone(), s.clone());
            trials.push(Trial::test(format!("kfvm::{id}"), move || check_kfvm(&p1, &s1)));
            let (p2, s2) = (path.clone(), s.clone());
            match &s.kfvm_only {
                Some(why) => trials.push(
                    Trial::test(format!("kernel::{id} (skipped: {why})"), || Ok(())).with_ignored_flag(true),
                ),
                None => trials.push(kfvm_oracle::kernel_trial(&kernel, format!("kernel::{id}"), move || {
                    check_kernel(&p2, &s2)
                })),
            }
            let (p3, s3) = (path.clone(), s.clone());
            let runnable = kfvm::runtime::Hook::from_section(&s.section, true)
                .map_err(|e| e.to_string())
                .and_then(|_| runtime_loadable(&model_linked, &s));
            match runnable {
                Ok(_) => trials.push(Trial::test(format!("run::{id}"), move || check_run(&p3, &s3))),
                Err(e) => trials.push(
                    Trial::test(format!("run::{id} (skipped: {e})"), || Ok(())).with_ignored_flag(true),
                ),
            }
            cases.push((path.clone(), (*s).clone()));
        }
    }
    trials.push(kfvm_oracle::kernel_trial(&kernel, "summary::agreement".into(), move || summary(&cases)));
    libtest_mimic::run(&args, trials).exit();
}
