//! kfvm: run and verify BPF programs outside the kernel.
//!
//! This crate is the facade over kfvm's pipeline, object → link → verify → run. Each stage is its
//! own crate, re-exported here:
//!
//! - [`isa`]: the instruction set (one opcode table, decode/encode, text forms);
//! - [`btf`]: BTF read, validate, write, C dump, `.BTF.ext`;
//! - [`object`]: ELF objects read the way libbpf reads them (programs, maps, externs, relocations);
//! - [`link`]: an object bound to a host the way libbpf loads it: CO-RE relocations, `__ksym`
//!   kfuncs and variables, `.kconfig`;
//! - [`kfunc`]: the kfunc model: flags, annotations, sets, hooks, registration, host BTF,
//!   `#[kfunc]` and `#[derive(HostType)]`;
//! - [`kernel`]: the built-in kernel model (host types and the core kfunc catalogue);
//! - [`vm`]: the interpreter and the host-call ABI;
//! - [`runtime`]: an object's maps and programs bound to the kernel model, hooks, events, runs.
//!
//! - [`verifier`]: the verifier (`bpf_check`).
//!
//! [`verify`] verifies every program of an object against the kernel model;
//! [`conformance`] runs the bpf_conformance ISA suite.

#![deny(missing_docs)]

pub mod conformance;
pub mod verify;

pub use kfvm_btf as btf;
pub use kfvm_isa as isa;
pub use kfvm_kernel as kernel;
pub use kfvm_kfunc as kfunc;
pub use kfvm_link as link;
pub use kfvm_object as object;
pub use kfvm_runtime as runtime;
pub use kfvm_verifier as verifier;
pub use kfvm_vm as vm;
