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

/// A kernel BTF for the annotations the model's kfuncs do not use: `__nullable`, `__map`,
/// `KF_RCU_PROTECTED`, `___init` no-cast aliases, memory arguments.
fn annotations_kernel() -> (CheckOptions, KfuncNames) {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding(1));
    let conn = b.add_struct("nf_conn", 4, &[kfvm_btf::NewMember::new("status", int, 0)]);
    let conn_init = b.add_struct("nf_conn___init", 4, &[kfvm_btf::NewMember::new("ct", conn, 0)]);
    let wrap = b.add_struct("conn_wrap", 4, &[kfvm_btf::NewMember::new("ct", conn, 0)]);
    let map = b.add_struct("bpf_map", 8, &[kfvm_btf::NewMember::new("id", int, 0)]);
    let (conn_p, init_p, wrap_p, map_p, int_p) =
        (b.add_ptr(conn), b.add_ptr(conn_init), b.add_ptr(wrap), b.add_ptr(map), b.add_ptr(int));
    let void_proto = b.add_func_proto(0, &[]);
    let mut funcs = Vec::new();
    let mut f = |b: &mut BtfBuilder, name: &'static str, ret: u32, params: &[(&str, u32)], flags: u32| {
        let proto = b.add_func_proto(ret, params);
        funcs.push((b.add_func(name, proto, FuncLinkage::Global), name, flags));
    };
    f(&mut b, "conn_nullable", int, &[("ct__nullable", conn_p)], 1 << 4);
    f(&mut b, "conn_plain", int, &[("ct", conn_p)], 1 << 4);
    f(&mut b, "conn_alloc", init_p, &[], KF_ACQUIRE | KF_RET_NULL);
    f(&mut b, "wrap_alloc", wrap_p, &[], KF_ACQUIRE | KF_RET_NULL);
    f(&mut b, "conn_insert", int, &[("ct", conn_p)], 2);
    f(&mut b, "wrap_release", 0, &[("w", wrap_p)], 2);
    f(&mut b, "map_size", int, &[("m__map", map_p)], 0);
    f(&mut b, "rcu_only", conn_p, &[], 1 << 11);
    f(&mut b, "read_int", int, &[("p", int_p)], 0);
    let _ = void_proto;
    let mut table = KfuncTable::default();
    let mut names = KfuncNames::new();
    for (id, name, flags) in funcs {
        table.insert(KfuncDesc { btf_id: id, name: name.into(), flags, allowed: true, ..Default::default() });
        names.insert(0, id as i32, name);
    }
    let opts = CheckOptions {
        prog_type: SYSCALL,
        sleepable: true,
        kernel_btf: Some(Arc::new(b.build().expect("valid BTF"))),
        kfuncs: Arc::new(table),
        maps: vec![kfvm_verifier::MapInfo::new(2, 4, 8, 1)],
        ..CheckOptions::default()
    };
    (opts, names)
}

fn verdict(text: &str) -> kfvm_verifier::Verdict {
    let (opts, names) = annotations_kernel();
    bpf_check_full(&asm(text, &names), &CheckOptions { log_level: 1, ..opts }, None)
}

#[test]
fn nullable_arguments_take_null() {
    assert!(verdict("r1 = 0\ncall conn_nullable\nr0 = 0\nexit\n").result.is_ok());
    let v = verdict("r1 = 0\ncall conn_plain\nr0 = 0\nexit\n");
    assert_eq!(rejection(&v), "Possibly NULL pointer passed to trusted arg0");
}

#[test]
fn map_arguments_take_a_map() {
    let v = verdict("r1 = map[idx:0]\ncall map_size\nr0 = 0\nexit\n");
    assert!(v.result.is_ok(), "{}", v.log);
    let v = verdict("r1 = r10\nr1 += -8\ncall map_size\nr0 = 0\nexit\n");
    assert_eq!(rejection(&v), "pointer in R1 isn't map pointer");
}

#[test]
fn rcu_protected_kfuncs_need_an_rcu_section_and_return_rcu_pointers() {
    let v = verdict("call rcu_only\nr0 = 0\nexit\n");
    assert_eq!(rejection(&v), "kernel func rcu_only requires RCU critical section protection");
    let (opts, names) = annotations_kernel();
    let v = bpf_check_full(
        &asm("call rcu_only\nr0 = 0\nexit\n", &names),
        &CheckOptions { prog_type: 3, sleepable: false, log_level: 2, ..opts },
        None,
    );
    // A non-sleepable program is always in an RCU read section.
    assert!(v.result.is_ok(), "{}", v.log);
    assert!(v.log.contains("R0=rcu_ptr_nf_conn()"), "{}", v.log);
}

#[test]
fn init_aliases_never_match_and_released_arguments_match_strictly() {
    // conn_wrap starts with an nf_conn: a non-release kfunc takes it...
    let v = verdict("call wrap_alloc\nif r0 == 0x0 goto pc+5\nr6 = r0\nr1 = r0\ncall conn_plain\nr1 = r6\ncall wrap_release\nr0 = 0\nexit\n");
    assert!(v.result.is_ok(), "{}", v.log);
    // ... a release kfunc does not (strict matching of the released reference)...
    let v = verdict("call wrap_alloc\nif r0 == 0x0 goto pc+2\nr1 = r0\ncall conn_insert\nr0 = 0\nexit\n");
    assert_eq!(
        rejection(&v),
        "kernel function conn_insert args#0 expected pointer to STRUCT nf_conn but R1 has a pointer to STRUCT conn_wrap"
    );
    // ... and nf_conn___init is never an nf_conn, although it starts with one.
    let v =
        verdict("call conn_alloc\nif r0 == 0x0 goto pc+3\nr6 = r0\nr1 = r0\ncall conn_plain\nr0 = 0\nexit\n");
    assert_eq!(
        rejection(&v),
        "kernel function conn_plain args#0 expected pointer to STRUCT nf_conn but R1 has a pointer to STRUCT nf_conn___init"
    );
}

#[test]
fn memory_arguments_are_read_and_written() {
    let v = verdict("r1 = 0\n*(u32 *)(r10 -8) = r1\nr1 = r10\nr1 += -8\ncall read_int\nr0 = 0\nexit\n");
    assert!(v.result.is_ok(), "{}", v.log);
    let v = verdict("r1 = r10\nr1 += -2\ncall read_int\nr0 = 0\nexit\n");
    assert!(rejection(&v).contains("invalid"), "{}", v.log);
}
