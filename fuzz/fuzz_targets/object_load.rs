//! Fuzz the object loader: any bytes must give an `Object` or an `Error`, never a panic; a loaded
//! object must also print. Seed the corpus with `crates/object/tests/progs/*.bpf.o`:
//! `cargo fuzz run object_load fuzz/corpus/object_load ../crates/object/tests/progs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(obj) = kfvm_object::Object::parse(data, "fuzz.bpf.o") {
        let _ = kfvm_object::objdump::objdump(&obj, None);
        for p in &obj.programs {
            let _ = p.insns_with_map_indices();
        }
    }
});
