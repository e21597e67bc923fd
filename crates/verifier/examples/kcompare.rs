//! Verifies a `tests/asm` case with kfvm and the live kernel and shows both logs and their
//! difference: `cargo run -p kfvm-verifier --example kcompare -- FILE.s [LEVEL]`.

#[path = "../tests/asm_support/mod.rs"]
mod asm_support;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let level: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let case = asm_support::parse_with(path, false).expect("parse");
    let v = kfvm_verifier::bpf_check_full(&case.insns, &case.options(level), None);
    if std::env::var("KFVM_ONLY").is_ok() {
        println!("{:?}", v.result);
        print!("{}", v.log);
        return;
    }
    let k = case.kernel_load(level).expect("kernel");
    let (kl, fl) = (asm_support::normalize_log(&k.log), asm_support::normalize_log(&v.log));
    println!(
        "=== kernel: {}",
        if k.fd.is_some() { "accept".into() } else { format!("reject errno {:?}", k.errno) }
    );
    println!("=== kfvm:   {:?}", v.result.as_ref().map_err(|e| e.to_string()));
    if kl == fl {
        println!("=== logs identical");
        print!("{kl}");
    } else {
        let (ka, fa): (Vec<&str>, Vec<&str>) = (kl.lines().collect(), fl.lines().collect());
        let first = ka.iter().zip(fa.iter()).position(|(a, b)| a != b).unwrap_or(ka.len().min(fa.len()));
        println!("=== logs differ at line {}", first + 1);
        for (i, l) in ka.iter().enumerate().skip(first.saturating_sub(3)).take(12) {
            println!("K {i:4} {l}");
        }
        for (i, l) in fa.iter().enumerate().skip(first.saturating_sub(3)).take(12) {
            println!("F {i:4} {l}");
        }
        if std::env::var("FULL").is_ok() {
            println!("=== kernel log\n{kl}=== kfvm log\n{fl}");
        }
    }
}
