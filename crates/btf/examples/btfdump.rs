//! Development aid: `btfdump [raw|c|c-kfuncs|c-new|c-sorted|time] FILE [BASE]` prints what bpftool would.

use kfvm_btf::{dump_c, dump_raw, Btf, CDumpOptions};
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: btfdump raw|c|c-kfuncs|c-new|c-sorted|time FILE [BASE]");
        std::process::exit(2);
    }
    let data = std::fs::read(&args[2]).expect("read");
    let t0 = std::time::Instant::now();
    let btf = match args.get(3) {
        Some(base) => {
            let base = Btf::from_vec(std::fs::read(base).expect("read base")).expect("base");
            Btf::from_vec_split(data, Arc::new(base))
        }
        None => Btf::from_vec(data),
    };
    let parse = t0.elapsed();
    let btf = match btf {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    match args[1].as_str() {
        "raw" => print!("{}", dump_raw(&btf)),
        "c" | "c-kfuncs" | "c-new" | "c-sorted" => {
            let opts = match args[1].as_str() {
                "c" => CDumpOptions::default(),
                "c-kfuncs" => CDumpOptions { kfuncs: true, ..Default::default() },
                "c-new" => CDumpOptions { sorted: false, ..CDumpOptions::bpftool_latest() },
                _ => CDumpOptions::bpftool_latest(),
            };
            match dump_c(&btf, &opts) {
                Ok(s) => print!("{s}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
        _ => println!("parsed {} types in {parse:?}", btf.type_count()),
    }
}
