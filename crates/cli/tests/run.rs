//! `kfvm run` and `kfvm test-run` on the shipped example and the runtime's test objects.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kfvm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kfvm")).current_dir(root()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_the_example_on_its_model() {
    let (ok, out, err) = kfvm(&["run", "examples/tour.bpf.o", "--model", "examples/tour.toml", "--maps"]);
    assert!(ok, "{err}");
    let want = "cgroup /system.slice: id 40, level 1, parent id 1
cgroup /system.slice/sshd.service: id 41, level 2, parent id 40
cgroup /user.slice: id 50, level 1, parent id 1
task 1 systemd: parent 0 swapper/0, cgroup 1
task 20 ksoftirqd/0 runs on 1 CPUs only
task 400 sshd: parent 1 systemd, cgroup 41
cgroup /user.slice/session-1.scope: id 2, level 2, parent id 50
task 1000 bash: parent 400 sshd, cgroup 2
task 1001 make: parent 1000 bash, cgroup 2
task 1001 make runs on 2 CPUs only
";
    assert!(out.starts_with(want), "{out}");
    assert!(out.contains("on_task_newtask              tp_btf/task_newtask                 7"), "{out}");
    assert!(out.contains("map tasks_per_cgroup (type 1, key 8 B, value 8 B, max_entries 4096)\n  0100000000000000: 0300000000000000\n"), "{out}");
    assert!(out.contains("map tour.bss (type 2, key 4 B, value 40 B, max_entries 1)\n  nr_cgroups = 4\n  nr_processes = 4\n  nr_threads = 1\n  nr_kthreads = 2\n  nr_pinned = 2\n"), "{out}");
    // The verifier decides both programs: they run in verified mode, and nothing is said.
    assert!(out.contains("tp_btf/task_newtask                 7"), "{out}");
    assert_eq!(out.matches("  verified\n").count(), 2, "{out}");
    assert!(!err.contains("the verifier cannot decide yet"), "{err}");
}

#[test]
fn run_the_example_on_this_machine() {
    let (ok, out, err) = kfvm(&["run", "examples/tour.bpf.o"]);
    assert!(ok, "{err}");
    let me = std::process::id();
    // This test process is in the snapshot (a process, not a kernel thread).
    assert!(out.contains(&format!("task {me} ")), "{out}");
}

#[test]
fn test_run_prints_retval_and_duration() {
    let obj = "examples/kfuncs/doc_examples.bpf.o";
    let model = "examples/kfuncs/doc.toml";
    let (ok, out, err) = kfvm(&[
        "test-run",
        obj,
        "--prog",
        "task_get_pid_example",
        "--arg",
        "task:100",
        "--arg",
        "0",
        "--model",
        model,
        "--repeat",
        "5",
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("bpf_task_from_pid(100) found nginx\n"), "{out}");
    assert!(out.contains("retval: 0\nduration: "), "{out}");
    assert!(out.contains(" ns (average of 5, verified mode)\n"), "{out}");
    let (ok, out, err) = kfvm(&[
        "test-run",
        obj,
        "--prog",
        "cgrp_ancestor_example",
        "--arg",
        "cgroup:1",
        "--model",
        model,
        "--json",
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("{\"retval\": 4294967294, \"duration_ns\": "), "{out}");
    assert!(out.contains(", \"mode\": \"verified\", "), "{out}");
    assert!(out.trim_end().ends_with("\"printk\": []}"), "{out}");
    let obj = "crates/runtime/tests/progs/retval.bpf.o";
    let (ok, out, err) = kfvm(&["test-run", obj, "--prog", "iter_num_sum", "--model", model, "--json"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("{\"retval\": 45, "), "{out}");
}

#[test]
fn bad_input_gets_clear_errors() {
    let obj = "examples/kfuncs/doc_examples.bpf.o";
    let model = "examples/kfuncs/doc.toml";
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "crates/runtime/tests/progs/bad_hook.bpf.o", "--model", model],
            "unknown hook `tp_btf/no_such_tracepoint`",
        ),
        (
            &[
                "test-run",
                obj,
                "--prog",
                "task_get_pid_example",
                "--arg",
                "cgroup:1",
                "--arg",
                "0",
                "--model",
                model,
            ],
            "argument 1 (`task`) is struct task_struct *: give task:PID, not a cgroup",
        ),
        (
            &["test-run", obj, "--prog", "task_get_pid_example", "--arg", "task:", "--model", model],
            "--arg `task:`: expected task:PID",
        ),
        (&["test-run", obj, "--prog", "nope", "--model", model], "no program `nope`"),
        (
            &["run", obj, "--model", "crates/runtime/tests/progs/missing.toml"],
            "crates/runtime/tests/progs/missing.toml: No such file",
        ),
        (&["run", "examples/missing.bpf.o", "--model", model], "examples/missing.bpf.o"),
    ];
    for (args, want) in cases {
        let (ok, _, err) = kfvm(args);
        assert!(!ok, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let dir = std::env::temp_dir().join(format!("kfvm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[machine]\ncpus = 2\n\n[[task]]\npid = 3\nppid = 7\n").unwrap();
    let (ok, _, err) = kfvm(&["run", obj, "--model", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains(&format!("{}:4: task 3: ppid 7 is not a task listed before it", bad.display())),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_says_which_kfuncs_are_deprecated_once() {
    let (ok, out, err) =
        kfvm(&["run", "examples/kfuncs/doc_examples.bpf.o", "--model", "examples/kfuncs/doc.toml"]);
    assert!(ok, "{err}");
    assert_eq!(err.matches("kernel function bpf_cgroup_kptr_get is deprecated").count(), 1, "{err}");
    assert!(err.contains("kfvm: cgroup_kptr_get_example: insn "), "{err}");
    assert!(err.contains("removed in 6.4"), "{err}");
    // Every kfuncs.rst example is verified, and runs in verified mode.
    assert_eq!(out.matches("  verified\n").count(), 11, "{out}");
}
