//! `kfvm verify`: verdicts, the log tail, the JSON lines, the exit status.

mod common;

use common::kfvm_with_input;
use std::path::PathBuf;

fn obj() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/progs/verify.bpf.o").to_string_lossy().into_owned()
}

fn verify(args: &[&str]) -> (i32, String, String) {
    let o = obj();
    let mut a = vec!["verify", o.as_str()];
    a.extend_from_slice(args);
    kfvm_with_input(&a, b"")
}

#[test]
fn accepted_program_exits_0() {
    let (code, out, err) = verify(&["--prog", "good"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "good: accepted\n");
}

#[test]
fn rejected_program_exits_1_with_the_kernels_error_line() {
    let (code, out, err) = verify(&["--prog", "bad"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        out,
        "bad: rejected\n  R0 invalid mem access 'map_value_or_null'\n  hint: the pointer may be NULL: check it against NULL before using it\n"
    );
    let (_, out, _) = verify(&["--prog", "bad", "--no-hints"]);
    assert_eq!(out, "bad: rejected\n  R0 invalid mem access 'map_value_or_null'\n");
}

#[test]
fn whole_object_exits_1_when_one_is_rejected() {
    let (code, out, _) = verify(&[]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("good: accepted\nbad: rejected\n  R0 invalid mem access 'map_value_or_null'\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "sysctl_prog: unsupported: the verifier does not model the context of program type 23 yet\n"
        ),
        "{out}"
    );
}

#[test]
fn undecided_program_exits_3() {
    let (code, out, _) = verify(&["--prog", "sysctl_prog"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.starts_with("sysctl_prog: unsupported: "), "{out}");
}

#[test]
fn log_level_prints_the_log_before_the_verdict() {
    let (code, out, _) = verify(&["--prog", "bad", "--log-level", "2"]);
    assert_eq!(code, 1);
    assert!(out.contains("0: R1=ctx() R10=fp0\n"), "{out}");
    let tail = "R0 invalid mem access 'map_value_or_null'\nhint: the pointer may be NULL: check it against NULL before using it\nprocessed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\nbad: rejected\n";
    assert!(out.contains(tail), "{out}");
}

#[test]
fn log_levels_1_and_2_show_source_lines_before_their_instructions() {
    for level in ["1", "2"] {
        let (code, out, _) = verify(&["--prog", "bad", "--log-level", level]);
        assert_eq!(code, 1, "{out}");
        // The kernel's verbose_linfo(): the line's text left-trimmed, the file's base name, the
        // line number, printed once before the first instruction of the line.
        for want in [
            "; int bad(void *ctx) @ verify.bpf.c:38\n0: (b4) w1 = 0",
            "; u32 key = 0; @ verify.bpf.c:40\n1: (63) *(u32 *)(r10 -4) = r1",
            "; u64 *v = bpf_map_lookup_elem(&table, &key); @ verify.bpf.c:41\n4: (18) r1 = ",
            "; *v += 1; @ verify.bpf.c:43\n7: (79) r1 = *(u64 *)(r0 +0)\nR0 invalid mem access 'map_value_or_null'\n",
        ] {
            assert!(out.contains(want), "level {level}: no `{want}` in\n{out}");
        }
        assert_eq!(out.matches("@ verify.bpf.c:40").count(), 1, "{out}");
    }
    let (_, out, _) = verify(&["--prog", "bad"]);
    assert!(!out.contains("@ verify.bpf.c"), "{out}");
}

#[test]
fn json_has_one_object_per_program() {
    let (code, out, _) = verify(&["--json"]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(lines.len(), 3, "{out}");
    let good = &lines[0];
    assert_eq!(good["program"], "good");
    assert_eq!(good["section"], "syscall");
    assert_eq!(good["verdict"], "accept");
    assert_eq!(good["error"], serde_json::json!([]));
    assert!(good["insns_processed"].as_u64().unwrap() > 0);
    let bad = &lines[1];
    assert_eq!(bad["verdict"], "reject");
    assert_eq!(bad["error"], serde_json::json!(["R0 invalid mem access 'map_value_or_null'"]));
    assert_eq!(
        bad["hints"],
        serde_json::json!(["the pointer may be NULL: check it against NULL before using it"])
    );
    assert_eq!(bad["errno"], 13);
    assert_eq!(bad["insns_processed"], 7);
    assert_eq!(lines[2]["verdict"], "unsupported");
    assert!(lines[2]["reason"].as_str().unwrap().contains("program type 23"));
}

#[test]
fn usage_and_load_errors_exit_2() {
    let (code, _, err) = verify(&["--prog", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("verify.bpf.o: no program named `nope` (programs: good, bad, sysctl_prog)"),
        "{err}"
    );

    let (code, _, err) = kfvm_with_input(&["verify", "/nonexistent/x.bpf.o"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.bpf.o: No such file or directory"), "{err}");

    let dir = std::env::temp_dir().join(format!("kfvm-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.bpf.o");
    std::fs::write(&junk, b"\x7fELF not really").unwrap();
    let (code, _, err) = kfvm_with_input(&["verify", junk.to_str().unwrap()], b"");
    assert_eq!(code, 2);
    assert!(err.starts_with(&format!("kfvm: {}: ", junk.display())), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    let (code, _, err) = verify(&["--no-cap", "bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown capability `bogus`"), "{err}");
    let (code, _, _) = verify(&["--log-level", "9"]);
    assert_eq!(code, 2);
}

#[test]
fn capabilities_can_be_dropped() {
    // Without CAP_BPF and CAP_SYS_ADMIN the loader is not bpf_capable: the kernel refuses
    // bpf-to-bpf calls and loops then, but this program has neither.
    let (code, out, err) = verify(&["--prog", "good", "--no-cap", "sys_boot", "--no-cap", "CAP_SYS_ADMIN"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, _) = verify(&["--prog", "good", "--no-cap", "bpf", "--cap", "bpf"]);
    assert_eq!(code, 0);
}

/// The corpus object with kfvm's deprecated kfunc (`bpf_cgroup_kptr_get`).
fn deprecated_obj() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../kfvm/tests/verifier/kfunc_deprecated.bpf.o")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn deprecated_kfuncs_warn_and_deny_deprecated_refuses_them() {
    let o = deprecated_obj();
    let (code, out, err) = kfvm_with_input(&["verify", &o, "--prog", "kptr_get_deprecated"], b"");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("warning: insn "), "{out}");
    assert!(
        out.contains("kernel function bpf_cgroup_kptr_get is deprecated (use bpf_rcu_read_lock();"),
        "{out}"
    );
    assert!(out.contains("removed in 6.4)\nkptr_get_deprecated: accepted\n"), "{out}");
    let (code, out, err) =
        kfvm_with_input(&["verify", &o, "--prog", "kptr_get_deprecated", "--deny-deprecated"], b"");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("kptr_get_deprecated: rejected\n  kernel function bpf_cgroup_kptr_get is deprecated"),
        "{out}"
    );
    assert!(out.contains("and deny_deprecated refuses it\n  hint: use bpf_rcu_read_lock();"), "{out}");
    let (code, out, _) = kfvm_with_input(&["verify", &o, "--prog", "kptr_get_deprecated", "--json"], b"");
    assert_eq!(code, 0);
    assert!(out.contains(",\"warnings\":[\"insn "), "{out}");
}

#[test]
fn hints_follow_the_kernels_message_unless_no_hints() {
    let o = deprecated_obj();
    let (code, out, _) = kfvm_with_input(&["verify", &o, "--prog", "kptr_get_leak"], b"");
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "  BPF_EXIT instruction in main prog would lead to reference leak\n  hint: release the reference \
             acquired by bpf_cgroup_kptr_get() at insn "
        ),
        "{out}"
    );
    assert!(out.contains("(kfunc_deprecated.bpf.c:"), "{out}");
    let (_, out, _) = kfvm_with_input(&["verify", &o, "--prog", "kptr_get_leak", "--no-hints"], b"");
    assert!(!out.contains("hint:"), "{out}");
    assert!(out.contains("would lead to reference leak\n"), "{out}");
}

#[test]
fn a_leak_shows_the_unreleased_reference_line_before_the_kernels_verdict() {
    let ex = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/kfuncs/mistakes.bpf.o");
    let (code, out, err) =
        kfvm_with_input(&["verify", ex.to_str().unwrap(), "--prog", "forgot_release", "--no-hints"], b"");
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        out,
        "forgot_release: rejected\n  Unreleased reference id=2 alloc_insn=1\n  \
         BPF_EXIT instruction in main prog would lead to reference leak\n"
    );
}
