//! `cargo run -p kfvm-link --example linkdump -- OBJ [host|vmlinux|BTF_FILE] [-v]`: an object
//! linked against a target, as text.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let obj = kfvm_object::Object::open(&args[0]).expect("object");
    let target = match args.get(1).map(String::as_str) {
        None | Some("host") => kfvm_link::Target::from_registry(&kfvm_kernel::registry()).expect("host"),
        Some("vmlinux") => kfvm_link::Target::running_kernel().expect("vmlinux"),
        Some(f) => kfvm_link::Target::from_btf_file(f).expect("btf"),
    };
    match kfvm_link::link(&obj, &target) {
        Ok(l) => {
            if args.iter().any(|a| a == "-v") {
                for (w, line) in &l.log.lines {
                    println!("{}{line}", if *w { "warn: " } else { "" });
                }
            }
            print!("{}", l.dump(None).unwrap());
        }
        Err(e) => println!("error: {e}"),
    }
}
