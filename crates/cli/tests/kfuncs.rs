//! `kfvm kfuncs` and `kfvm btf dump --host`.

mod common;

use common::kfvm;

#[test]
fn lists_kfuncs_with_flags_hooks_and_deprecation() {
    let (ok, out, _) = kfvm(&["kfuncs"]);
    assert!(ok);
    assert!(out.contains("struct task_struct *bpf_task_acquire(struct task_struct *p)\n    flags: KF_ACQUIRE | KF_RET_NULL | KF_RCU\n    hooks: XDP, TC, STRUCT_OPS, TRACING, SYSCALL, CGROUP (sets: generic_btf_ids)\n"), "{out}");
    assert!(
        out.contains(
            "    deprecated: KF_KPTR_GET kfuncs were removed from Linux in 6.4; use bpf_rcu_read_lock();"
        ),
        "{out}"
    );
    assert!(out.ends_with("85 kfuncs\n"), "{out}");
}

#[test]
fn filters_by_program_type() {
    let (ok, out, _) = kfvm(&["kfuncs", "--prog-type", "kprobe"]);
    assert!(ok);
    assert!(!out.contains("bpf_task_acquire"), "not allowed for kprobes in 6.18");
    assert!(out.contains("void bpf_rcu_read_lock(void)"));
    assert!(out.ends_with("28 kfuncs callable from BPF_PROG_TYPE_KPROBE\n"), "{out}");
    let (ok, _, err) = kfvm(&["kfuncs", "--prog-type", "bogus"]);
    assert!(!ok);
    assert!(err.contains("unknown program type `bogus`"), "{err}");
}

#[test]
fn json() {
    let (ok, out, _) = kfvm(&["kfuncs", "--json", "--prog-type", "syscall"]);
    assert!(ok);
    assert!(out.starts_with("[\n  {\"name\": "));
    assert!(out.contains("{\"name\": \"bpf_cpumask_populate\", \"btf_id\": "));
    assert!(out.contains("\"prototype\": \"int bpf_cpumask_populate(struct cpumask *cpumask, void *src, size_t src__sz)\", \"flags\": [\"KF_RCU\"]"));
    assert!(out.contains("\"deprecation\": {\"note\": \"KF_KPTR_GET kfuncs were removed from Linux in 6.4\""));
    assert!(out.trim_end().ends_with(']'));
}

#[test]
fn host_btf_dump() {
    let (ok, c, _) = kfvm(&["btf", "dump", "--host", "--format", "c"]);
    assert!(ok);
    assert!(c.contains("extern struct task_struct *bpf_task_acquire(struct task_struct *p) __weak __ksym;"));
    let (ok, raw, _) = kfvm(&["btf", "dump", "--host"]);
    assert!(ok);
    assert!(raw.contains("FUNC 'bpf_task_acquire' type_id="));
    let (ok, _, err) = kfvm(&["btf", "dump"]);
    assert!(!ok);
    assert!(err.contains("give a BTF FILE, or --host"), "{err}");
}
