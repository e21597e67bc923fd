//! Loads through BTF-typed pointers (`check_ptr_to_btf_access`, `btf_struct_walk`) against a
//! small kernel BTF made with `kfvm_btf`'s builder. Each case was first asked of the live
//! Linux 6.18.44 with the same instructions against its vmlinux (offsets differ, the messages
//! and register types do not).

use kfvm_btf::IntEncoding;
use kfvm_btf::{BtfBuilder, NewMember};
use kfvm_isa::disasm::NoSymbols;
use kfvm_verifier::env::prog_type;
use kfvm_verifier::{CheckOptions, VerifyError};
use std::sync::Arc;

/// The test kernel's BTF:
///
/// ```c
/// struct mm_struct { long brk; struct file *exe_file; };              // 16
/// struct file { unsigned int f_mode; };                               // 4
/// struct task_struct {
///     int pid;                              // 0
///     unsigned int flags:3, prio:5;         // 4 (bitfields)
///     struct task_struct *real_parent;      // 8
///     struct mm_struct *mm;                 // 16
///     char comm[16];                        // 24
///     struct list_head { struct list_head *next, *prev; } tasks;   // 40
///     union { struct task_struct *a; long b; } u;                   // 56
///     const char *name;                     // 64
///     struct task_struct *parents[2];       // 72
///     struct mm_struct *active_mm;          // 88
/// };                                        // 96
/// struct task_struct__safe_rcu { struct task_struct *real_parent; };
/// struct task_struct__safe_rcu_or_null { struct mm_struct *active_mm; };
/// typedef void (*btf_trace_task_newtask)(void *, struct task_struct *, u64);   // TRACE_TP
/// struct task_struct *task_lookup(struct task_struct *t, int n, char *s,
///                                 struct mm_struct *mm__nullable);           // TRACE_FN
/// void task_void(int x, struct task_struct **pp);                            // VOID_FN
/// ```
fn kernel_btf() -> kfvm_btf::Btf {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let uint = b.add_int("unsigned int", 4, IntEncoding::NONE);
    let long = b.add_int("long", 8, IntEncoding::SIGNED);
    let chr = b.add_int("char", 1, IntEncoding::CHAR);
    // Ids are given in order: reserve the structs' ids for the pointers.
    let base = b.next_id();
    let (task, mm, file, list) = (base + 6, base + 7, base + 8, base + 9);
    let p_task = b.add_ptr(task); // base
    let p_mm = b.add_ptr(mm); // base + 1
    let p_file = b.add_ptr(file); // base + 2
    let p_list = b.add_ptr(list); // base + 3
    let cchr = b.add_const(chr); // base + 4
    let p_cchr = b.add_ptr(cchr); // base + 5
    let u32t = uint;
    let idx = u32t;
    let t = b.add_struct(
        "task_struct",
        96,
        &[
            NewMember::new("pid", int, 0),
            NewMember::bitfield("flags", uint, 32, 3),
            NewMember::bitfield("prio", uint, 35, 5),
            NewMember::new("real_parent", p_task, 64),
            NewMember::new("mm", p_mm, 128),
            NewMember::new("comm", base + 10, 192),
            NewMember::new("tasks", list, 320),
            NewMember::new("u", base + 11, 448),
            NewMember::new("name", p_cchr, 512),
            NewMember::new("parents", base + 12, 576),
            NewMember::new("active_mm", p_mm, 704),
        ],
    );
    assert_eq!(t, task);
    let m = b.add_struct(
        "mm_struct",
        16,
        &[NewMember::new("brk", long, 0), NewMember::new("exe_file", p_file, 64)],
    );
    assert_eq!(m, mm);
    let f = b.add_struct("file", 4, &[NewMember::new("f_mode", uint, 0)]);
    assert_eq!(f, file);
    let l = b.add_struct(
        "list_head",
        16,
        &[NewMember::new("next", p_list, 0), NewMember::new("prev", p_list, 64)],
    );
    assert_eq!(l, list);
    let comm = b.add_array(chr, idx, 16);
    assert_eq!(comm, base + 10);
    let u = b.add_union("", 8, &[NewMember::new("a", p_task, 0), NewMember::new("b", long, 0)]);
    assert_eq!(u, base + 11);
    let parents = b.add_array(p_task, idx, 2);
    assert_eq!(parents, base + 12);
    b.add_struct("task_struct__safe_rcu", 8, &[NewMember::new("real_parent", p_task, 0)]);
    b.add_struct("task_struct__safe_rcu_or_null", 8, &[NewMember::new("active_mm", p_mm, 0)]);
    let u64t = b.add_int("unsigned long long", 8, IntEncoding::NONE);
    let p_void = b.add_ptr(0);
    let tp_proto = b.add_func_proto(0, &[("", p_void), ("", p_task), ("", u64t)]);
    let tp_ptr = b.add_ptr(tp_proto);
    assert_eq!(b.add_typedef("btf_trace_task_newtask", tp_ptr), TRACE_TP);
    let p_chr = b.add_ptr(chr);
    let fn_proto =
        b.add_func_proto(p_task, &[("t", p_task), ("n", int), ("s", p_chr), ("mm__nullable", p_mm)]);
    assert_eq!(b.add_func("task_lookup", fn_proto, kfvm_btf::FuncLinkage::Global), TRACE_FN);
    let pp_task = b.add_ptr(p_task);
    let void_proto = b.add_func_proto(0, &[("x", int), ("pp", pp_task)]);
    assert_eq!(b.add_func("task_void", void_proto, kfvm_btf::FuncLinkage::Global), VOID_FN);
    // int by_value(struct list_head l, struct task_struct *t): a 16-byte struct takes two slots.
    let bv_proto = b.add_func_proto(int, &[("l", list), ("t", p_task)]);
    assert_eq!(b.add_func("by_value", bv_proto, kfvm_btf::FuncLinkage::Global), BY_VALUE_FN);
    // Typed ksyms: struct task_struct init_task; unsigned long long jiffies64;
    // struct task_struct __percpu cur_task (in .data..percpu).
    assert_eq!(b.add_var("init_task", task, kfvm_btf::VarLinkage::Global), KSYM_TASK);
    assert_eq!(b.add_var("jiffies64", u64t, kfvm_btf::VarLinkage::Global), KSYM_JIFFIES);
    let pcpu = b.add_var("cur_task", task, kfvm_btf::VarLinkage::Global);
    assert_eq!(pcpu, KSYM_PERCPU);
    b.add_datasec(".data..percpu", 96, &[kfvm_btf::VarSecinfo { type_id: pcpu, offset: 0, size: 96 }]);
    b.build().expect("the test BTF builds")
}

/// `btf_trace_task_newtask`.
const TRACE_TP: u32 = 24;
/// `task_lookup`.
const TRACE_FN: u32 = 27;
/// `task_void`.
const VOID_FN: u32 = 30;
/// `by_value`.
const BY_VALUE_FN: u32 = 32;
/// `init_task`, `jiffies64`, `cur_task`.
const KSYM_TASK: u32 = 33;
const KSYM_JIFFIES: u32 = 34;
const KSYM_PERCPU: u32 = 35;

/// Verifies `text` as a tracing program with `expected_attach_type` attached to `btf_id`.
fn check_tracing(text: &str, eat: u32, btf_id: u32) -> (Result<(), VerifyError>, String) {
    let insns = kfvm_isa::asm::assemble_raw(text, &NoSymbols).expect("assembles");
    let opts = CheckOptions {
        prog_type: prog_type::TRACING,
        expected_attach_type: eat,
        attach_btf_id: btf_id,
        log_level: 2,
        kernel_btf: Some(Arc::new(kernel_btf())),
        ..Default::default()
    };
    let v = kfvm_verifier::bpf_check_full(&insns, &opts, None);
    (v.result, v.log)
}

fn tracing_ok(text: &str, eat: u32, btf_id: u32, msgs: &[&str]) {
    let (r, log) = check_tracing(text, eat, btf_id);
    assert!(r.is_ok(), "rejected: {r:?}\n{log}");
    for m in msgs {
        assert!(log.contains(m), "missing {m:?} in\n{log}");
    }
}

fn tracing_rejected(text: &str, eat: u32, btf_id: u32, msgs: &[&str]) {
    let (r, log) = check_tracing(text, eat, btf_id);
    assert!(matches!(r, Err(VerifyError::Rejected(_))), "{r:?}\n{log}");
    for m in msgs {
        assert!(log.contains(m), "missing {m:?} in\n{log}");
    }
}

const TP: u32 = 23;
const FENTRY: u32 = 24;
const FEXIT: u32 = 25;

/// Verifies `text` as a socket filter (which may call `bpf_get_current_task_btf`).
fn check(text: &str) -> (Result<(), VerifyError>, String, Vec<usize>) {
    let insns = kfvm_isa::asm::assemble_raw(text, &NoSymbols).expect("assembles");
    let opts = CheckOptions {
        prog_type: prog_type::SOCKET_FILTER,
        log_level: 2,
        kernel_btf: Some(Arc::new(kernel_btf())),
        ..Default::default()
    };
    let v = kfvm_verifier::bpf_check_full(&insns, &opts, None);
    (v.result, v.log, v.probe_mem_insns)
}

fn accepted(text: &str, msgs: &[&str]) -> Vec<usize> {
    let (r, log, probe) = check(text);
    assert!(r.is_ok(), "rejected: {r:?}\n{log}");
    for m in msgs {
        assert!(log.contains(m), "missing {m:?} in\n{log}");
    }
    probe
}

fn rejected(text: &str, msg: &str) {
    let (r, log, probe) = check(text);
    match r {
        Err(VerifyError::Rejected(rej)) => assert_eq!(rej.message, msg, "\n{log}"),
        other => panic!("expected a rejection with {msg:?}, got {other:?}\n{log}"),
    }
    assert!(log.contains(msg), "{log}");
    assert!(probe.is_empty());
}

#[test]
fn scalar_field_loads() {
    let probe = accepted(
        "call 158\n r1 = *(u32 *)(r0 +0)\n r2 = *(u8 *)(r0 +4)\n r3 = *(u8 *)(r0 +27)\n r4 = *(u64 *)(r0 +32)\n r0 = 0\n exit",
        &[
            "0: (85) call bpf_get_current_task_btf#158     ; R0=trusted_ptr_task_struct()",
            "1: (61) r1 = *(u32 *)(r0 +0)          ; R0=trusted_ptr_task_struct() R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))",
            "R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
        ],
    );
    assert_eq!(probe, vec![1, 2, 3, 4], "every load through the BTF pointer is a PROBE_MEM load");
}

#[test]
fn walked_pointers_and_their_trust() {
    accepted(
        "call 158\n r1 = *(u64 *)(r0 +8)\n r2 = *(u64 *)(r0 +16)\n r3 = *(u64 *)(r0 +80)\n r4 = *(u64 *)(r0 +40)\n r5 = *(u64 *)(r0 +56)\n r0 = 0\n exit",
        &[
            "R1=rcu_ptr_task_struct()",   // __safe_rcu, non-sleepable: in an RCU read section
            "R2=ptr_mm_struct()",         // not listed: the legacy flagless pointer
            "R3=ptr_task_struct()",       // an array element
            "R4=ptr_list_head()",         // inside a nested struct
            "R5=untrusted_ptr_task_struct()", // through a union of several members
        ],
    );
}

#[test]
fn untrusted_parents_give_untrusted_children() {
    accepted(
        "call 158\n r1 = *(u64 *)(r0 +56)\n r2 = *(u64 *)(r1 +8)\n r3 = *(u64 *)(r1 +16)\n r0 = 0\n exit",
        &["R2=untrusted_ptr_task_struct()", "R3=untrusted_ptr_mm_struct()"],
    );
}

#[test]
fn flagless_parents_give_flagless_children() {
    accepted(
        "call 158\n r1 = *(u64 *)(r0 +16)\n r2 = *(u64 *)(r1 +8)\n r0 = *(u64 *)(r1 +0)\n exit",
        &["R2=ptr_file()", "R0=scalar()"],
    );
}

#[test]
fn non_struct_pointers_are_untrusted_rdonly_memory() {
    let probe = accepted(
        "call 158\n r1 = *(u64 *)(r0 +64)\n r0 = *(u8 *)(r1 +100)\n exit",
        &["R1=rdonly_untrusted_mem(sz=0)", "2: (71) r0 = *(u8 *)(r1 +100)"],
    );
    assert_eq!(probe, vec![1, 2]);
}

#[test]
fn maybe_null_pointers_need_a_null_check() {
    rejected(
        "call 158\n r1 = *(u64 *)(r0 +88)\n r0 = *(u64 *)(r1 +0)\n exit",
        "R1 invalid mem access 'rcu_ptr_or_null_'",
    );
    accepted(
        "call 158\n r1 = *(u64 *)(r0 +88)\n r2 = r1\n if r1 == 0 goto l\n r0 = *(u64 *)(r2 +0)\n exit\nl:\n r0 = 0\n exit",
        &["R1=rcu_ptr_or_null_mm_struct(id=1)", "R2=rcu_ptr_mm_struct()"],
    );
}

#[test]
fn kernel_messages() {
    rejected(
        "call 158\n r0 += -8\n r0 = *(u32 *)(r0 +0)\n exit",
        "R0 is ptr_task_struct invalid negative access: off=-8",
    );
    rejected(
        "call 158\n r6 = r0\n call 7\n r0 &= 8\n r6 += r0\n r0 = *(u32 *)(r6 +0)\n exit",
        "R6 is ptr_task_struct invalid variable offset: off=0, var_off=(0x0; 0x8)",
    );
    rejected("call 158\n r1 = 1\n *(u32 *)(r0 +8) = r1\n r0 = 0\n exit", "only read is supported");
    rejected("call 158\n *(u32 *)(r0 +8) = 1\n r0 = 0\n exit", "only read is supported");
    rejected("call 158\n r1 = 1\n lock *(u64 *)(r0 +8) += r1\n r0 = 0\n exit", "only read is supported");
    rejected(
        "call 158\n r0 = *(u32 *)(r0 +8)\n exit",
        "cannot access ptr member real_parent with moff 8 in struct task_struct with off 8 size 4",
    );
    rejected(
        "call 158\n r0 = *(u32 *)(r0 +84)\n exit",
        "cannot access ptr member parents with moff 80 in struct task_struct with off 84 size 4",
    );
    rejected("call 158\n r0 = *(u32 *)(r0 +96)\n exit", "access beyond struct task_struct at off 96 size 4");
    rejected(
        "call 158\n r0 = *(u64 *)(r0 +0)\n exit",
        "access beyond the end of member pid (mend:4) in struct task_struct with off 0 size 8",
    );
    rejected(
        "call 158\n r0 = *(u64 *)(r0 +16)\n r0 = *(u32 *)(r0 +12)\n exit",
        "cannot access ptr member exe_file with moff 8 in struct mm_struct with off 12 size 4",
    );
}

#[test]
fn pointer_offsets_add_to_the_access() {
    accepted("call 158\n r0 += 8\n r1 = *(u64 *)(r0 +0)\n r0 = 0\n exit", &["R1=rcu_ptr_task_struct()"]);
}

#[test]
fn without_kernel_btf_the_verifier_cannot_tell() {
    let insns = kfvm_isa::asm::assemble_raw("call 158\n r0 = *(u32 *)(r0 +0)\n exit", &NoSymbols).unwrap();
    let opts = CheckOptions { prog_type: prog_type::SOCKET_FILTER, ..Default::default() };
    let (r, _) = kfvm_verifier::bpf_check(&insns, &opts);
    assert!(matches!(r, Err(VerifyError::Unsupported(_))), "{r:?}");
}

#[test]
fn tp_btf_arguments_are_trusted() {
    tracing_ok(
        "r2 = *(u64 *)(r1 +0)\n r2 = *(u64 *)(r2 +8)\n r0 = *(u32 *)(r2 +0)\n r1 = *(u32 *)(r1 +8)\n r0 = 0\n exit",
        TP,
        TRACE_TP,
        &[
            "func 'task_newtask' arg0 has btf_id 11 type STRUCT 'task_struct'\n1: R1=ctx() R2=trusted_ptr_task_struct()",
            "R2=rcu_ptr_task_struct()",
        ],
    );
}

#[test]
fn tp_btf_context_errors() {
    tracing_rejected(
        "r0 = *(u32 *)(r1 +0)\n exit",
        TP,
        TRACE_TP,
        &["func 'task_newtask' size 4 must be 8\ninvalid bpf_context access off=0 size=4"],
    );
    tracing_rejected(
        "r0 = *(u32 *)(r1 +12)\n exit",
        TP,
        TRACE_TP,
        &["func 'task_newtask' offset 12 is not multiple of 8\ninvalid bpf_context access off=12 size=4"],
    );
    tracing_rejected(
        "r0 = *(u64 *)(r1 +16)\n exit",
        TP,
        TRACE_TP,
        &["func 'task_newtask' doesn't have 3-th argument\ninvalid bpf_context access off=16 size=8"],
    );
    tracing_rejected(
        "r0 = *(u64 *)(r1 +24)\n exit",
        TP,
        TRACE_TP,
        // btf_ctx_arg_idx() counts `void *__data` and a void return of no size: the kernel says 5-th.
        &["func 'task_newtask' doesn't have 5-th argument\ninvalid bpf_context access off=24 size=8"],
    );
    tracing_rejected(
        "r0 = 1\n *(u64 *)(r1 +8) = r0\n exit",
        TP,
        TRACE_TP,
        &["invalid bpf_context access off=8 size=8"],
    );
    tracing_rejected(
        "r0 = *(u64 *)(r1 +96)\n exit",
        TP,
        TRACE_TP,
        &["invalid bpf_context access off=96 size=8"],
    );
    // A scalar argument may be read in parts.
    tracing_ok("r0 = *(u32 *)(r1 +8)\n r0 = 0\n exit", TP, TRACE_TP, &[]);
}

#[test]
fn attach_targets() {
    tracing_rejected("r0 = 0\n exit", TP, 0, &["Tracing programs must provide btf_id"]);
    tracing_rejected("r0 = 0\n exit", TP, TRACE_FN, &["attach_btf_id 27 is not a typedef"]);
    tracing_rejected("r0 = 0\n exit", FENTRY, TRACE_TP, &["attach_btf_id 24 is not a function"]);
    tracing_rejected("r0 = 0\n exit", FENTRY, 1000, &["attach_btf_id 1000 is invalid"]);
}

#[test]
fn fentry_arguments_are_not_trusted() {
    tracing_ok(
        "r2 = *(u64 *)(r1 +0)\n r3 = *(u64 *)(r2 +8)\n r4 = *(u64 *)(r1 +8)\n r5 = *(u64 *)(r1 +16)\n r0 = 0\n exit",
        FENTRY,
        TRACE_FN,
        &[
            "func 'task_lookup' arg0 has btf_id 11 type STRUCT 'task_struct'",
            "R2=ptr_task_struct()",
            // Walking a flagless pointer gives a flagless pointer.
            "R3=ptr_task_struct()",
            "R4=scalar()",
            // char *: a scalar.
            "R5=scalar()",
        ],
    );
    tracing_ok(
        "r2 = *(u64 *)(r1 +24)\n if r2 == 0 goto l\n r0 = *(u64 *)(r2 +0)\nl:\n r0 = 0\n exit",
        FENTRY,
        TRACE_FN,
        &["R2=ptr_or_null_mm_struct(id=1)"],
    );
    tracing_rejected(
        "r0 = 1\n exit",
        FENTRY,
        TRACE_FN,
        &["At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]"],
    );
    tracing_rejected(
        "r0 = *(u64 *)(r1 +32)\n r0 = 0\n exit",
        FENTRY,
        TRACE_FN,
        &["func 'task_lookup' doesn't have 5-th argument"],
    );
    tracing_rejected(
        "r0 = *(u64 *)(r1 +8)\n r0 = *(u64 *)(r1 +8)\n r0 = 0\n exit",
        FENTRY,
        VOID_FN,
        &["func 'task_void' arg1 type PTR is not a struct"],
    );
}

#[test]
fn fexit_return_values() {
    tracing_ok(
        "r2 = *(u64 *)(r1 +32)\n r0 = 0\n exit",
        FEXIT,
        TRACE_FN,
        &["func 'task_lookup' arg4 has btf_id 11 type STRUCT 'task_struct'", "R2=ptr_task_struct()"],
    );
    // A void return takes no slot (btf_ctx_arg_idx()): past the arguments is past the end.
    tracing_rejected(
        "r2 = *(u64 *)(r1 +16)\n r0 = 0\n exit",
        FEXIT,
        VOID_FN,
        &["func 'task_void' doesn't have 4-th argument"],
    );
}

#[test]
fn raw_tracepoint_arguments_are_u64_slots() {
    let insns = kfvm_isa::asm::assemble_raw(
        "r2 = *(u64 *)(r1 +0)\n r3 = *(u32 *)(r1 +12)\n r0 = *(u64 *)(r1 +88)\n r0 = 7\n exit",
        &NoSymbols,
    )
    .unwrap();
    let opts = CheckOptions { prog_type: prog_type::RAW_TRACEPOINT, ..Default::default() };
    let (r, log) = kfvm_verifier::bpf_check(&insns, &opts);
    assert!(r.is_ok(), "{r:?}\n{log}");
    for (text, msg) in [
        ("r0 = *(u64 *)(r1 +96)\n exit", "invalid bpf_context access off=96 size=8"),
        ("r0 = *(u64 *)(r1 +4)\n exit", "invalid bpf_context access off=4 size=8"),
        ("r0 = 0\n *(u64 *)(r1 +0) = r0\n exit", "invalid bpf_context access off=0 size=8"),
    ] {
        let insns = kfvm_isa::asm::assemble_raw(text, &NoSymbols).unwrap();
        let opts = CheckOptions { prog_type: prog_type::RAW_TRACEPOINT, log_level: 1, ..Default::default() };
        let (r, log) = kfvm_verifier::bpf_check(&insns, &opts);
        assert!(matches!(r, Err(VerifyError::Rejected(_))) && log.contains(msg), "{r:?}\n{log}");
    }
}

#[test]
fn struct_arguments_take_their_size_in_slots() {
    // btf_ctx_arg_idx(): `l` is slots 0 and 1 (scalars), `t` slot 2, the int return slot 3.
    tracing_ok(
        "r2 = *(u64 *)(r1 +8)\n r3 = *(u64 *)(r1 +16)\n r0 = 0\n exit",
        FENTRY,
        BY_VALUE_FN,
        &[
            "R2=scalar()",
            "func 'by_value' arg1 has btf_id 11 type STRUCT 'task_struct'",
            "R3=ptr_task_struct()",
        ],
    );
    tracing_ok("r2 = *(u64 *)(r1 +24)\n r0 = 0\n exit", FEXIT, BY_VALUE_FN, &["R2=scalar()"]);
    tracing_rejected(
        "r2 = *(u64 *)(r1 +24)\n r0 = 0\n exit",
        FENTRY,
        BY_VALUE_FN,
        &["func 'by_value' doesn't have 3-th argument"],
    );
}

/// `lddw r1, <ksym id>` (BPF_PSEUDO_BTF_ID) followed by `text`.
fn ksym_prog(id: u32, text: &str) -> Vec<kfvm_isa::RawInsn> {
    let mut insns =
        vec![kfvm_isa::RawInsn::new(0x18, 1, 3, 0, id as i32), kfvm_isa::RawInsn::new(0, 0, 0, 0, 0)];
    insns.extend(kfvm_isa::asm::assemble_raw(text, &NoSymbols).expect("assembles"));
    insns
}

fn check_ksym(id: u32, text: &str) -> (Result<(), VerifyError>, String) {
    let opts = CheckOptions {
        prog_type: prog_type::SOCKET_FILTER,
        log_level: 2,
        kernel_btf: Some(Arc::new(kernel_btf())),
        ..Default::default()
    };
    let v = kfvm_verifier::bpf_check_full(&ksym_prog(id, text), &opts, None);
    (v.result, v.log)
}

#[test]
fn typed_ksyms() {
    let (r, log) = check_ksym(KSYM_TASK, "r0 = *(u32 *)(r1 +0)\n exit");
    assert!(r.is_ok() && log.contains("R1=ptr_task_struct()"), "{r:?}\n{log}");
    let (r, log) = check_ksym(KSYM_JIFFIES, "r0 = *(u64 *)(r1 +0)\n exit");
    assert!(r.is_ok() && log.contains("R1=rdonly_mem(sz=8)"), "{r:?}\n{log}");
    let (r, log) = check_ksym(KSYM_JIFFIES, "r0 = *(u64 *)(r1 +8)\n exit");
    assert!(
        matches!(r, Err(VerifyError::Rejected(_)))
            && log.contains("invalid access to memory, mem_size=8 off=8 size=8"),
        "{r:?}\n{log}"
    );
    let (r, log) = check_ksym(KSYM_PERCPU, "r0 = *(u32 *)(r1 +0)\n exit");
    assert!(
        log.contains("R1=percpu_ptr_task_struct()")
            && log.contains("R1 is ptr_task_struct access percpu memory: off=0"),
        "{r:?}\n{log}"
    );
    let (r, log) = check_ksym(TRACE_FN, "r0 = 0\n exit");
    assert!(r.is_ok() && log.contains("R1=rdonly_mem(sz=0)"), "{r:?}\n{log}");
    let (r, log) = check_ksym(1000, "r0 = 0\n exit");
    assert!(
        matches!(r, Err(VerifyError::Rejected(_)))
            && log.contains("ldimm64 insn specifies invalid btf_id 1000."),
        "{r:?}\n{log}"
    );
    let (r, log) = check_ksym(TRACE_TP, "r0 = 0\n exit");
    assert!(
        matches!(r, Err(VerifyError::Rejected(_)))
            && log.contains("pseudo btf_id 24 in ldimm64 isn't KIND_VAR or KIND_FUNC"),
        "{r:?}\n{log}"
    );
}
