//! `bench_kfunc_256` (256 calls of the trivial kfunc `bpf_dynptr_size`: the cost of entering
//! the host) and `bench_alu_4k` (the interpreter alone) of ../shared/bench, run by the runtime
//! as `BPF_PROG_TEST_RUN` runs them: an XDP program repeated on one 1500-byte frame.
//!
//! The kernel JIT's side: `benches/data/kernel-bench.sh` (bpftool prog run ... repeat). Compare
//! ratios of figures taken in one session: kfvm's ns per run over the kernel's.
//!
//! Seen in one session (2 cores, Linux 6.18.44; `kfvm test-run --repeat`, release build, and
//! `kernel-bench.sh` back to back): `bench_kfunc_256` 4.6 µs in kfvm (checked mode: the verifier
//! cannot check kfunc calls yet) against 1.96 µs under the kernel JIT, 2.35×; `bench_alu_4k`
//! 80.9 µs (verified mode) against 7.68 µs, 10.5×. Entering the host costs kfvm a few ns a
//! kfunc call; a run costs about 200 ns besides its instructions.

use criterion::{criterion_group, criterion_main, Criterion};
use kfvm_kernel::{Kernel, KernelConfig, ModelSpec};
use kfvm_runtime::{LoadOptions, Runtime};
use std::time::Duration;

fn runtime() -> Runtime {
    let kernel = Kernel::from_spec(&ModelSpec::default(), KernelConfig::small()).unwrap();
    let registry = kfvm_kernel::registry();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/bench.bpf.o");
    let obj = kfvm_object::Object::open(path).unwrap();
    let linked = kfvm_link::link(&obj, &kfvm_link::Target::from_registry(&registry).unwrap()).unwrap();
    Runtime::load(&kernel, &registry, &linked, &LoadOptions::default()).unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let pkt = vec![0u8; 1500];
    let mut g = c.benchmark_group("xdp_test_run");
    g.measurement_time(Duration::from_secs(5));
    for prog in ["bench_kfunc_256", "bench_alu_4k"] {
        let mode = &rt.progs()[rt.prog(prog).unwrap()].mode;
        eprintln!("{prog}: {mode:?}");
        g.bench_function(prog, |b| {
            b.iter_custom(|iters| {
                let r = rt.test_run(prog, &[], Some(&pkt), iters as u32).unwrap();
                Duration::from_nanos(r.duration_ns * iters)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
