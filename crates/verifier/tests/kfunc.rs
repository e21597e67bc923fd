//! kfunc-call rules the C corpus (crates/kfvm/tests/verifier/kfunc_*.bpf.c) cannot reach with the
//! kernel model's kfuncs: a `KF_DESTRUCTIVE` kfunc and `CAP_SYS_BOOT`, ids that are not kfuncs,
//! `KF_DEPRECATED` warnings and refusals, and that hints stay out of the log unless asked for.
//! A small kernel BTF is built here, with kfuncs of the flags each case needs.

use kfvm_btf::{BtfBuilder, FuncLinkage, IntEncoding};
use kfvm_isa::disasm::KfuncNames;
use kfvm_verifier::{bpf_check_full, CheckOptions, KfuncDesc, KfuncTable, VerifyError};
use std::sync::Arc;

const KF_ACQUIRE: u32 = 1;
const KF_RET_NULL: u32 = 4;
const KF_DESTRUCTIVE: u32 = 1 << 6;
const SYSCALL: u32 = 31;

/// A kernel BTF with `struct thing { int x; }`, `void crash(void)` (destructive),
/// `struct thing *thing_get(int)` (acquire, ret-null, deprecated), `void thing_put(struct thing *)`
/// (release) and an `int` that is not a function; the kfunc table and kfunc names for the
/// assembler.
fn kernel() -> (CheckOptions, KfuncNames, u32) {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding(1));
    let thing = b.add_struct("thing", 4, &[kfvm_btf::NewMember::new("x", int, 0)]);
    let thing_ptr = b.add_ptr(thing);
    let void_proto = b.add_func_proto(0, &[]);
    let crash = b.add_func("crash", void_proto, FuncLinkage::Global);
    let get_proto = b.add_func_proto(thing_ptr, &[("id", int)]);
    let get = b.add_func("thing_get", get_proto, FuncLinkage::Global);
    let put_proto = b.add_func_proto(0, &[("t", thing_ptr)]);
    let put = b.add_func("thing_put", put_proto, FuncLinkage::Global);
    let btf = b.build().expect("valid BTF");
    let mut table = KfuncTable::default();
    let mut names = KfuncNames::new();
    for (id, name, flags, deprecated) in [
        (crash, "crash", KF_DESTRUCTIVE, false),
        (get, "thing_get", KF_ACQUIRE | KF_RET_NULL, true),
        (put, "thing_put", 2, false),
    ] {
        table.insert(KfuncDesc {
            btf_id: id,
            name: name.into(),
            flags,
            deprecated,
            allowed: true,
            replacement: deprecated.then(|| "thing_get2".to_string()),
            removal: deprecated.then(|| "7.0".to_string()),
            allowed_prog_types: Vec::new(),
        });
        names.insert(0, id as i32, name);
    }
    let opts = CheckOptions {
        prog_type: SYSCALL,
        sleepable: true,
        kernel_btf: Some(Arc::new(btf)),
        kfuncs: Arc::new(table),
        ..CheckOptions::default()
    };
    (opts, names, int)
}

fn asm(text: &str, names: &KfuncNames) -> Vec<kfvm_isa::RawInsn> {
    kfvm_isa::asm::assemble_raw(text, names).expect("assembles")
}

fn rejection(v: &kfvm_verifier::Verdict) -> String {
    match &v.result {
        Err(VerifyError::Rejected(r)) => r.message.clone(),
        other => panic!("not a rejection: {other:?}\n{}", v.log),
    }
}

#[test]
fn destructive_kfuncs_need_cap_sys_boot() {
    let (mut opts, names, _) = kernel();
    let prog = asm("call crash\nr0 = 0\nexit\n", &names);
    opts.log_level = 2;
    let v = bpf_check_full(&prog, &opts, None);
    assert!(v.result.is_ok(), "{}", v.log);
    assert!(v.log.contains("call crash#"), "the log names the kfunc:\n{}", v.log);
    opts.sys_boot = false;
    let v = bpf_check_full(&prog, &opts, None);
    assert_eq!(rejection(&v), "destructive kfunc calls require CAP_SYS_BOOT capability");
    assert!(v.log.contains("destructive kfunc calls require CAP_SYS_BOOT capability\n"), "{}", v.log);
}

#[test]
fn ids_that_are_not_kfuncs() {
    let (opts, names, int) = kernel();
    let prog = asm(&format!("call kernel-function#{int}\nr0 = 0\nexit\n"), &names);
    let v = bpf_check_full(&prog, &CheckOptions { log_level: 1, ..opts.clone() }, None);
    assert_eq!(rejection(&v), format!("kernel btf_id {int} is not a function"));
    let prog = asm("call kernel-function#4000\nr0 = 0\nexit\n", &names);
    let v = bpf_check_full(&prog, &opts, None);
    assert_eq!(rejection(&v), "kernel btf_id 4000 is not a function");
    // A FUNC the table does not list is no kfunc this program may call.
    let mut table = (*opts.kfuncs).clone();
    let crash = table.by_id.iter().find(|(_, k)| k.name == "crash").map(|(id, _)| *id).unwrap();
    table.by_id.remove(&crash);
    let o = CheckOptions { kfuncs: Arc::new(table), ..opts };
    let v = bpf_check_full(&asm("call crash\nr0 = 0\nexit\n", &names), &o, None);
    assert_eq!(rejection(&v), "calling kernel function crash is not allowed");
}

#[test]
fn without_the_kernel_btf_kfvm_cannot_decide() {
    let (opts, names, _) = kernel();
    let prog = asm("call crash\nr0 = 0\nexit\n", &names);
    let v = bpf_check_full(&prog, &CheckOptions { kernel_btf: None, ..opts }, None);
    assert!(matches!(v.result, Err(VerifyError::Unsupported(_))), "{:?}", v.result);
}

const GET_PUT: &str =
    "r1 = 1\ncall thing_get\nif r0 == 0x0 goto pc+2\nr1 = r0\ncall thing_put\nr0 = 0\nexit\n";

#[test]
fn deprecated_kfuncs_warn_once_per_call_or_are_refused() {
    let (opts, names, _) = kernel();
    let prog = asm(GET_PUT, &names);
    // Level 0: no log, the warning is in the verdict.
    let v = bpf_check_full(&prog, &opts, None);
    assert!(v.result.is_ok(), "{:?}", v.result);
    assert_eq!(
        v.warnings,
        ["insn 1: kernel function thing_get is deprecated (use thing_get2; removed in 7.0)"]
    );
    assert!(v.log.is_empty());
    // Level 1: also in the log, once although two paths pass the call's successors.
    let v = bpf_check_full(&prog, &CheckOptions { log_level: 1, ..opts.clone() }, None);
    assert_eq!(
        v.log.matches("warning: insn 1: kernel function thing_get is deprecated").count(),
        1,
        "{}",
        v.log
    );
    let v = bpf_check_full(&prog, &CheckOptions { deny_deprecated: true, log_level: 1, ..opts }, None);
    assert_eq!(
        rejection(&v),
        "kernel function thing_get is deprecated (use thing_get2; removed in 7.0), and deny_deprecated refuses it"
    );
}

#[test]
fn hints_only_when_asked_and_after_the_kernels_lines() {
    let (opts, names, _) = kernel();
    // The reference is leaked on the non-NULL path.
    let prog = asm("r1 = 1\ncall thing_get\nr0 = 0\nexit\n", &names);
    let o = CheckOptions { log_level: 1, ..opts };
    let plain = bpf_check_full(&prog, &o, None);
    assert!(!plain.log.contains("hint:"), "{}", plain.log);
    assert_eq!(plain.hints.len(), 1, "the verdict carries the hint anyway");
    let hinted = bpf_check_full(&prog, &CheckOptions { hints: true, ..o }, None);
    let want = "Unreleased reference id=2 alloc_insn=1\nBPF_EXIT instruction in main prog would lead to \
                reference leak\nhint: release the reference acquired by thing_get() at insn 1 on every path";
    assert!(hinted.log.contains(want), "{}", hinted.log);
    // Apart from the hint line, the logs are the same.
    let without: String =
        hinted.log.lines().filter(|l| !l.starts_with("hint: ")).map(|l| format!("{l}\n")).collect();
    assert_eq!(without, plain.log);
}

#[test]
fn non_gpl_programs_may_not_call_kfuncs() {
    let (opts, names, _) = kernel();
    let prog = asm("call crash\nr0 = 0\nexit\n", &names);
    let v = bpf_check_full(&prog, &CheckOptions { gpl_compatible: false, log_level: 1, ..opts }, None);
    assert_eq!(rejection(&v), "cannot call kernel function from non-GPL compatible program");
}

#[test]
fn unresolved_weak_kfuncs_must_be_dead_code() {
    let (opts, names, _) = kernel();
    // libbpf leaves an unresolved weak kfunc's call with imm 0: reached, it fails in fixup.
    let reached = asm("call kernel-function#0\nr0 = 0\nexit\n", &names);
    let v = bpf_check_full(&reached, &CheckOptions { log_level: 1, ..opts.clone() }, None);
    assert_eq!(rejection(&v), "invalid kernel function call not eliminated in verifier pass");
    // Guarded by a branch the verifier knows is never taken, it is dead code.
    let guarded = asm("r1 = 0\nif r1 == 0x0 goto pc+1\ncall kernel-function#0\nr0 = 0\nexit\n", &names);
    let v = bpf_check_full(&guarded, &opts, None);
    assert!(v.result.is_ok(), "{:?}", v.result);
}

/// `bpf_rdonly_cast(obj__ign, btf_id__k)` over a BTF with a 64-byte and a 4-byte struct.
fn rdonly_cast_kernel() -> (CheckOptions, KfuncNames, u32, u32) {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding(1));
    let members: Vec<String> = (0..16).map(|i| format!("f{i}")).collect();
    let big_m: Vec<kfvm_btf::NewMember<'_>> =
        members.iter().enumerate().map(|(i, n)| kfvm_btf::NewMember::new(n, int, 32 * i as u32)).collect();
    let big = b.add_struct("big", 64, &big_m);
    let small = b.add_struct("small", 4, &[kfvm_btf::NewMember::new("x", int, 0)]);
    let vptr = b.add_ptr(0);
    let proto = b.add_func_proto(vptr, &[("obj__ign", vptr), ("btf_id__k", int)]);
    let cast = b.add_func("bpf_rdonly_cast", proto, FuncLinkage::Global);
    let mut table = KfuncTable::default();
    table.insert(KfuncDesc {
        btf_id: cast,
        name: "bpf_rdonly_cast".into(),
        flags: 1 << 12,
        allowed: true,
        ..Default::default()
    });
    let mut names = KfuncNames::new();
    names.insert(0, cast as i32, "bpf_rdonly_cast");
    let opts = CheckOptions {
        prog_type: SYSCALL,
        sleepable: true,
        kernel_btf: Some(Arc::new(b.build().expect("valid BTF"))),
        kfuncs: Arc::new(table),
        ..CheckOptions::default()
    };
    (opts, names, big, small)
}

#[test]
fn constant_arguments_are_precise_so_pruning_keeps_them_apart() {
    let (opts, names, big, small) = rdonly_cast_kernel();
    // Two paths meet at the call with different type ids in R2; field 8 exists only in `big`.
    // Were R2 not marked precise at the call, the second path would be pruned at the join as
    // equal to the first, and the out-of-bounds read never seen.
    let text = |a: u32, b: u32| {
        format!(
            "r6 = *(u32 *)(r1 +0)\nr2 = {a}\nif r6 == 0x0 goto pc+1\nr2 = {b}\nr1 = 0\ncall bpf_rdonly_cast\n\
             r0 = *(u32 *)(r0 +32)\nr0 = 0\nexit\n"
        )
    };
    let v = bpf_check_full(&asm(&text(big, big), &names), &opts, None);
    assert!(v.result.is_ok(), "{:?}", v.result);
    let v = bpf_check_full(&asm(&text(big, small), &names), &CheckOptions { log_level: 2, ..opts }, None);
    assert!(rejection(&v).contains("small"), "{}", v.log);
    assert!(v.log.contains("mark_precise: frame0: regs=r2 stack= before"), "{}", v.log);
}
