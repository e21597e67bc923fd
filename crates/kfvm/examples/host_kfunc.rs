//! A host exposing its own kfunc to BPF programs, next to the built-in kernel model.
//!
//! The kfunc is five lines: the `#[kfunc]` function and one `register_kfunc_id_set` call.
//!
//! ```sh
//! cargo run -p kfvm --example host_kfunc -- header > crates/kfvm/examples/bpf/host_kfunc.h
//! clang -O2 -g -target bpf -c crates/kfvm/examples/bpf/host_kfunc.bpf.c -o crates/kfvm/examples/bpf/host_kfunc.bpf.o
//! cargo run -p kfvm --example host_kfunc                 # links the object by name and runs it
//! ```
//!
//! (`crates/kfvm/examples/bpf/build.sh` does the first two; the object is committed.) Until
//! kfvm's linker exists, `main` resolves the object's kfunc calls itself, by name, against the
//! host BTF ids, the way libbpf does against `vmlinux`.

use kfvm::kfunc::{kfunc, kfunc_set, BpfProgType, KfuncRegistry};
use kfvm::object::{Object, RelocKind};
use kfvm::vm::{Interpreter, Program};

/// Adds two numbers: the host's own kfunc.
#[kfunc]
fn host_add_u64(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

/// The kernel model plus this host's kfunc.
fn host() -> KfuncRegistry {
    let mut reg = kfvm::kernel::registry();
    reg.register_kfunc_id_set(BpfProgType::Unspec, &kfunc_set!(host_kfunc_ids { host_add_u64 }))
        .expect("registers");
    reg
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reg = host();
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("header") {
        // The host's vmlinux.h: kernel-model types, and every kfunc as `extern ... __ksym;`.
        print!("{}", reg.c_header()?);
        return Ok(());
    }
    let path =
        arg.unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bpf/host_kfunc.bpf.o").into());
    let obj = Object::open(&path)?;
    for p in &obj.programs {
        let mut insns = p.insns.clone();
        for r in &p.relocations {
            if let RelocKind::ExternCall { ext } = r.kind {
                let name = &obj.externs[ext].essent_name;
                let k = reg.kfunc(name).ok_or_else(|| format!("{}: unresolved kfunc {name}", p.name))?;
                // BPF_PSEUDO_KFUNC_CALL with the host BTF id, as libbpf patches it.
                insns[r.insn] = kfvm::isa::RawInsn::new(0x85, 0, 2, 0, k.btf_id() as i32);
            }
        }
        let prog = Program::load(&insns, &reg.host_fns())?;
        let r0 = Interpreter::new().run(&prog, &[0], &[], core::ptr::null_mut())?;
        println!("{}: {r0}", p.name);
    }
    Ok(())
}
