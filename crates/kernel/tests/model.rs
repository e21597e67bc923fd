//! The kernel model's world: model files (and their errors), objects laid out as the host BTF
//! says, reference counts, RCU reclaim, the leak audit, the snapshot of this machine.

use kfvm_kernel::spec::{CgroupSpec, TaskSpec};
use kfvm_kernel::types::{Cgroup, TaskStruct};
use kfvm_kernel::{Kernel, KernelConfig, Kind, ModelSpec};

const MODEL: &str = r#"
[machine]
cpus = 8

[[cgroup]]
path = "/system.slice"
id = 40

[[cgroup]]
path = "/system.slice/db.service"

[[task]]
pid = 1
comm = "systemd"

[[task]]
pid = 200
ppid = 1
comm = "postgres"
cgroup = "/system.slice/db.service"
cpus = "0-3"

[[task]]
pid = 201
tgid = 200
ppid = 1
comm = "postgres-wal"
cgroup = "/system.slice/db.service"
"#;

fn kernel() -> Kernel {
    let spec = ModelSpec::parse(MODEL, "model.toml").unwrap();
    Kernel::from_spec(&spec, KernelConfig::small()).unwrap()
}

#[test]
fn objects_are_laid_out_as_the_btf_says() {
    let k = kernel();
    assert_eq!(k.nr_cpu_ids(), 8);
    let t = k.task(201).unwrap();
    // SAFETY: the reference keeps the task (and what it points at) alive.
    unsafe {
        let p = t.as_ptr();
        assert_eq!(((*p).pid, (*p).tgid), (201, 200));
        assert_eq!((*(*p).group_leader).pid, 200);
        assert_eq!((*(*p).real_parent).pid, 1);
        assert_eq!((*(*(*p).real_parent).real_parent).pid, 0, "pid 1's parent is swapper/0");
        let comm: Vec<u8> = (*p).comm.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        assert_eq!(comm, b"postgres-wal");
        assert_eq!((*(*p).cpus_ptr).0.bits[0], 0xff);
        let leader = (*p).group_leader;
        assert_eq!((*(*leader).cpus_ptr).0.bits[0], 0x0f);
        assert_eq!((*p).mm, (*leader).mm, "threads share the leader's mm");
        let cg: *mut Cgroup = (*(*p).cgroups).dfl_cgrp;
        assert_eq!((*cg).level, 2);
        let kn = (*cg).kn;
        assert_eq!(std::ffi::CStr::from_ptr((*kn).name).to_str().unwrap(), "db.service");
        let anc = std::ptr::addr_of!((*cg).ancestors) as *const *mut Cgroup;
        assert_eq!(*anc.add(2), cg);
        assert_eq!((*(*(*anc.add(1))).kn).id, 40);
        assert_eq!((*(**anc).kn).id, 1, "ancestors[0] is the root");
        assert_eq!((*cg).self_.parent, std::ptr::addr_of_mut!((**anc.add(1)).self_));
    }
    assert_eq!(k.cgroup_by_path("/system.slice").unwrap().id(), 40);
    assert_eq!(k.cgroup_path(k.cgroup_by_id(40).unwrap().as_ptr()).as_deref(), Some("/system.slice"));
}

#[test]
fn references_and_rcu_reclaim() {
    let k = kernel();
    let audit = k.audit();
    let t = k.task(200).unwrap();
    let p: *mut TaskStruct = t.as_ptr();
    assert!(audit.check(&k).is_err(), "a reference is held");
    // A run holds RCU: the task exits and its last reference goes, but it stays readable.
    let rcu = k.rcu_read_lock();
    k.exit_task(201).unwrap();
    k.exit_task(200).unwrap();
    assert!(k.task(200).is_none());
    assert!(k.try_acquire(p).is_none(), "an exited task cannot be acquired");
    drop(t);
    k.reclaim_due();
    assert!(k.pending_reclaims() > 0);
    assert!(k.memory().contains(p as u64 + 4, 4, false), "still valid inside the read-side section");
    // SAFETY: RCU keeps it.
    assert_eq!(unsafe { (*p).pid }, 200);
    drop(rcu);
    k.synchronize_rcu();
    assert!(!k.memory().contains(p as u64, 4, false), "reclaimed after the grace period");
    assert!(!k.memory().contains(p as u64, 4, true));
    assert!(k.cgroup_by_path("/system.slice/db.service").is_some());
    k.remove_cgroup("/system.slice/db.service").unwrap();
    assert!(k.cgroup_by_path("/system.slice/db.service").is_none());
}

#[test]
fn the_audit_names_leaks() {
    let k = kernel();
    let audit = k.audit();
    let leaked = k.task(1).unwrap().into_raw();
    let e = audit.check(&k).unwrap_err();
    assert!(e.contains("task_struct pid 1 (systemd): reference count"), "{e}");
    drop(k.from_raw(leaked));
    audit.check(&k).unwrap();
    let m = k.alloc_cpumask().unwrap();
    let e = audit.check(&k).unwrap_err();
    assert!(e.contains("bpf_cpumask #0: still referenced (1)"), "{e}");
    drop(k.from_raw(m));
    audit.check(&k).unwrap();
    k.synchronize_rcu();
    assert_eq!(k.live_objects(Kind::Cpumask), 0);
}

#[test]
fn tasks_and_cgroups_come_and_go() {
    let k = kernel();
    let c = k.create_cgroup(&CgroupSpec { path: "/a".into(), id: None }).unwrap();
    assert!(c.id() >= 2);
    let mut spec = TaskSpec::new(300, 1, "worker");
    spec.cgroup = "/a".into();
    drop(k.create_task(&spec).unwrap());
    assert_eq!(k.remove_cgroup("/a").unwrap_err(), "cgroup `/a` has tasks");
    assert!(k.create_task(&spec).unwrap_err().contains("pid in use"));
    k.exit_task(300).unwrap();
    drop(c);
    k.remove_cgroup("/a").unwrap();
    assert_eq!(k.remove_cgroup("/").unwrap_err(), "the root cgroup cannot be removed");
    assert!(k.create_task(&TaskSpec::new(5, 77, "orphan")).unwrap_err().contains("no parent task 77"));
}

#[test]
fn model_file_errors_name_file_line_and_problem() {
    let cases: &[(&str, &str)] = &[
        ("[[task]]\npid = 1\nppid = 9\n", "m.toml:1: task 1: ppid 9 is not a task listed before it"),
        ("[[task]]\npid = 1\n\n[[task]]\npid = 1\n", "m.toml:4: task 1: pid 1 is already a task"),
        (
            "[[cgroup]]\npath = \"/a/b\"\n",
            "m.toml:1: cgroup `/a/b`: its parent `/a` is not a cgroup listed before it",
        ),
        ("[[task]]\npid = 1\ncomm = \"a-very-long-command-name\"\n", "is longer than 15 bytes"),
        ("[[task]]\npid = 1\nbogus = 3\n", "m.toml:3: unknown field `bogus`"),
        ("[machine]\ncpus = 0\n", "m.toml:1: machine.cpus = 0: a model has 1 to 256 CPUs"),
        ("[[task]]\npid = \"x\"\n", "m.toml:2: invalid type: string \"x\", expected i32"),
        ("[[event]]\nexit = 4\n", "m.toml:1: exit: no task 4"),
        ("[[event]]\nhook = \"raw_tp/x\"\nargs = [\"task:9\"]\n", "argument `task:9`: no task 9"),
        ("[[event]]\nexit = 1\nmkdir = \"/a\"\n", "exactly one of"),
        ("x = [\n", "m.toml:1: unclosed array"),
    ];
    for (text, want) in cases {
        let e = ModelSpec::parse(text, "m.toml").unwrap_err().to_string();
        assert!(e.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn snapshot_of_this_machine() {
    let spec = ModelSpec::snapshot();
    assert!(spec.cpus >= 1);
    let me = std::process::id() as i32;
    assert!(spec.tasks.iter().any(|t| t.pid == me), "this process is in the snapshot");
    let k = Kernel::from_spec(&spec, KernelConfig::default()).unwrap();
    let t = k.task(me).unwrap();
    // SAFETY: referenced.
    assert_eq!(unsafe { (*t.as_ptr()).tgid }, me);
}
