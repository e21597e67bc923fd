//! Malformed input: targeted cases check that the error names the type id or byte offset and
//! what is wrong; a deterministic mutation test over the committed corpus checks that nothing
//! panics, whatever the bytes, and that whatever parses can be queried, dumped and rebuilt.

mod common;

use common::*;
use kfvm_btf::{
    dump_c, dump_raw, Btf, BtfBuilder, BtfError, BtfExt, CDumpOptions, FuncLinkage, IntEncoding, Kind,
    NewMember, TypeProblem,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

fn int_and_ptr() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED); // [1] at byte 24, 16 bytes
    b.add_ptr(int); // [2] at byte 40
    b.finish().unwrap()
}

fn put32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn problem(e: &BtfError) -> (u32, &TypeProblem) {
    match e {
        BtfError::BadType { id, problem, .. } => (*id, problem),
        other => panic!("expected a type error, got {other:?}: {other}"),
    }
}

#[test]
fn truncated_header() {
    let d = int_and_ptr();
    let e = Btf::parse(&d[..10]).unwrap_err();
    assert_eq!(e, BtfError::Truncated { what: "BTF header", offset: 0, need: 24, have: 10 });
    assert_eq!(e.to_string(), "truncated BTF: BTF header at offset 0 needs 24 bytes, only 10 present");
    assert!(matches!(Btf::parse(&[]), Err(BtfError::Truncated { have: 0, .. })));
}

#[test]
fn bad_magic_and_big_endian() {
    let mut d = int_and_ptr();
    d[0] = 0x34;
    d[1] = 0x12;
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(e, BtfError::BadMagic { found: 0x1234 });
    assert!(e.to_string().contains("0x1234"), "{e}");
    d[0] = 0xeb;
    d[1] = 0x9f;
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(e, BtfError::BigEndian);
    assert!(e.to_string().contains("big-endian"), "{e}");
}

#[test]
fn bad_header_fields() {
    let good = int_and_ptr();
    let mut d = good.clone();
    d[2] = 2;
    assert_eq!(Btf::parse(&d).unwrap_err(), BtfError::UnsupportedVersion(2));
    let mut d = good.clone();
    d[3] = 1;
    assert_eq!(Btf::parse(&d).unwrap_err(), BtfError::UnsupportedFlags(1));
    // A type section running past the data, named with its offset.
    let mut d = good.clone();
    put32(&mut d, 12, 0x1000);
    let e = Btf::parse(&d).unwrap_err();
    assert!(matches!(e, BtfError::Truncated { what: "BTF type section", offset: 24, .. }), "{e:?}");
    // A longer header whose extra bytes are not zero.
    let mut d = good[..24].to_vec();
    put32(&mut d, 4, 28);
    d.extend_from_slice(&[0, 0, 7, 0]);
    d.extend_from_slice(&good[24..]);
    let e = Btf::parse(&d).unwrap_err();
    assert!(e.to_string().contains("non-zero header byte at offset 26"), "{e}");
    // Misaligned type section.
    let mut d = good.clone();
    put32(&mut d, 8, 2);
    assert!(Btf::parse(&d).unwrap_err().to_string().contains("not 4-byte aligned"));
}

#[test]
fn bad_string_section() {
    let good = int_and_ptr();
    let str_start = 24 + 16 + 12;
    // Last byte not NUL.
    let mut d = good.clone();
    let last = d.len() - 1;
    d[last] = b'x';
    let e = Btf::parse(&d).unwrap_err();
    assert!(matches!(e, BtfError::BadStrings(_)), "{e}");
    // Not UTF-8: the error gives the offset.
    let mut d = good.clone();
    d[str_start + 1] = 0xff;
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(e.to_string(), "invalid BTF string section: invalid UTF-8 at offset 1");
}

#[test]
fn string_offset_out_of_range() {
    let mut d = int_and_ptr();
    put32(&mut d, 24, 99999); // [1]'s name_off
    let e = Btf::parse(&d).unwrap_err();
    let (id, p) = problem(&e);
    assert_eq!(id, 1);
    assert!(matches!(p, TypeProblem::NameOffset { offset: 99999, limit: 5, .. }), "{p:?}");
    assert_eq!(
        e.to_string(),
        "type [1] INT '(anon)': type name offset 99999 out of range (string section size 5)"
    );
}

#[test]
fn string_offset_inside_a_character() {
    let mut b = BtfBuilder::new();
    b.add_int("é", 4, IntEncoding::SIGNED);
    let mut d = b.finish().unwrap();
    put32(&mut d, 24, 2); // second byte of "é"
    let e = Btf::parse(&d).unwrap_err();
    assert!(matches!(problem(&e), (1, TypeProblem::NameNotCharBoundary { offset: 2, .. })), "{e}");
}

#[test]
fn type_id_out_of_range() {
    let mut d = int_and_ptr();
    put32(&mut d, 40 + 8, 500); // [2] PTR -> 500
    let e = Btf::parse(&d).unwrap_err();
    let (id, p) = problem(&e);
    assert_eq!(id, 2);
    assert!(matches!(p, TypeProblem::TypeId { id: 500, count: 3, .. }), "{p:?}");
    assert_eq!(
        e.to_string(),
        "type [2] PTR '(anon)': referenced type id 500 out of range (BTF has ids 0..3)"
    );

    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    b.add_struct("s", 8, &[NewMember::new("a", int, 0), NewMember::new("b", 77, 32)]);
    let e = b.build().unwrap_err();
    assert_eq!(e.to_string(), "type [2] STRUCT 's': member 1 type id 77 out of range (BTF has ids 0..3)");
}

#[test]
fn reference_loops() {
    // typedef A -> const -> typedef A
    let mut b = BtfBuilder::new();
    let a = b.next_id();
    b.add_typedef("A", a + 1);
    b.add_const(a);
    let e = b.build().unwrap_err();
    let (id, p) = problem(&e);
    assert_eq!(id, a);
    assert_eq!(p, &TypeProblem::Loop { path: vec![a, a + 1] });
    assert_eq!(e.to_string(), "type [1] TYPEDEF 'A': reference loop: [1] -> [2] -> [1]");

    // A pointer to itself.
    let mut b = BtfBuilder::new();
    b.add_ptr(1);
    let e = b.build().unwrap_err();
    assert!(e.to_string().contains("reference loop: [1] -> [1]"), "{e}");

    // A struct containing itself by value, through an array and a typedef.
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let s = b.next_id();
    b.add_struct("s", 12, &[NewMember::new("x", int, 0), NewMember::new("self", s + 1, 32)]);
    b.add_typedef("s_t", s + 2);
    b.add_array(s, int, 1);
    let e = b.build().unwrap_err();
    let (_, p) = problem(&e);
    assert!(matches!(p, TypeProblem::Loop { path } if path.len() == 3), "{e}");
    assert!(e.to_string().contains("reference loop"), "{e}");

    // A pointer between them makes it fine (a linked list).
    let mut b = BtfBuilder::new();
    let s = b.next_id();
    b.add_struct("node", 8, &[NewMember::new("next", s + 1, 0)]);
    b.add_ptr(s);
    b.build().expect("struct node { struct node *next; } is valid");
}

#[test]
fn sizes_that_overflow() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let inner = b.add_array(int, int, 0x10000);
    let outer = b.add_array(inner, int, 0x10000);
    let e = b.build().unwrap_err();
    let (id, p) = problem(&e);
    assert_eq!(id, outer);
    assert!(matches!(p, TypeProblem::SizeOverflow(_)), "{p:?}");
    assert!(e.to_string().contains("65536 elements of 262144 bytes"), "{e}");

    // A member past the end of its struct.
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    b.add_struct("s", 4, &[NewMember::new("a", int, 0), NewMember::new("b", int, 32)]);
    let e = b.build().unwrap_err();
    assert_eq!(e.to_string(), "type [2] STRUCT 's': member 1: ends at bit 64, beyond the size of 4 bytes");
}

#[test]
fn vlen_and_kind_flag_misuse() {
    let good = int_and_ptr();
    let mut d = good.clone();
    put32(&mut d, 24 + 4, 1 << 31 | 1 << 24); // INT with kind_flag
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(problem(&e), (1, &TypeProblem::KindFlag));
    assert!(e.to_string().starts_with("type [1] INT 'int': kind_flag set"), "{e}");
    let mut d = good.clone();
    put32(&mut d, 40 + 4, 2 << 24 | 1); // PTR with vlen 1: the record is also misread
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(e.to_string(), "type [2] PTR '(anon)': vlen 1 not allowed for this kind");
    let mut d = good.clone();
    put32(&mut d, 40 + 4, 25 << 24); // kind 25
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(e.to_string(), "type [2]: unknown kind 25");
    let mut d = good.clone();
    put32(&mut d, 40 + 4, 2 << 24 | 1 << 20); // reserved info bit
    assert!(matches!(problem(&Btf::parse(&d).unwrap_err()).1, TypeProblem::ReservedInfoBits(_)));
    // A struct whose vlen claims more members than the section holds.
    let mut d = good.clone();
    put32(&mut d, 40 + 4, 4 << 24 | 3);
    let e = Btf::parse(&d).unwrap_err();
    assert_eq!(e.to_string(), "type [2] STRUCT: record needs 48 bytes, only 12 left in the type section");
}

#[test]
fn wrong_kinds_and_components() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    b.add_func("f", int, FuncLinkage::Global);
    let e = b.build().unwrap_err();
    assert_eq!(e.to_string(), "type [2] FUNC 'f': prototype type [1] is INT, expected FUNC_PROTO");

    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let s = b.add_struct("s", 4, &[NewMember::new("a", int, 0)]);
    b.add_decl_tag("t", s, Some(1));
    let e = b.build().unwrap_err();
    assert_eq!(e.to_string(), "type [3] DECL_TAG 't': component_idx 1 out of range");

    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    b.add_func_proto(int, &[("a", 0), ("b", int)]);
    let e = b.build().unwrap_err();
    assert!(e.to_string().contains("param 0 is void but not the last"), "{e}");
}

#[test]
fn deep_chains_do_not_overflow_the_stack() {
    let mut b = BtfBuilder::new();
    let mut t = b.add_int("int", 4, IntEncoding::SIGNED);
    for _ in 0..50_000 {
        t = b.add_const(t);
    }
    let top = b.add_typedef("deep_t", t);
    let btf = b.build().expect("a long chain is valid");
    assert_eq!(btf.resolve_size(top).unwrap(), 4);
    assert_eq!(btf.skip_mods_and_typedefs(top).unwrap().name(), "int");
    assert!(matches!(btf.align_of(top), Err(BtfError::TooDeep { .. })));
    assert!(matches!(dump_c(&btf, &CDumpOptions::default()), Err(BtfError::TooDeep { .. })));
    // Deeply nested anonymous structs.
    let mut b = BtfBuilder::new();
    let mut t = b.add_int("int", 4, IntEncoding::SIGNED);
    for _ in 0..5_000 {
        t = b.add_struct("", 4, &[NewMember::new("", t, 0)]);
    }
    b.add_struct("outer", 4, &[NewMember::new("", t, 0)]);
    let btf = b.build().expect("deep nesting is valid");
    assert!(dump_c(&btf, &CDumpOptions::default()).is_err());
    let outer = btf.find_by_name_kind("outer", Kind::Struct).unwrap();
    assert!(btf.find_member(outer.id(), "nothing").is_err());
}

#[test]
fn malformed_btf_ext() {
    let (btf_bytes, ext) = object_btf("kinds.bpf.o");
    let btf = Btf::from_vec(btf_bytes).unwrap();
    let ext = ext.unwrap();
    assert!(matches!(
        BtfExt::parse(&ext[..10], &btf),
        Err(BtfError::Truncated { what: ".BTF.ext header", offset: 0, need: 24, have: 10 })
    ));
    let hdr_len = u32::from_le_bytes(ext[4..8].try_into().unwrap()) as usize;
    let fi_off = u32::from_le_bytes(ext[8..12].try_into().unwrap()) as usize;
    // Record size below the minimum.
    let mut d = ext.clone();
    put32(&mut d, hdr_len + fi_off, 4);
    let e = BtfExt::parse(&d, &btf).unwrap_err();
    assert_eq!(e.to_string(), ".BTF.ext: func_info record size 4 invalid (at least 8, multiple of 4)");
    // A section with no records.
    let mut d = ext.clone();
    put32(&mut d, hdr_len + fi_off + 8, 0);
    let e = BtfExt::parse(&d, &btf).unwrap_err();
    assert!(e.to_string().contains("has no records"), "{e}");
    // A func_info pointing at a non-FUNC.
    let mut d = ext.clone();
    put32(&mut d, hdr_len + fi_off + 12 + 4, 3);
    let e = BtfExt::parse(&d, &btf).unwrap_err();
    assert!(e.to_string().contains("type [3] is INT, expected FUNC"), "{e}");
    // A section name offset outside the strings.
    let mut d = ext.clone();
    put32(&mut d, hdr_len + fi_off + 4, 0x00ff_0000);
    let e = BtfExt::parse(&d, &btf).unwrap_err();
    assert!(e.to_string().contains("section name offset 16711680"), "{e}");
}

/// splitmix64: a tiny deterministic PRNG.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One random mutation: bit flips, interesting 32-bit words, truncation, splices.
fn mutate(rng: &mut Rng, d: &mut Vec<u8>) {
    const WORDS: [u32; 12] = [
        0,
        1,
        2,
        0xff,
        0xffff,
        0x10000,
        0x00ff_ffff,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x0400_0001,
        0x8400_0002,
    ];
    if d.is_empty() {
        return;
    }
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let i = rng.below(d.len()) & !3;
                if i + 4 <= d.len() {
                    let w =
                        if rng.below(2) == 0 { WORDS[rng.below(WORDS.len())] } else { rng.below(200) as u32 };
                    put32(d, i, w);
                }
            }
            3 => {
                let n = rng.below(d.len() + 1);
                d.truncate(n);
                if d.is_empty() {
                    return;
                }
            }
            4 => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            _ => {
                let a = rng.below(d.len());
                let b = rng.below(d.len());
                let n = rng.below(16).min(d.len() - a.max(b));
                let chunk = d[a..a + n].to_vec();
                d[b..b + n].copy_from_slice(&chunk);
            }
        }
    }
}

/// Everything one can do with a `Btf`: none of it may panic.
fn exercise(btf: &Btf) {
    let _ = dump_raw(btf);
    let _ = dump_c(btf, &CDumpOptions::default());
    let _ = dump_c(btf, &CDumpOptions::bpftool_latest());
    for t in btf.all_types() {
        let id = t.id();
        let _ = (t.name(), t.size(), t.type_id(), t.int(), t.array(), t.data());
        let _ = btf.resolve_size(id);
        let _ = btf.align_of(id);
        let _ = btf.skip_mods_and_typedefs(id);
        let _ = btf.strip_mods(id);
        let _ = btf.decl_tags(id);
        let _ = kfvm_btf::c_decl(btf, id, "x");
        for m in t.members() {
            let _ = btf.find_member(id, m.name);
        }
        for v in t.enum_values() {
            let _ = (v.as_i64(), v.value());
        }
        let _ = t.params().count() + t.datasec_vars().count();
        if t.kind() == Kind::Ptr {
            let _ = btf.ptr_type_tags(id);
        }
        if t.kind() == Kind::Func {
            let _ = btf.func_proto(id);
        }
        if !t.is_anon() {
            assert!(btf.find_by_name(t.name()).iter().any(|f| f.id() == id));
        }
    }
    let _ = btf.funcs_with_decl_tag("bpf_kfunc");
    // Valid BTF rebuilds into valid BTF with the same content.
    let rebuilt = BtfBuilder::from_btf(btf).finish().expect("rebuild encodes");
    let again = match btf.base() {
        Some(b) => Btf::parse_split(&rebuilt, b.clone()),
        None => Btf::parse(&rebuilt),
    }
    .expect("rebuilt BTF validates");
    assert_eq!(dump_raw(&again), dump_raw(btf));
}

/// Runs `rounds` mutations of corpus blob `name` (`FUZZ_ROUNDS` overrides the count, `FUZZ_SEED`
/// the seed, for longer runs; `FUZZ_SLOW=1` reports slow rounds and keeps the current input in
/// /tmp).
fn fuzz(name: &str, seed: u64, rounds: usize, one: impl Fn(&[u8])) {
    let rounds = std::env::var("FUZZ_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(rounds);
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse::<u64>().ok()).map_or(seed, |s| seed ^ s);
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let s = rng.0;
        let mut d = Vec::new();
        let t0 = std::time::Instant::now();
        if std::env::var_os("FUZZ_SLOW").is_some() {
            let _ = std::fs::write("/tmp/fuzz-current", mutate_from(&mut Rng(s), name));
            let _ = std::fs::write("/tmp/fuzz-current.txt", format!("{name} {round}"));
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            d = mutate_from(&mut Rng(s), name);
            one(&d)
        }));
        if std::env::var_os("FUZZ_SLOW").is_some() && t0.elapsed().as_millis() > 50 {
            eprintln!("{name}: round {round} took {:?}", t0.elapsed());
            let _ = std::fs::write(format!("/tmp/slow-{name}-{round}"), &d);
        }
        if r.is_err() {
            panic!("{name}: round {round} (rng state {s:#x}) panicked on {} bytes", d.len());
        }
        rng.next();
    }
}

fn mutate_from(rng: &mut Rng, name: &str) -> Vec<u8> {
    let mut d = corpus_blob(name);
    mutate(rng, &mut d);
    d
}

fn corpus_blob(name: &str) -> Vec<u8> {
    match name {
        "kinds.BTF" => object_btf("kinds.bpf.o").0,
        "kinds.BTF.ext" => object_btf("kinds.bpf.o").1.unwrap(),
        other => data(other),
    }
}

#[test]
fn mutated_btf_never_panics() {
    for (i, name) in ["kinds.BTF", "built_all_kinds.btf", "built_split_base.btf"].into_iter().enumerate() {
        fuzz(name, 0x5eed_0000 + i as u64, 1500, |d| {
            if let Ok(btf) = Btf::parse(d) {
                exercise(&btf);
            }
        });
    }
}

#[test]
fn mutated_split_btf_never_panics() {
    let base = Arc::new(Btf::from_vec(data("built_split_base.btf")).unwrap());
    fuzz("built_split.btf", 0x5911_7000, 1500, |d| {
        if let Ok(btf) = Btf::parse_split(d, base.clone()) {
            exercise(&btf);
        }
    });
}

#[test]
fn mutated_btf_ext_never_panics() {
    let btf = Btf::from_vec(object_btf("kinds.bpf.o").0).unwrap();
    fuzz("kinds.BTF.ext", 0xe47_0000, 3000, |d| {
        if let Ok(ext) = BtfExt::parse(d, &btf) {
            for s in &ext.line_info {
                for l in &s.records {
                    let _ = (l.file_name(&btf), l.line_text(&btf), l.line(), l.column());
                }
            }
            for s in &ext.core_relos {
                for r in &s.records {
                    let _ = (r.access_str(&btf), r.access_spec(&btf), r.kind.as_str());
                }
            }
        }
    });
}
