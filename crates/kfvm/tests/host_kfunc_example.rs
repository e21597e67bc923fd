//! The `host_kfunc` example end to end: a C program compiled against the host's dumped header
//! (`examples/bpf/`, object committed) calls the host's own kfunc; its extern resolves by name
//! in the host BTF and the program runs in the interpreter.

use kfvm::kfunc::{kfunc, kfunc_set, BpfProgType, KfuncRegistry};
use kfvm::object::{ExternKind, Object, RelocKind};
use kfvm::vm::{Interpreter, Program};

/// The example's kfunc, again.
#[kfunc]
fn host_add_u64(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

fn host() -> KfuncRegistry {
    let mut reg = kfvm::kernel::registry();
    reg.register_kfunc_id_set(BpfProgType::Unspec, &kfunc_set!(host_kfunc_ids { host_add_u64 })).unwrap();
    reg
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bpf");

#[test]
fn committed_header_is_the_hosts() {
    let committed = std::fs::read_to_string(format!("{DIR}/host_kfunc.h")).unwrap();
    assert!(
        committed == host().c_header().unwrap(),
        "examples/bpf/host_kfunc.h is stale: run crates/kfvm/examples/bpf/build.sh"
    );
    assert!(committed.contains("extern u64 host_add_u64(u64 a, u64 b) __weak __ksym;"));
}

#[test]
fn compiled_program_links_by_name_and_runs() {
    let reg = host();
    let obj = Object::open(format!("{DIR}/host_kfunc.bpf.o")).unwrap();
    let ext = &obj.externs[0];
    assert_eq!(ext.name, "host_add_u64");
    assert!(matches!(ext.kind, ExternKind::Ksym { func: true, .. }));
    let p = obj.program("add").unwrap();
    let mut insns = p.insns.clone();
    let mut calls = 0;
    for r in &p.relocations {
        if let RelocKind::ExternCall { ext } = r.kind {
            let k = reg.kfunc(&obj.externs[ext].essent_name).expect("resolves");
            insns[r.insn] = kfvm::isa::RawInsn::new(0x85, 0, 2, 0, k.btf_id() as i32);
            calls += 1;
        }
    }
    assert_eq!(calls, 1);
    let prog = Program::load(&insns, &reg.host_fns()).unwrap();
    assert_eq!(Interpreter::new().run(&prog, &[0], &[], core::ptr::null_mut()).unwrap(), 42);
}
