//! Development aid: `parseloop FILE [N] [index]` parses a BTF file N times (for profiling);
//! with `index`, also builds the name index each time.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).expect("read");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let index = args.get(3).is_some_and(|s| s == "index");
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        let b = kfvm_btf::Btf::parse(&data).expect("parse");
        if index {
            std::hint::black_box(b.find_by_name_kind("task_struct", kfvm_btf::Kind::Struct).map(|t| t.id()));
        }
        std::hint::black_box(b);
    }
    println!("{:?} per iteration", t0.elapsed() / n as u32);
}
