//! Several threads run programs that acquire and release tasks and cgroups (found by pid and
//! id) while other threads create and destroy those tasks and cgroups. Every run must see
//! consistent objects (a program that read a reused object would return a negative value), and
//! afterwards every reference count is back where it started.
//!
//! `KFVM_STRESS_ROUNDS` scales it (default 1000 rounds per thread). It has also been run under
//! AddressSanitizer: `RUSTFLAGS=-Zsanitizer=address cargo +nightly test -p kfvm-runtime --test
//! stress --target x86_64-unknown-linux-gnu`.

mod support;

use kfvm_kernel::spec::{CgroupSpec, TaskSpec};
use kfvm_kernel::{Kernel, KernelConfig, ModelSpec};
use kfvm_runtime::{LoadOptions, Runtime};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

fn rounds() -> u64 {
    std::env::var("KFVM_STRESS_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

fn args(pid: i32, cgid: u64) -> Vec<u8> {
    let mut v = pid.to_ne_bytes().to_vec();
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(&cgid.to_ne_bytes());
    v
}

/// xorshift, per thread.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn programs_and_the_model_change_concurrently() {
    let mut spec =
        ModelSpec::parse("[machine]\ncpus = 4\n[[task]]\npid = 1\ncomm = \"init\"\n", "stress").unwrap();
    spec.cgroups.push(CgroupSpec { path: "/s".into(), id: Some(50) });
    let kernel = Kernel::from_spec(
        &spec,
        KernelConfig { max_tasks: 4096, max_cgroups: 1024, ..KernelConfig::small() },
    )
    .unwrap();
    let audit = kernel.audit();
    let registry = kfvm_kernel::registry();
    let rt = Arc::new(
        Runtime::load(
            &kernel,
            &registry,
            &support::linked("retval.bpf.o", &registry),
            &LoadOptions::default(),
        )
        .unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let found = Arc::new(AtomicU64::new(0));
    let rounds = rounds();
    std::thread::scope(|s| {
        // Mutators: tasks 1000.. and cgroups /s/N come and go.
        for m in 0..2u64 {
            let kernel = kernel.clone();
            let done = done.clone();
            s.spawn(move || {
                let mut seed = 0x1234_5678 + m;
                for r in 0..rounds * 2 {
                    let i = (next(&mut seed) % 64) as i32;
                    let pid = 1000 + m as i32 * 100 + i;
                    if kernel.exit_task(pid).is_err() {
                        let mut t = TaskSpec::new(pid, 1, "worker");
                        if r % 3 == 0 {
                            t.cgroup = "/s".into();
                        }
                        let _ = kernel.create_task(&t);
                    }
                    let c = format!("/s/c{}", m * 100 + next(&mut seed) % 16);
                    if kernel.remove_cgroup(&c).is_err() {
                        let _ = kernel.create_cgroup(&CgroupSpec { path: c, id: None });
                    }
                }
                done.store(true, Ordering::Relaxed);
            });
        }
        // Runners: programs look tasks and cgroups up, walk them and take references.
        for t in 0..3u64 {
            let rt = rt.clone();
            let found = found.clone();
            s.spawn(move || {
                let mut seed = 0x9abc_def0 + t;
                for _ in 0..rounds {
                    let pid = 1000 + (next(&mut seed) % 200) as i32;
                    let cgid = 50 + next(&mut seed) % 40;
                    let r = rt.test_run("stress_task", &[], Some(&args(pid, cgid)), 1).unwrap().retval as i32;
                    assert!(r >= 0, "stress_task({pid}) saw an inconsistent task: {r}");
                    let c =
                        rt.test_run("stress_cgroup", &[], Some(&args(pid, cgid)), 1).unwrap().retval as i32;
                    assert!(c >= 0, "stress_cgroup({cgid}) saw an inconsistent cgroup: {c}");
                    found.fetch_add((r + c) as u64, Ordering::Relaxed);
                }
            });
        }
    });
    assert!(done.load(Ordering::Relaxed));
    assert!(found.load(Ordering::Relaxed) > 0, "the programs found objects");
    // Clean up what the mutators left, then audit.
    for pid in kernel.pids() {
        if pid >= 1000 {
            kernel.exit_task(pid).unwrap();
        }
    }
    for p in kernel.cgroup_paths().into_iter().rev() {
        if p.starts_with("/s/") {
            kernel.remove_cgroup(&p).unwrap();
        }
    }
    let rt = Arc::try_unwrap(rt).unwrap();
    support::leak_audit(&kernel, rt, &audit);
    kernel.synchronize_rcu();
    assert_eq!(kernel.live_objects(kfvm_kernel::Kind::Cpumask), 0);
}
