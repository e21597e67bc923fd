//! The examples of the kernel's Documentation/bpf/kfuncs.rst (examples/kfuncs/doc_examples.bpf.c
//! in the repository) run against the deterministic model examples/kfuncs/doc.toml and print what
//! they should; every reference they took is back where it started afterwards.

mod support;

use kfvm_kernel::KernelConfig;
use kfvm_runtime::Mode;

const EXPECTED: &[&str] = &[
    // Replay: every cgroup fires cgroup_mkdir.
    "Parent id is 1",
    "bpf_cgroup_from_id(100) is /system.slice",
    "Parent id is 2",
    "bpf_cgroup_from_id(101) is /system.slice/nginx.service",
    // Every task fires task_newtask.
    "acquired task 1 (systemd)",
    "bpf_task_from_pid(1) found systemd",
    "acquired task 2 (kthreadd)",
    "bpf_task_from_pid(2) found kthreadd",
    "acquired task 100 (nginx)",
    "bpf_task_from_pid(100) found nginx",
    "task nginx has CPU affinity",
    // The model's events: a fork, a switch, an exit, a cgroup made and removed.
    "acquired task 101 (nginx-worker)",
    "bpf_task_from_pid(101) found nginx-worker",
    "task nginx-worker has CPU affinity",
    "switch 100 -> 101: next may run on 1 CPUs from CPU 1",
    "task 101 (nginx-worker) exits; the map held it since it was created",
    "Parent id is 2",
    "bpf_cgroup_from_id(102) is /system.slice/cron.service",
    // cgroup_rmdir: what replaced bpf_cgroup_kptr_get(), then the legacy kfunc.
    "cgroup /system.slice/cron.service (level 2) removed; it is still in the map",
    "cgroup /system.slice/cron.service (level 2) removed; the map held it",
];

#[test]
fn kfuncs_rst_examples_print_what_they_should() {
    let (kernel, rt, audit, spec) =
        support::setup(&support::doc_examples(), &support::doc_model(), KernelConfig::small());
    assert_eq!(rt.progs().len(), 11);
    for p in rt.progs() {
        // The verifier accepts every example: they run in verified mode (loads through BTF
        // pointers as BPF_PROBE_MEM loads).
        assert!(matches!(p.mode, Mode::Verified), "{}: {:?}", p.name, p.mode);
    }
    let mut errors = Vec::new();
    rt.replay(&spec, |e| errors.push(e.to_string())).unwrap();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(rt.take_trace(), EXPECTED);
    let runs: Vec<(String, u64)> = rt.progs().iter().map(|p| (p.name.clone(), p.stats().0)).collect();
    assert!(runs.contains(&("record_task_cpumask".into(), 4)), "{runs:?}");
    assert!(runs.contains(&("cgroup_kptr_get_example".into(), 1)), "{runs:?}");
    // The maps still hold references (tasks 1, 2, 100, cgroups, cpumasks) until they are freed.
    assert!(audit.check(&kernel).is_err());
    let m = rt.map("__tasks_kfunc_map").unwrap();
    assert_eq!(m.keys().len(), 3, "task 101 was removed when it exited");
    support::leak_audit(&kernel, rt, &audit);
    assert_eq!(kernel.live_objects(kfvm_kernel::Kind::Cpumask), 0);
}

#[test]
fn tracepoint_programs_test_run_with_model_objects() {
    let (kernel, rt, audit, _) =
        support::setup(&support::doc_examples(), &support::doc_model(), KernelConfig::small());
    let args = |a: &[&str]| a.iter().map(|s| kfvm_kernel::ArgSpec::parse(s).unwrap()).collect::<Vec<_>>();
    let r = rt.test_run("task_get_pid_example", &args(&["task:100", "0"]), None, 3).unwrap();
    assert_eq!(r.retval, 0);
    assert_eq!(rt.take_trace(), vec!["bpf_task_from_pid(100) found nginx"; 3]);
    let r = rt
        .test_run("cgrp_ancestor_example", &args(&["cgroup:/system.slice/nginx.service"]), None, 1)
        .unwrap();
    assert_eq!(r.retval, 0);
    assert_eq!(rt.take_trace(), vec!["Parent id is 2"]);
    // The root has no parent: the example returns -ENOENT.
    let r = rt.test_run("cgrp_ancestor_example", &args(&["cgroup:1"]), None, 1).unwrap();
    assert_eq!(r.retval as i32, -2);
    support::leak_audit(&kernel, rt, &audit);
}
