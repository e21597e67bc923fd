//! The runtime: a BPF object's maps and programs bound to the kernel model
//! ([`kfvm_kernel::Kernel`]), attached to hooks, fired by the model's events, run in the
//! interpreter.
//!
//! ```no_run
//! use kfvm_kernel::{Kernel, KernelConfig, ModelSpec};
//! use kfvm_runtime::{LoadOptions, Runtime};
//!
//! let spec = ModelSpec::load("model.toml".as_ref()).unwrap();
//! let kernel = Kernel::from_spec(&spec, KernelConfig::default()).unwrap();
//! let registry = kfvm_kernel::registry();
//! let obj = kfvm_object::Object::open("prog.bpf.o").unwrap();
//! let linked = kfvm_link::link(&obj, &kfvm_link::Target::from_registry(&registry).unwrap()).unwrap();
//! let rt = Runtime::load(&kernel, &registry, &linked, &LoadOptions::default()).unwrap();
//! rt.set_printk_sink(|line| println!("{line}"));
//! rt.replay(&spec, |e| eprintln!("{e}")).unwrap();
//! ```
//!
//! - [`Runtime::load`] creates the maps ([`maps`]: array, hash, per-CPU, LRU, ring buffer,
//!   global data; kptr fields released through their type's destructor kfunc), binds each
//!   program's map references, asks the verifier (`kfvm_verifier::bpf_check`, with the options
//!   [`verify::check_options`] builds) and attaches each program to its hook ([`hooks`]).
//! - Programs run in the interpreter: verified mode when the verifier accepts them, checked
//!   mode (every access checked, faulting loads reading 0 as `BPF_PROBE_MEM` loads do) while it
//!   cannot decide. Host objects are reached through the kernel model's
//!   [`kfvm_vm::DynamicMemory`]; every run is an RCU read-side section ([`kfvm_kernel::RunCtx`]).
//! - [`Runtime::replay`] fires the model's events; [`Runtime::test_run`] is
//!   `BPF_PROG_TEST_RUN`; [`Runtime::fire`] runs a hook's programs with given arguments.
//! - Helpers ([`helpers::HELPERS`]) by the kernel's numbers; `bpf_printk` output goes to a sink
//!   ([`Runtime::set_printk_sink`]) and is kept ([`Runtime::take_trace`]) with the kernel's format
//!   rules ([`printk`]).

#![deny(missing_docs)]

pub mod helpers;
pub mod hooks;
pub mod lowmem;
pub mod maps;
pub mod printk;
mod runtime;
pub mod verify;

pub use hooks::Hook;
pub use maps::{Map, MapSpec, RingBuf};
pub use runtime::{
    Arg, Fired, LoadOptions, Mode, Prog, Runtime, RuntimeError, TestRun, MAP_ADDR_BASE, MAP_ADDR_STRIDE,
};
