//! kfvm's hints (`CheckOptions::hints`: one `hint:` line after the kernel's message) for the
//! rejections of iterators, dynptrs and allocated objects, on programs of the C verifier corpus
//! (`tests/verifier/*.bpf.o`, whose verdicts and messages `verifier_progs` checks against the
//! live kernel). The kernel's message stays first and unchanged.

use kfvm::link::LinkedObject;
use kfvm::runtime::verify::{check_options, BtfNames, Caps, VerifyEnv};
use kfvm::verify::Verifier;
use std::path::Path;

fn verifier() -> &'static Verifier {
    static V: std::sync::OnceLock<Verifier> = std::sync::OnceLock::new();
    V.get_or_init(|| Verifier::builtin().expect("the built-in kernel model"))
}

fn link(file: &str) -> LinkedObject {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    verifier().link(&bytes, file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Verifies `prog` of `file` at log level 1 with hints on: the kernel's message, then the hint.
fn hinted(file: &str, prog: &str) -> (String, Vec<String>) {
    let obj = link(file);
    let p = obj.programs.iter().find(|p| p.name == prog).unwrap_or_else(|| panic!("{file}: no {prog}"));
    let env = VerifyEnv {
        registry: verifier().registry(),
        nr_cpu_ids: 2,
        caps: Caps::default(),
        log_level: 1,
        deny_deprecated: false,
        hints: true,
    };
    let mut opts = check_options(&obj, p, &env).expect("options");
    opts.hints = true;
    let v = kfvm::verifier::bpf_check_full(&p.insns, &opts, Some(&BtfNames::of(&obj)));
    assert!(v.result.is_err(), "{prog} is expected to be rejected");
    (v.log, v.hints)
}

/// `msg` (the kernel's) and right after it `hint: ...` containing `hint`.
fn check(file: &str, prog: &str, msg: &str, hint: &str) {
    let (log, hints) = hinted(file, prog);
    let lines: Vec<&str> = log.lines().collect();
    let at =
        lines.iter().position(|l| l.contains(msg)).unwrap_or_else(|| panic!("{prog}: `{msg}` not in\n{log}"));
    let next = lines.get(at + 1).copied().unwrap_or("");
    assert!(next.starts_with("hint: ") && next.contains(hint), "{prog}: after `{msg}` comes `{next}`\n{log}");
    assert!(hints.iter().any(|h| h.contains(hint)), "{prog}: {hints:?}");
}

#[test]
fn leaked_iterator() {
    check(
        "iter_num.bpf.o",
        "iter_leak",
        "would lead to reference leak",
        "destroy the iterator created by bpf_iter_num_new() at insn",
    );
    check("iter_num.bpf.o", "iter_leak", "would lead to reference leak", "with bpf_iter_num_destroy()");
}

#[test]
fn iterator_states() {
    check(
        "iter_num.bpf.o",
        "iter_double_new",
        "expected uninitialized iter_num as arg #0",
        "call bpf_iter_num_destroy() on it before bpf_iter_num_new()",
    );
    check(
        "iter_num.bpf.o",
        "iter_use_after_destroy",
        "expected an initialized iter_num as arg #0",
        "bpf_iter_num_next() needs an iterator made by bpf_iter_num_new()",
    );
    check(
        "iter_num.bpf.o",
        "iter_not_on_stack",
        "arg#0 expected pointer to an iterator on stack",
        "declare the iterator as a local variable",
    );
}

#[test]
fn dynptrs() {
    check(
        "dynptr.bpf.o",
        "slice_uninit_dynptr",
        "Expected an initialized dynptr as arg #0",
        "initialise the dynptr first",
    );
    check(
        "dynptr.bpf.o",
        "dynptr_in_map_value",
        "arg#2 expected pointer to stack or const struct bpf_dynptr",
        "declare it as a local variable",
    );
    check(
        "dynptr_helpers.bpf.o",
        "ringbuf_overwrite",
        "cannot overwrite referenced dynptr",
        "submit or discard the ring buffer dynptr",
    );
    check(
        "dynptr_helpers.bpf.o",
        "ringbuf_leak",
        "would lead to reference leak",
        "submit or discard the dynptr reserved by bpf_ringbuf_reserve_dynptr()",
    );
}

#[test]
fn allocated_objects() {
    check(
        "obj_new.bpf.o",
        "obj_new_not_struct",
        "bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct",
        "bpf_obj_new() allocates structs",
    );
    check("obj_new.bpf.o", "obj_leak", "would lead to reference leak", "bpf_obj_drop()");
}
