//! The core kfunc catalogue against Linux 6.18: for every core kfunc, the prototype, the flags,
//! the sets and program types it is registered for, and the program types allowed to call it
//! equal the live kernel's.
//!
//! The oracle is `tests/data/live-kfuncs-6.18.tsv`, a copy of `../shared/reference/
//! live-kfuncs-6.18.tsv` (prototypes from the live 6.18.44 BTF, flags and registrations from the
//! v6.18.2 sources), kept here so the test is self-contained.

use kfvm_kernel::{registry, registry_with, CoreOptions};
use kfvm_kfunc::{
    bpf_prog_type_to_kfunc_hook, BpfProgType, KfFlags, KfuncHook, NestedTrust, ProgInfo, Registration,
};
use std::collections::{BTreeMap, BTreeSet};

/// The core kfuncs of `../shared/reference/core-kfuncs.md` (every section but the 7.3 additions).
const CORE: &[&str] = &[
    "bpf_task_acquire",
    "bpf_task_release",
    "bpf_task_from_pid",
    "bpf_task_from_vpid",
    "bpf_task_under_cgroup",
    "bpf_task_get_cgroup1",
    "bpf_cgroup_acquire",
    "bpf_cgroup_release",
    "bpf_cgroup_ancestor",
    "bpf_cgroup_from_id",
    "bpf_cpumask_create",
    "bpf_cpumask_release",
    "bpf_cpumask_acquire",
    "bpf_cpumask_first",
    "bpf_cpumask_first_zero",
    "bpf_cpumask_first_and",
    "bpf_cpumask_set_cpu",
    "bpf_cpumask_clear_cpu",
    "bpf_cpumask_test_cpu",
    "bpf_cpumask_test_and_set_cpu",
    "bpf_cpumask_test_and_clear_cpu",
    "bpf_cpumask_setall",
    "bpf_cpumask_clear",
    "bpf_cpumask_and",
    "bpf_cpumask_or",
    "bpf_cpumask_xor",
    "bpf_cpumask_equal",
    "bpf_cpumask_intersects",
    "bpf_cpumask_subset",
    "bpf_cpumask_empty",
    "bpf_cpumask_full",
    "bpf_cpumask_copy",
    "bpf_cpumask_any_distribute",
    "bpf_cpumask_any_and_distribute",
    "bpf_cpumask_weight",
    "bpf_cpumask_populate",
    "bpf_rcu_read_lock",
    "bpf_rcu_read_unlock",
    "bpf_preempt_disable",
    "bpf_preempt_enable",
    "bpf_local_irq_save",
    "bpf_local_irq_restore",
    "bpf_obj_new_impl",
    "bpf_obj_drop_impl",
    "bpf_percpu_obj_new_impl",
    "bpf_percpu_obj_drop_impl",
    "bpf_refcount_acquire_impl",
    "bpf_list_push_front_impl",
    "bpf_list_push_back_impl",
    "bpf_list_pop_front",
    "bpf_list_pop_back",
    "bpf_list_front",
    "bpf_list_back",
    "bpf_rbtree_add_impl",
    "bpf_rbtree_remove",
    "bpf_rbtree_first",
    "bpf_rbtree_root",
    "bpf_rbtree_left",
    "bpf_rbtree_right",
    "bpf_dynptr_from_skb",
    "bpf_dynptr_from_skb_meta",
    "bpf_dynptr_from_xdp",
    "bpf_dynptr_slice",
    "bpf_dynptr_slice_rdwr",
    "bpf_dynptr_adjust",
    "bpf_dynptr_is_null",
    "bpf_dynptr_is_rdonly",
    "bpf_dynptr_size",
    "bpf_dynptr_clone",
    "bpf_dynptr_copy",
    "bpf_dynptr_memset",
    "bpf_probe_read_user_dynptr",
    "bpf_probe_read_kernel_dynptr",
    "bpf_probe_read_user_str_dynptr",
    "bpf_probe_read_kernel_str_dynptr",
    "bpf_copy_from_user_dynptr",
    "bpf_copy_from_user_str_dynptr",
    "bpf_copy_from_user_task_dynptr",
    "bpf_copy_from_user_task_str_dynptr",
    "bpf_iter_num_new",
    "bpf_iter_num_next",
    "bpf_iter_num_destroy",
    "bpf_cast_to_kern_ctx",
    "bpf_rdonly_cast",
];

/// One registration as the TSV writes it: `set(file) -> PROG,TYPES -> HOOKS [filter f]`.
#[derive(Debug)]
struct TsvReg {
    set: String,
    prog_types: Vec<BpfProgType>,
    hooks: Vec<KfuncHook>,
    filter: Option<String>,
}

#[derive(Debug)]
struct TsvRow {
    proto: String,
    fastcall: bool,
    flags: KfFlags,
    regs: Vec<TsvReg>,
}

fn hook_by_name(name: &str) -> KfuncHook {
    KfuncHook::ALL.iter().copied().find(|h| h.name() == name).unwrap_or_else(|| panic!("unknown hook {name}"))
}

fn tsv() -> BTreeMap<String, TsvRow> {
    let text = include_str!("data/live-kfuncs-6.18.tsv");
    let mut rows = BTreeMap::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "bad TSV line: {line}");
        let (proto, fastcall) = match cols[1].strip_suffix("[bpf_fastcall]") {
            Some(p) => (p.trim_end().to_owned(), true),
            None => (cols[1].to_owned(), false),
        };
        let flags: KfFlags = cols[2].parse().unwrap_or_else(|e| panic!("{}: {e}", cols[0]));
        let mut regs = Vec::new();
        for r in cols[3].split(" ; ") {
            let parts: Vec<&str> = r.split(" -> ").collect();
            assert_eq!(parts.len(), 3, "bad registration: {r}");
            let set = parts[0].split('(').next().unwrap().to_owned();
            // `FMODRET` is register_btf_fmodret_id_set(), not a program type.
            let prog_types =
                parts[1].split(',').filter(|t| *t != "FMODRET").map(|t| t.parse().unwrap()).collect();
            let (hooks, filter) = match parts[2].split_once(" [filter ") {
                Some((h, f)) => (h, Some(f.trim_end_matches(']').to_owned())),
                None => (parts[2], None),
            };
            let hooks = hooks.split(',').map(hook_by_name).collect();
            regs.push(TsvReg { set, prog_types, hooks, filter });
        }
        rows.insert(cols[0].to_owned(), TsvRow { proto, fastcall, flags, regs });
    }
    rows
}

#[test]
fn tsv_hooks_agree_with_our_hook_map() {
    // The TSV's third column is the kernel's own mapping of the second: ours must give it too.
    for (name, row) in tsv() {
        for r in &row.regs {
            if r.hooks == [KfuncHook::Fmodret] {
                continue; // register_btf_fmodret_id_set(), not a prog-type registration
            }
            let mut ours: Vec<KfuncHook> =
                r.prog_types.iter().map(|t| bpf_prog_type_to_kfunc_hook(*t).unwrap()).collect();
            ours.sort();
            ours.dedup();
            let mut theirs = r.hooks.clone();
            theirs.sort();
            assert_eq!(ours, theirs, "{name}: {} hooks", r.set);
        }
    }
}

#[test]
fn every_core_kfunc_matches_linux_6_18() {
    let rows = tsv();
    let reg = registry();
    let mut failures = Vec::new();
    for &name in CORE {
        let row = rows.get(name).unwrap_or_else(|| panic!("{name} is not in the TSV"));
        let Some(k) = reg.kfunc(name) else {
            failures.push(format!("{name}: not registered"));
            continue;
        };
        if !k.is_kfunc() {
            failures.push(format!("{name}: not tagged as a kfunc"));
        }
        // Prototype, spelled as bpftool spells the live BTF.
        let proto = reg.c_prototype(name).unwrap();
        if proto != row.proto {
            failures.push(format!("{name}: prototype\n  ours:  {proto}\n  linux: {}", row.proto));
        }
        // The bpf_fastcall decl tag.
        let fastcall = k.registrations().iter().any(|r| r.flags.contains(KfFlags::FASTCALL));
        if fastcall != row.fastcall {
            failures.push(format!("{name}: bpf_fastcall tag {fastcall}, linux {}", row.fastcall));
        }
        // Flags in every registration.
        for r in k.registrations() {
            if r.flags != row.flags {
                failures.push(format!("{name}: flags {} in {}, linux {}", r.flags, r.set, row.flags));
            }
        }
        // The same sets registered for the same program types.
        let ours: BTreeSet<(String, BpfProgType)> =
            k.registrations().iter().map(|r: &Registration| (r.set.clone(), r.prog_type)).collect();
        let theirs: BTreeSet<(String, BpfProgType)> = row
            .regs
            .iter()
            .flat_map(|r| {
                let prog_types = if r.prog_types == [BpfProgType::Unspec] {
                    vec![BpfProgType::Unspec]
                } else {
                    r.prog_types.clone()
                };
                prog_types.into_iter().map(move |t| (r.set.clone(), t))
            })
            .collect();
        if ours != theirs {
            failures.push(format!("{name}: registrations\n  ours:  {ours:?}\n  linux: {theirs:?}"));
        }
        // The program types allowed to call it (filters asked about a program with nothing
        // else known, which is how the kernel's filters see it before attach details matter).
        let allowed: BTreeSet<BpfProgType> = reg.allowed_prog_types(k.btf_id()).into_iter().collect();
        let expected: BTreeSet<BpfProgType> =
            row.regs.iter().flat_map(|r| r.hooks.iter().flat_map(|h| h.prog_types())).collect();
        if allowed != expected {
            failures
                .push(format!("{name}: allowed program types\n  ours:  {allowed:?}\n  linux: {expected:?}"));
        }
        // Filters named in the TSV exist on our side.
        for r in &row.regs {
            if let Some(f) = &r.filter {
                let hook = r.hooks[0];
                if !reg.hook_filters(hook).iter().any(|g| g.name() == f) {
                    failures.push(format!("{name}: no filter {f} on hook {hook}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn nothing_but_core_and_declared_legacy() {
    let reg = registry();
    let core: BTreeSet<&str> = CORE.iter().copied().collect();
    for k in reg.kfuncs().filter(|k| k.is_kfunc()) {
        if core.contains(k.name()) {
            continue;
        }
        let d = k.deprecation().unwrap_or_else(|| panic!("{} is neither core nor deprecated", k.name()));
        assert_eq!(k.name(), "bpf_cgroup_kptr_get");
        assert_eq!(d.replacement.map(|r| r.contains("bpf_cgroup_acquire")), Some(true));
        assert_eq!(d.removed_in.map(|v| v.to_string()).as_deref(), Some("6.4"));
    }
    assert_eq!(reg.kfuncs().filter(|k| k.is_kfunc()).count(), CORE.len() + 1);
    let plain = registry_with(CoreOptions { legacy: false });
    assert!(plain.kfunc("bpf_cgroup_kptr_get").is_none());
    assert_eq!(plain.kfuncs().filter(|k| k.is_kfunc()).count(), CORE.len());
}

#[test]
fn legacy_kptr_get() {
    let reg = registry();
    let k = reg.kfunc("bpf_cgroup_kptr_get").unwrap();
    assert_eq!(k.flags(), KfFlags::ACQUIRE | KfFlags::KPTR_GET | KfFlags::RET_NULL);
    assert_eq!(
        reg.c_prototype("bpf_cgroup_kptr_get").unwrap(),
        "struct cgroup *bpf_cgroup_kptr_get(struct cgroup **cgrpp)"
    );
    assert!(reg.is_allowed("bpf_cgroup_kptr_get", &ProgInfo::new(BpfProgType::Tracing)));
    assert!(!reg.is_allowed("bpf_cgroup_kptr_get", &ProgInfo::new(BpfProgType::Kprobe)));
    let header = reg.c_header().unwrap();
    let line = header.lines().find(|l| l.contains("bpf_cgroup_kptr_get")).unwrap();
    assert!(line.contains("__attribute__((deprecated(\"deprecated: KF_KPTR_GET"), "{line}");
}

#[test]
fn kprobe_cannot_acquire_tasks() {
    // selftest task_kfunc_acquire_unsafe_kretprobe: "calling kernel function bpf_task_acquire is not allowed"
    let reg = registry();
    assert!(!reg.is_allowed("bpf_task_acquire", &ProgInfo::new(BpfProgType::Kprobe)));
    assert!(reg.is_allowed("bpf_task_acquire", &ProgInfo::new(BpfProgType::Lsm)));
    assert!(reg.is_allowed("bpf_rcu_read_lock", &ProgInfo::new(BpfProgType::Kprobe)));
    // freplace takes its target's type.
    let mut ext = ProgInfo::new(BpfProgType::Ext);
    assert!(!reg.is_allowed("bpf_task_acquire", &ext));
    ext.dst_prog_type = Some(BpfProgType::Tracing);
    assert!(reg.is_allowed("bpf_task_acquire", &ext));
}

#[test]
fn qdisc_filter_keeps_dynptr_from_skb_visible() {
    let reg = registry();
    let mut p = ProgInfo::new(BpfProgType::StructOps);
    p.struct_ops_type = Some("Qdisc_ops".into());
    p.attach_func_name = Some("dequeue".into());
    assert!(reg.is_allowed("bpf_dynptr_from_skb", &p));
    p.struct_ops_type = Some("sched_ext_ops".into());
    assert!(reg.is_allowed("bpf_dynptr_from_skb", &p));
}

#[test]
fn dtors_trust_and_rcu_types() {
    let reg = registry();
    let task = reg.type_id("task_struct").unwrap();
    let cgroup = reg.type_id("cgroup").unwrap();
    let bpf_cpumask = reg.type_id("bpf_cpumask").unwrap();
    for (ty, dtor) in [
        (task, "bpf_task_release_dtor"),
        (cgroup, "bpf_cgroup_release_dtor"),
        (bpf_cpumask, "bpf_cpumask_release_dtor"),
    ] {
        let id = reg.find_dtor_kfunc(ty).unwrap();
        let d = reg.kfunc_by_id(id).unwrap();
        assert_eq!(d.name(), dtor);
        assert!(!d.is_kfunc(), "{dtor} is not a kfunc (no bpf_kfunc tag), as in vmlinux");
        assert!(reg.is_rcu_protected_type(ty));
    }
    assert_eq!(reg.find_dtor_kfunc(reg.type_id("css_set").unwrap()), None);
    assert_eq!(reg.nested_trust("task_struct", "real_parent"), Some(NestedTrust::Rcu));
    assert_eq!(reg.nested_trust("task_struct", "cgroups"), Some(NestedTrust::Rcu));
    assert_eq!(reg.nested_trust("task_struct", "cpus_ptr"), Some(NestedTrust::Rcu));
    assert_eq!(reg.nested_trust("task_struct", "parent"), None);
    assert_eq!(reg.nested_trust("task_struct", "mm"), None);
    assert_eq!(reg.nested_trust("cgroup", "kn"), Some(NestedTrust::Rcu));
    assert_eq!(reg.nested_trust("css_set", "dfl_cgrp"), Some(NestedTrust::Rcu));
    assert_eq!(reg.nested_trust("cgroup_subsys_state", "cgroup"), Some(NestedTrust::Rcu));
    assert_eq!(reg.nested_trust("mm_struct", "exe_file"), Some(NestedTrust::RcuOrNull));
    assert_eq!(reg.nested_trust("file", "f_inode"), Some(NestedTrust::Trusted));
    // The shadow structs are in the BTF, as in vmlinux.
    assert!(reg.type_id("task_struct__safe_rcu").is_some());
    assert!(reg.type_id("mm_struct__safe_rcu_or_null").is_some());
    assert!(reg.type_id("file__safe_trusted").is_some());
}
