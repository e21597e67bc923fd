//! The kernel model's host BTF: it parses and validates with kfvm-btf, tags every kfunc as
//! `vmlinux` does, dumps as C with the `__ksym` prototypes, and bpftool reads it (when present).

use kfvm_btf::{Btf, Kind};
use kfvm_kernel::registry;
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn parses_and_validates() {
    let reg = registry();
    let btf = reg.parsed_btf().expect("host BTF must validate");
    assert_eq!(btf.type_count(), reg.btf_type_count() + 1, "type_count counts void");
    // Every kfunc is a FUNC (linkage static, as in vmlinux) -> FUNC_PROTO with named params,
    // tagged "bpf_kfunc"; the fastcall ones also "bpf_fastcall".
    let tagged: BTreeSet<&str> = btf.funcs_with_decl_tag("bpf_kfunc").iter().map(|t| t.name()).collect();
    let fastcall: BTreeSet<&str> = btf.funcs_with_decl_tag("bpf_fastcall").iter().map(|t| t.name()).collect();
    let kfuncs: BTreeSet<&str> = reg.kfuncs().filter(|k| k.is_kfunc()).map(|k| k.name()).collect();
    assert_eq!(tagged, kfuncs);
    assert_eq!(fastcall, BTreeSet::from(["bpf_cast_to_kern_ctx", "bpf_rdonly_cast"]));
    for k in reg.kfuncs() {
        let f = btf.type_by_id(k.btf_id()).unwrap();
        assert_eq!(f.kind(), Kind::Func);
        assert_eq!(f.name(), k.name());
        assert_eq!(f.size_or_type(), k.proto_id());
        assert_eq!(btf.type_by_id(k.proto_id()).unwrap().kind(), Kind::FuncProto);
        // kfvm's own printer and kfvm-btf's agree on every prototype.
        let theirs = kfvm_btf::c_decl(&btf, k.proto_id(), k.name()).unwrap();
        assert_eq!(reg.c_prototype(k.name()).unwrap(), theirs);
    }
    // Destructors are FUNCs without the tag.
    let dtor = reg.kfunc("bpf_task_release_dtor").unwrap();
    assert!(btf.decl_tags(dtor.btf_id()).is_empty());
    // Named lookups work the way the linker will use them.
    let task = btf.find_by_name_kind("task_struct", Kind::Struct).unwrap();
    assert_eq!(Some(task.id()), reg.type_id("task_struct"));
    assert!(btf.find_by_name_kind("bpf_task_acquire", Kind::Func).is_some());
    assert!(btf.find_by_name_kind("cpumask_t", Kind::Typedef).is_some());
}

#[test]
fn c_header_has_types_and_ksym_prototypes() {
    let reg = registry();
    let h = reg.c_header().unwrap();
    assert!(h.starts_with("#ifndef __VMLINUX_H__"));
    assert!(h.contains("struct task_struct {"), "task_struct defined");
    assert!(h.contains("\tpid_t pid;"), "members keep their kernel types");
    assert!(h.contains("typedef struct cpumask cpumask_t;"));
    assert!(h.contains("struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __weak __ksym;"));
    assert!(h.contains("extern __bpf_fastcall void *bpf_cast_to_kern_ctx(void *obj) __weak __ksym;"));
    assert!(h.contains(
        "int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node, bool (*less)(struct bpf_rb_node *, const struct bpf_rb_node *), void *meta__ign, u64 off) __weak __ksym;"
    ));
    assert!(h.contains("bpf_cgroup_kptr_get(struct cgroup **cgrpp) __weak __ksym __attribute__((deprecated("));
    // Nested-trust shadow structs, as vmlinux.h has them.
    assert!(h.contains("struct task_struct__safe_rcu {"));
}

#[test]
fn bpftool_reads_it() {
    let Ok(out) = Command::new("bpftool").arg("version").output() else {
        eprintln!("skipped: bpftool not installed");
        return;
    };
    if !out.status.success() {
        eprintln!("skipped: bpftool does not run");
        return;
    }
    let reg = registry();
    let path = std::env::temp_dir().join(format!("kfvm-host-btf-{}.btf", std::process::id()));
    std::fs::write(&path, reg.btf()).unwrap();
    let raw = Command::new("bpftool").args(["btf", "dump", "file"]).arg(&path).output().unwrap();
    let c = Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(&path)
        .args(["format", "c"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(raw.status.success(), "bpftool raw dump failed: {}", String::from_utf8_lossy(&raw.stderr));
    assert!(c.status.success(), "bpftool C dump failed: {}", String::from_utf8_lossy(&c.stderr));
    let raw = String::from_utf8(raw.stdout).unwrap();
    let c = String::from_utf8(c.stdout).unwrap();
    // bpftool's raw listing is kfvm-btf's.
    let btf = Btf::from_vec(reg.btf()).unwrap();
    assert_eq!(raw, kfvm_btf::dump_raw(&btf));
    assert!(raw.contains("FUNC 'bpf_task_acquire'"));
    assert!(raw.contains("DECL_TAG 'bpf_kfunc'"));
    assert!(c.contains("struct task_struct {"));
    // Without kfunc prototypes (bpftool 7.1 prints none), kfvm-btf's C dump is bpftool's.
    let ours = kfvm_btf::dump_c(&btf, &kfvm_btf::CDumpOptions::default()).unwrap();
    assert_eq!(c, ours);
}
