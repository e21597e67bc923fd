//! Development aid: parses a BTF file N times (for profiling).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).expect("read");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        let b = kfvm_btf::Btf::parse(&data).expect("parse");
        std::hint::black_box(b);
    }
    println!("{:?} per parse", t0.elapsed() / n as u32);
}
