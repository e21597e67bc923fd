//! Bad input gets a clear error naming the problem, never a panic: an unknown hook, arguments
//! that do not fit the hook, a missing packet, programs that misuse kfuncs in checked mode.

mod support;

use kfvm_kernel::{ArgSpec, Kernel, KernelConfig};
use kfvm_runtime::{LoadOptions, Runtime};

#[test]
fn unknown_hook() {
    let spec = support::spec(&support::doc_model());
    let kernel = Kernel::from_spec(&spec, KernelConfig::small()).unwrap();
    let registry = kfvm_kernel::registry();
    let e = Runtime::load(
        &kernel,
        &registry,
        &support::linked("bad_hook.bpf.o", &registry),
        &LoadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("program nowhere: unknown hook `tp_btf/no_such_tracepoint`: the model has no tracepoint `no_such_tracepoint` (it has: task_newtask, "), "{e}");
}

#[test]
fn arguments_that_do_not_fit_the_hook() {
    let (kernel, rt, audit, _) =
        support::setup(&support::doc_examples(), &support::doc_model(), KernelConfig::small());
    let args = |a: &[&str]| a.iter().map(|s| ArgSpec::parse(s).unwrap()).collect::<Vec<_>>();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "task_get_pid_example",
            &["cgroup:1", "0"],
            "tp_btf/task_newtask(struct task_struct * task, an integer clone_flags): argument 1 (`task`) is struct task_struct *: give task:PID, not a cgroup",
        ),
        ("task_get_pid_example", &["task:1"], "takes 2 arguments; 1 given"),
        ("task_get_pid_example", &["task:999", "0"], "argument `task:999`: no task 999 in the model"),
        ("cgrp_ancestor_example", &["cgroup:/nope"], "argument `cgroup:/nope`: no cgroup `/nope` in the model"),
        ("cgrp_ancestor_example", &["7", "0"], "argument 1 (`cgrp`) is struct cgroup *: give cgroup:ID or cgroup:/path, not an integer"),
        ("no_such_prog", &[], "no program `no_such_prog` (the object has: task_acquire_release_example, "),
    ];
    for (prog, a, want) in cases {
        let e = rt.test_run(prog, &args(a), None, 1).unwrap_err().to_string();
        assert!(e.contains(want), "{prog} {a:?}: {e}");
    }
    let e = rt.test_run("task_get_pid_example", &[], Some(&[1, 2, 3]), 1).unwrap_err().to_string();
    assert!(e.contains("programs take arguments (--arg), not --data-in"), "{e}");
    for bad in ["task:x", "cgroup:", "12abc"] {
        assert!(ArgSpec::parse(bad).is_err(), "{bad}");
    }
    support::leak_audit(&kernel, rt, &audit);
}

#[test]
fn xdp_needs_a_packet() {
    let (kernel, rt, audit, _) = support::setup("xdp.bpf.o", &support::doc_model(), KernelConfig::small());
    let e = rt.test_run("xdp_bounce_ipv4", &[], None, 1).unwrap_err().to_string();
    assert_eq!(e, "xdp programs run on a packet: give --data-in FILE");
    let e = rt.test_run("xdp_bounce_ipv4", &[], Some(&vec![0; 5000]), 1).unwrap_err().to_string();
    assert_eq!(e, "a packet has 14 to 3840 bytes; 5000 given");
    let e = rt.test_run("xdp_bounce_ipv4", &[], Some(&[1, 2, 3]), 1).unwrap_err().to_string();
    assert_eq!(e, "a packet has 14 to 3840 bytes; 3 given");
    support::leak_audit(&kernel, rt, &audit);
}

#[test]
fn checked_runs_track_references_as_the_verifier_would() {
    let opts = LoadOptions { no_verify: true, only: None };
    let (kernel, rt, audit, _) =
        support::setup_with("unverified.bpf.o", &support::doc_model(), KernelConfig::small(), &opts);
    let e = rt.test_run("double_release", &[], None, 1).unwrap_err().to_string();
    assert!(
        e.contains("kfunc bpf_task_release: arg#0: the program releases a reference to a task_struct"),
        "{e}"
    );
    assert!(e.contains("it does not own"), "{e}");
    let e = rt.test_run("leak_reference", &[], None, 1).unwrap_err().to_string();
    assert_eq!(
        e,
        "program leak_reference: the run ended holding 1 reference(s) it acquired (Unreleased reference)"
    );
    // Neither left the model's counts wrong.
    support::leak_audit(&kernel, rt, &audit);
}

#[test]
fn loads_outside_live_objects_read_zero() {
    let opts = LoadOptions { no_verify: true, only: None };
    let (kernel, rt, audit, _) =
        support::setup_with("unverified.bpf.o", &support::doc_model(), KernelConfig::small(), &opts);
    let peek = |addr: u64| rt.test_run("peek", &[], Some(&addr.to_ne_bytes()), 1).unwrap().retval as i32;
    let t = kernel.task(100).unwrap();
    // SAFETY: only the address is taken.
    let pid_addr = unsafe { std::ptr::addr_of!((*t.as_ptr()).pid) } as u64;
    assert_eq!(peek(pid_addr), 100, "a live task");
    drop(t);
    let secret = 0x5ec2e7i32;
    assert_eq!(peek(&secret as *const i32 as u64), 0, "host memory the run was not given");
    assert_eq!(peek(0), 0, "NULL");
    // The task exits and is reclaimed: its memory reads 0.
    let e = kfvm_kernel::spec::TaskSpec::new(500, 1, "short-lived");
    let t = kernel.create_task(&e).unwrap();
    // SAFETY: only the address is taken.
    let pid_addr = unsafe { std::ptr::addr_of!((*t.as_ptr()).pid) } as u64;
    assert_eq!(peek(pid_addr), 500);
    drop(t);
    kernel.exit_task(500).unwrap();
    kernel.synchronize_rcu();
    assert_eq!(peek(pid_addr), 0, "a reclaimed task");
    // Stores are never made safe by reading 0: they end the run.
    let e = rt.test_run("poke", &[], Some(&pid_addr.to_ne_bytes()), 1).unwrap_err().to_string();
    assert!(e.contains("invalid write of 4 bytes"), "{e}");
    support::leak_audit(&kernel, rt, &audit);
}
