//! Shared by the runtime's tests: loading the test objects against a model, and the leak audit.

#![allow(dead_code)]

use kfvm_kernel::{Kernel, KernelConfig, ModelSpec, RefAudit};
use kfvm_runtime::{LoadOptions, Runtime};
use std::path::PathBuf;

pub(crate) fn progs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/progs")
}

/// A file under the repository's `examples/`, as a path string (`progs().join` keeps it).
#[allow(dead_code)]
pub(crate) fn example(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(rel).to_string_lossy().into_owned()
}

/// examples/kfuncs/doc_examples.bpf.o: the kfuncs.rst examples.
#[allow(dead_code)]
pub(crate) fn doc_examples() -> String {
    example("kfuncs/doc_examples.bpf.o")
}

/// examples/kfuncs/doc.toml: the deterministic model they run against.
#[allow(dead_code)]
pub(crate) fn doc_model() -> String {
    example("kfuncs/doc.toml")
}

pub(crate) fn spec(name: &str) -> ModelSpec {
    ModelSpec::load(&progs().join(name)).unwrap()
}

pub(crate) fn linked(obj: &str, registry: &kfvm_kfunc::KfuncRegistry) -> kfvm_link::LinkedObject {
    let o = kfvm_object::Object::open(progs().join(obj)).unwrap();
    kfvm_link::link(&o, &kfvm_link::Target::from_registry(registry).unwrap()).unwrap()
}

/// A kernel from `model`, the object `obj` loaded on it, and the audit taken before loading.
pub(crate) fn setup(obj: &str, model: &str, cfg: KernelConfig) -> (Kernel, Runtime, RefAudit, ModelSpec) {
    setup_with(obj, model, cfg, &LoadOptions::default())
}

/// [`setup`] with load options.
pub(crate) fn setup_with(
    obj: &str,
    model: &str,
    cfg: KernelConfig,
    opts: &LoadOptions,
) -> (Kernel, Runtime, RefAudit, ModelSpec) {
    let spec = spec(model);
    let kernel = Kernel::from_spec(&spec, cfg).unwrap();
    let audit = kernel.audit();
    let registry = kfvm_kernel::registry();
    let rt = Runtime::load(&kernel, &registry, &linked(obj, &registry), opts).unwrap();
    (kernel, rt, audit, spec)
}

/// Drops the runtime (its maps release their kptrs), waits for reclaim, and fails the test if
/// any object's reference count is not back where it started.
pub(crate) fn leak_audit(kernel: &Kernel, rt: Runtime, audit: &RefAudit) {
    drop(rt);
    kernel.synchronize_rcu();
    if let Err(e) = audit.check(kernel) {
        panic!("{e}");
    }
}
