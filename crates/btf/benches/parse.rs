//! Parsing the running kernel's BTF (`/sys/kernel/btf/vmlinux`, ~127k types, ~5.5 MB): the
//! budget is 15 ms per parse in release. Skipped, saying why, when the file is absent.
//!
//! - `copy`: the anchor, `data.to_vec()` of the same bytes (what `Btf::parse` starts with);
//! - `parse`: `Btf::parse(&data)`, copy included: header, offset index, full validation;
//! - `from_vec`: `Btf::from_vec(data)` on an already-owned buffer (no copy);
//! - `name_index`: parse plus the first `find_by_name_kind`, which builds the name index;
//! - `dump_c`: the whole `vmlinux.h` from a parsed `Btf`.

use criterion::{BatchSize, Criterion};
use kfvm_btf::{dump_c, Btf, CDumpOptions, Kind};
use std::hint::black_box;
use std::time::Duration;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn benches(c: &mut Criterion, data: &[u8]) {
    let mut g = c.benchmark_group("vmlinux");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("copy", |b| b.iter(|| black_box(data.to_vec())));
    g.bench_function("parse", |b| b.iter(|| Btf::parse(black_box(data)).expect("vmlinux parses")));
    g.bench_function("from_vec", |b| {
        b.iter_batched(|| data.to_vec(), |v| Btf::from_vec(v).expect("vmlinux parses"), BatchSize::LargeInput)
    });
    g.bench_function("name_index", |b| {
        b.iter(|| {
            let btf = Btf::parse(data).expect("vmlinux parses");
            black_box(btf.find_by_name_kind("task_struct", Kind::Struct).map(|t| t.id()))
        })
    });
    g.finish();

    let btf = Btf::parse(data).expect("vmlinux parses");
    let mut g = c.benchmark_group("vmlinux");
    g.sample_size(10);
    g.bench_function("dump_c", |b| b.iter(|| dump_c(&btf, &CDumpOptions::default()).expect("dumps")));
    g.finish();
}

fn main() {
    let data = match std::fs::read(VMLINUX) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("skipped: cannot read {VMLINUX}: {e}");
            return;
        }
    };
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &data);
    c.final_summary();
}
