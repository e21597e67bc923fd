//! `kfvm link`.

mod common;

use common::kfvm;

const LINK_PROGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../link/tests/progs");

#[test]
fn links_against_the_model() {
    let obj = format!("{LINK_PROGS}/../../../kernel/tests/progs/core_kfuncs.bpf.o");
    let (ok, out, err) = kfvm(&["link", &obj]);
    assert!(ok, "{err}");
    let reg = kfvm::kernel::registry();
    let id = reg.kfunc("bpf_cpumask_create").unwrap().btf_id();
    assert!(out.contains(&format!("call bpf_cpumask_create#{id}")), "{out}");
    assert!(out.contains(&format!("extern 6 'bpf_cpumask_create': kfunc [{id}]")), "{out}");
    assert!(out.contains("; CO-RE <byte_off> ["), "{out}");
    let (ok, one, _) = kfvm(&["link", &obj, "--prog", "cpumasks"]);
    assert!(ok && one.starts_with("prog 'cpumasks'"), "{one}");
}

#[test]
fn links_against_a_btf_file_with_kconfig_and_log() {
    let obj = format!("{LINK_PROGS}/kinds.bpf.o");
    let target = format!("{LINK_PROGS}/../data/kinds_target.btf");
    let (ok, out, err) = kfvm(&["link", &obj, "--target", &target, "-v", "--prog", "poisoned"]);
    assert!(ok, "{err}");
    assert!(out.contains("libbpf: warning: prog 'poisoned': relo #"), "{out}");
    assert!(out.contains("call unknown#195896080"), "{out}");

    let kconfig = format!("{LINK_PROGS}/../data/kconfig");
    let (ok, out, err) = kfvm(&["link", &format!("{LINK_PROGS}/externs.bpf.o"), "--kconfig", &kconfig]);
    assert!(ok, "{err}");
    assert!(out.contains("extern 2 'CONFIG_HZ': kconfig at 12 = [fa, 00, 00, 00]"), "{out}");
    assert!(out.contains("extern 12 'bpf_kfvm_no_such_kfunc': unresolved (weak)"), "{out}");
}

#[test]
fn refuses_with_libbpfs_message() {
    let (ok, _, err) = kfvm(&["link", &format!("{LINK_PROGS}/bad_missing.bpf.o")]);
    assert!(!ok);
    assert!(
        err.contains("extern (func ksym) 'bpf_kfvm_no_such_kfunc': not found in kernel or module BTFs"),
        "{err}"
    );
    let (ok, _, err) = kfvm(&["link", &format!("{LINK_PROGS}/kinds.bpf.o"), "--target", "/nonexistent"]);
    assert!(!ok && err.contains("/nonexistent"), "{err}");
}
