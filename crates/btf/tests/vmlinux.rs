//! The running kernel's BTF (`/sys/kernel/btf/vmlinux` and any module BTF next to it), checked
//! against bpftool and clang when they are installed. Each test skips, saying why, when what it
//! needs is absent.

mod common;

use common::*;
use kfvm_btf::{dump_c, dump_raw, Btf, BtfBuilder, CDumpOptions, Kind};
use std::process::Command;
use std::sync::Arc;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn vmlinux() -> Option<Btf> {
    match std::fs::read(VMLINUX) {
        Ok(d) => Some(Btf::from_vec(d).expect("vmlinux BTF parses and validates")),
        Err(e) => {
            eprintln!("skipped: cannot read {VMLINUX}: {e}");
            None
        }
    }
}

fn bpftool() -> Option<String> {
    let t = tool("bpftool");
    if t.is_none() {
        eprintln!("skipped: bpftool not installed");
    }
    t
}

fn clang() -> Option<String> {
    let t = std::env::var("CLANG")
        .ok()
        .and_then(|c| tool(&c))
        .or_else(|| tool("clang-19"))
        .or_else(|| tool("clang"));
    if t.is_none() {
        eprintln!("skipped: no clang (clang-19, clang or $CLANG)");
    }
    t
}

/// Line-level diff summary: lines only in ours, lines only in theirs (as multisets).
fn diff_stats(ours: &str, theirs: &str) -> (usize, usize) {
    let mut counts = std::collections::HashMap::<&str, i64>::new();
    for l in ours.lines() {
        *counts.entry(l).or_default() += 1;
    }
    for l in theirs.lines() {
        *counts.entry(l).or_default() -= 1;
    }
    let only_ours = counts.values().filter(|&&c| c > 0).map(|&c| c as usize).sum();
    let only_theirs = counts.values().filter(|&&c| c < 0).map(|&c| -c as usize).sum();
    (only_ours, only_theirs)
}

#[test]
fn vmlinux_dumps_like_bpftool() {
    let Some(btf) = vmlinux() else { return };
    let Some(bpftool) = bpftool() else { return };
    let raw = run(Command::new(&bpftool).args(["btf", "dump", "file", VMLINUX]));
    assert_same_text("raw dump of vmlinux", &dump_raw(&btf), &raw);
    let c = run(Command::new(&bpftool).args(["btf", "dump", "file", VMLINUX, "format", "c"]));
    let ours = dump_c(&btf, &CDumpOptions::default()).unwrap();
    if ours != c {
        let (a, b) = diff_stats(&ours, &c);
        eprintln!("C dump differs from bpftool's: {a} lines only in ours, {b} only in bpftool's");
    }
    assert_same_text("C dump of vmlinux", &ours, &c);
}

/// With `BPFTOOL_LATEST` naming a bpftool 7.5+ (sorted output and kfunc prototypes by
/// default), kfvm's `CDumpOptions::bpftool_latest()` must print what it prints.
#[test]
fn vmlinux_dumps_like_latest_bpftool() {
    let Some(btf) = vmlinux() else { return };
    let Some(bpftool) = std::env::var("BPFTOOL_LATEST").ok() else {
        eprintln!("skipped: BPFTOOL_LATEST (a bpftool 7.5 or later) not set");
        return;
    };
    let c = run(Command::new(&bpftool).args(["btf", "dump", "file", VMLINUX, "format", "c"]));
    assert_same_text("sorted C dump of vmlinux", &dump_c(&btf, &CDumpOptions::bpftool_latest()).unwrap(), &c);
    let c = run(Command::new(&bpftool).args(["btf", "dump", "file", VMLINUX, "format", "c", "unsorted"]));
    let unsorted = CDumpOptions { sorted: false, ..CDumpOptions::bpftool_latest() };
    assert_same_text("unsorted C dump of vmlinux", &dump_c(&btf, &unsorted).unwrap(), &c);
}

fn compile_vmlinux_h(clang: &str, header: &str, extra: &str, test: &str) {
    let dir = scratch(test);
    std::fs::write(dir.join("vmlinux.h"), header).unwrap();
    let src = format!(
        r#"#include "vmlinux.h"
#define SEC(n) __attribute__((section(n), used))
SEC("tp_btf/sched_switch")
int handle(unsigned long long *ctx)
{{
	struct task_struct *prev = (struct task_struct *)ctx[1];
	struct sk_buff *skb = 0;
	return prev->pid + (skb ? skb->len : 0) + sizeof(struct bpf_prog) + BPF_MAP_TYPE_HASH;
}}
{extra}
char LICENSE[] SEC("license") = "GPL";
"#
    );
    std::fs::write(dir.join("prog.bpf.c"), src).unwrap();
    run(Command::new(clang).current_dir(&dir).args([
        "-target",
        "bpf",
        "-O2",
        "-g",
        "-Wall",
        "-Werror",
        "-c",
        "prog.bpf.c",
        "-o",
        "prog.bpf.o",
    ]));
    let obj = std::fs::read(dir.join("prog.bpf.o")).unwrap();
    assert!(elf_section(&obj, ".BTF").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vmlinux_c_dump_compiles_with_clang() {
    let Some(btf) = vmlinux() else { return };
    let Some(clang) = clang() else { return };
    let header = dump_c(&btf, &CDumpOptions::default()).unwrap();
    compile_vmlinux_h(&clang, &header, "", "plain");
}

#[test]
fn vmlinux_c_dump_with_kfuncs_compiles_with_clang() {
    let Some(btf) = vmlinux() else { return };
    let kfuncs = btf.funcs_with_decl_tag("bpf_kfunc");
    if kfuncs.is_empty() {
        eprintln!("skipped: this kernel's BTF tags no FUNC with bpf_kfunc");
        return;
    }
    let header = dump_c(&btf, &CDumpOptions { kfuncs: true, ..Default::default() }).unwrap();
    // bpftool prints one prototype per bpf_kfunc decl tag on a FUNC.
    let tags = btf
        .all_types()
        .filter(|t| {
            t.kind() == Kind::DeclTag
                && t.name() == "bpf_kfunc"
                && t.decl_tag_component_raw() == Some(-1)
                && btf.get(t.size_or_type()).is_some_and(|f| f.kind() == Kind::Func)
        })
        .count();
    let externs = header.lines().filter(|l| l.starts_with("extern ")).count();
    assert_eq!(externs, tags, "one prototype per bpf_kfunc tag");
    for f in &kfuncs {
        assert!(
            header.contains(&format!(" {}(", f.name())) || header.contains(&format!("*{}(", f.name())),
            "no prototype for {}",
            f.name()
        );
    }
    let Some(clang) = clang() else { return };
    // Call two kfuncs through the generated prototypes, if this kernel has them.
    let has = |n: &str| kfuncs.iter().any(|f| f.name() == n);
    let extra = if has("bpf_task_acquire") && has("bpf_task_release") {
        r#"SEC("tp_btf/task_newtask")
int use_kfuncs(unsigned long long *ctx)
{
	struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx[0]);

	if (t)
		bpf_task_release(t);
	return 0;
}"#
    } else {
        ""
    };
    compile_vmlinux_h(&clang, &header, extra, "kfuncs");
}

#[test]
fn vmlinux_queries() {
    let Some(btf) = vmlinux() else { return };
    assert!(btf.type_count() > 1000);
    assert_eq!(btf.ptr_size(), 8);
    let task = btf.find_by_name_kind("task_struct", Kind::Struct).expect("task_struct");
    assert!(btf.resolve_size(task.id()).unwrap() > 1000);
    let (pid, off) = btf.find_member(task.id(), "pid").unwrap().expect("task_struct.pid");
    assert_eq!(btf.skip_mods_and_typedefs(pid.type_id).unwrap().name(), "int");
    assert_eq!(off % 8, 0);
    let u32t = btf.find_by_name_kind("u32", Kind::Typedef).expect("u32");
    assert_eq!(btf.resolve_size(u32t.id()).unwrap(), 4);
    let (e, v) = btf.find_enum_value("BPF_MAP_TYPE_HASH").expect("BPF_MAP_TYPE_HASH");
    assert_eq!(e.name(), "bpf_map_type");
    assert_eq!(v.as_u64(), 1);
    for f in btf.funcs_with_decl_tag("bpf_kfunc") {
        assert_eq!(f.kind(), Kind::Func);
        assert_eq!(btf.func_proto(f.id()).unwrap().kind(), Kind::FuncProto);
    }
}

#[test]
fn vmlinux_round_trips_through_the_builder() {
    let Some(btf) = vmlinux() else { return };
    let rebuilt = BtfBuilder::from_btf(&btf).build().expect("rebuilt vmlinux validates");
    assert_eq!(rebuilt.type_count(), btf.type_count());
    assert_same_text("rebuilt vmlinux", &dump_raw(&rebuilt), &dump_raw(&btf));
}

#[test]
fn module_btf_splits_on_vmlinux() {
    let Some(base) = vmlinux() else { return };
    let base = Arc::new(base);
    let mut modules: Vec<_> = match std::fs::read_dir("/sys/kernel/btf") {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n != "vmlinux"))
            .collect(),
        Err(_) => Vec::new(),
    };
    if modules.is_empty() {
        eprintln!("skipped: no module BTF in /sys/kernel/btf (split BTF is covered by the corpus)");
        return;
    }
    modules.sort();
    let bpftool = tool("bpftool");
    for m in modules.iter().take(20) {
        let data = std::fs::read(m).unwrap();
        let split =
            Btf::from_vec_split(data, base.clone()).unwrap_or_else(|e| panic!("{}: {e}", m.display()));
        assert_eq!(split.start_id(), base.type_count());
        if let Some(bpftool) = &bpftool {
            let p = m.to_str().unwrap();
            let raw = run(Command::new(bpftool).args(["btf", "dump", "file", p, "-B", VMLINUX]));
            assert_same_text(&format!("raw dump of {p}"), &dump_raw(&split), &raw);
        }
    }
}
