//! Deterministic mutation test: corrupted copies of every corpus object are read and printed;
//! the loader must answer with an error or an object, never panic. (The fuzz target
//! `fuzz/fuzz_targets/object_load.rs` does the same with coverage guidance.)

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use kfvm_object::Object;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// (offset, size) of every section's contents and of the section header table.
fn regions(b: &[u8]) -> Vec<(usize, usize)> {
    let rd = |o: usize, n: usize| b[o..o + n].iter().rev().fold(0u64, |a, &x| a << 8 | x as u64);
    let shoff = rd(0x28, 8) as usize;
    let shentsize = rd(0x3a, 2) as usize;
    let shnum = rd(0x3c, 2) as usize;
    let mut v = vec![(shoff, shentsize * shnum), (0, 64)];
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (off, size) = (rd(h + 0x18, 8) as usize, rd(h + 0x20, 8) as usize);
        if off + size <= b.len() && size > 0 {
            v.push((off, size));
        }
    }
    v
}

const INTERESTING: [u32; 10] = [0, 1, 7, 8, 0x7f, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

fn mutate(rng: &mut Rng, orig: &[u8], regions: &[(usize, usize)]) -> Vec<u8> {
    let mut b = orig.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(5) {
            0 => {
                // one random byte anywhere
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            1 | 2 => {
                // an interesting 32-bit value at an aligned spot of a section or the header table
                let (off, size) = regions[rng.below(regions.len())];
                if size >= 4 {
                    let at = off + (rng.below(size - 3) & !3);
                    let v = if rng.below(2) == 0 {
                        INTERESTING[rng.below(INTERESTING.len())]
                    } else {
                        rng.next() as u32
                    };
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
            3 => {
                // a small increment or decrement of one byte of a section
                let (off, size) = regions[rng.below(regions.len())];
                let at = off + rng.below(size);
                b[at] = b[at].wrapping_add(if rng.below(2) == 0 { 1 } else { 0xff });
            }
            _ => {
                // truncation
                let n = rng.below(b.len());
                b.truncate(n.max(1));
                return b;
            }
        }
    }
    b
}

#[test]
fn corrupted_objects_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    names.sort();
    let iters: usize = std::env::var("KFVM_MUTATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut failures = Vec::new();
    let (mut ok, mut err) = (0, 0);
    for path in &names {
        let orig = std::fs::read(path).unwrap();
        let regions = regions(&orig);
        let fname = path.file_name().unwrap().to_string_lossy().into_owned();
        for i in 0..iters {
            let seed = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64) << 8 ^ fname.len() as u64;
            let mut rng = Rng(seed | 1);
            let bytes = mutate(&mut rng, &orig, &regions);
            let r = catch_unwind(AssertUnwindSafe(|| match Object::parse(&bytes, &fname) {
                Ok(obj) => {
                    let _ = kfvm_object::objdump::objdump(&obj, None);
                    for p in &obj.programs {
                        let _ = p.insns_with_map_indices();
                    }
                    true
                }
                Err(e) => {
                    let msg = e.to_string();
                    assert!(!msg.is_empty());
                    false
                }
            }));
            match r {
                Ok(true) => ok += 1,
                Ok(false) => err += 1,
                Err(_) => failures.push(format!("{fname} mutation #{i} (seed {seed:#x})")),
            }
        }
    }
    assert!(failures.is_empty(), "{} panics: {:#?}", failures.len(), &failures[..failures.len().min(20)]);
    assert!(ok > 0 && err > 0, "mutations should produce both outcomes ({ok} ok, {err} errors)");
}

#[test]
fn malformed_inputs_name_section_and_offset() {
    assert!(Object::parse(b"", "x.o").unwrap_err().to_string().contains("ELF"));
    assert!(Object::parse(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0], "x.o").is_err());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs");
    let orig = std::fs::read(dir.join("globals.bpf.o")).unwrap();
    // not EM_BPF
    let mut b = orig.clone();
    b[18] = 62;
    let e = Object::parse(&b, "globals.bpf.o").unwrap_err();
    assert!(e.to_string().contains("not a valid eBPF object file"), "{e}");
    // a relocation offset past its section
    let obj = Object::parse(&orig, "globals.bpf.o").unwrap();
    assert!(!obj.programs.is_empty());
    let regions = regions(&orig);
    let mut found = false;
    for &(off, size) in &regions {
        // .rel sections: 16-byte entries whose info has type R_BPF_64_64 (1) or R_BPF_64_32 (10)
        if size % 16 != 0 || size == 0 || off == 0 {
            continue;
        }
        let typ = orig[off + 8];
        if typ != 1 && typ != 10 {
            continue;
        }
        let mut b = orig.clone();
        b[off..off + 8].copy_from_slice(&0x7fff_fff8u64.to_le_bytes());
        if let Err(e) = Object::parse(&b, "globals.bpf.o") {
            let s = e.to_string();
            if s.contains("invalid offset") {
                assert!(e.section.as_deref().is_some_and(|s| s.starts_with(".rel")), "{s}");
                assert_eq!(e.offset, Some(0), "{s}");
                found = true;
                break;
            }
        }
    }
    assert!(found, "no relocation section was corrupted");
}
