//! Each CO-RE relocation kind on `progs/kinds.bpf.c`, relocated onto `data/kinds_target.btf`
//! (`progs/kinds_target.bpf.c`): the values and instruction patches libbpf's rules give, spelled
//! out (tests/libbpf.rs checks the same instructions against libbpf itself).

use std::sync::Arc;

use kfvm_btf::{Btf, CoreReloKind as K, Kind};
use kfvm_link::{link, AppliedCore, LinkedObject, LinkedProgram, Target};
use kfvm_object::Object;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn linked(obj: &str) -> LinkedObject {
    let btf = Btf::from_vec(std::fs::read(format!("{DIR}/tests/data/kinds_target.btf")).unwrap()).unwrap();
    let obj = Object::open(format!("{DIR}/tests/progs/{obj}")).unwrap();
    link(&obj, &Target::new(Arc::new(btf))).unwrap()
}

fn relo<'a>(p: &'a LinkedProgram, kind: K, local: &str) -> &'a AppliedCore {
    p.core_relos
        .iter()
        .find(|r| r.kind == kind && r.local.contains(local))
        .unwrap_or_else(|| panic!("{}: no {kind} relocation of {local}: {:#?}", p.name, p.core_relos))
}

fn target_id(l: &LinkedObject, name: &str, kind: Kind) -> u64 {
    l.target_btf.find_by_name_kind(name, kind).unwrap().id() as u64
}

#[test]
fn field_relocations() {
    let l = linked("kinds.bpf.o");
    let p = l.program("fields").unwrap();
    // a moved field: LDX and STX offsets
    let a: Vec<_> = p
        .core_relos
        .iter()
        .filter(|r| r.kind == K::FieldByteOffset && r.local.contains("struct kt.a ("))
        .collect();
    assert!(a.len() >= 2);
    for r in &a {
        assert_eq!((r.orig_val, r.new_val), (0, 16));
        assert_eq!(p.insns[r.insn].off, 16);
    }
    // u32 -> unsigned long: the load becomes a u64 load
    let g = relo(p, K::FieldByteOffset, "struct kt.grow (");
    assert_eq!(g.new_val, 24);
    assert_eq!(p.insns[g.insn].code, 0x79, "ldxdw");
    // nested, array element, anonymous union moved into an anonymous struct, flexible array
    assert_eq!(relo(p, K::FieldByteOffset, "struct kt.arr[2].x").new_val, 100);
    let u2 = relo(p, K::FieldByteOffset, "struct kt.u2");
    assert_eq!(u2.new_val, 112);
    assert!(u2.target.as_deref().unwrap().contains("(0:9:1:0 @ offset 112)"), "{u2:?}");
    assert_eq!(relo(p, K::FieldByteOffset, "struct kt.flex[3]").new_val, 148);
    // sizes, existence, signedness
    assert_eq!(relo(p, K::FieldByteSize, "struct kt.grow").new_val, 8);
    assert_eq!(relo(p, K::FieldByteSize, "struct kt.arr (").new_val, 48);
    assert_eq!(relo(p, K::FieldExists, "struct kt.gone").new_val, 0);
    assert_eq!(relo(p, K::FieldExists, "struct kt.a").new_val, 1);
    assert_eq!(relo(p, K::FieldSigned, "struct kt.bf2").new_val, 1);
    assert_eq!(relo(p, K::FieldSigned, "struct kt.bf1").new_val, 0);
    // bitfields: bf1 is 7 bits at bit 64 of the target, bf2 12 bits at bit 80
    assert_eq!(relo(p, K::FieldByteOffset, "struct kt.bf1").new_val, 8);
    assert_eq!(relo(p, K::FieldByteSize, "struct kt.bf1").new_val, 4);
    assert_eq!(relo(p, K::FieldLshiftU64, "struct kt.bf1").new_val, 64 - 7);
    assert_eq!(relo(p, K::FieldRshiftU64, "struct kt.bf1").new_val, 64 - 7);
    assert_eq!(relo(p, K::FieldLshiftU64, "struct kt.bf2").new_val, 64 - (80 + 12 - 64));
    assert_eq!(relo(p, K::FieldRshiftU64, "struct kt.bf2").new_val, 64 - 12);
    assert!(p.core_relos.iter().all(|r| !r.poisoned));
}

#[test]
fn poisoned_relocations() {
    let l = linked("kinds.bpf.o");
    let p = l.program("poisoned").unwrap();
    // a missing field, and a signed field that grew: both loads become `call 0xbad2310`
    for local in ["struct kt.gone", "struct kt.sgrow"] {
        let r = relo(p, K::FieldByteOffset, local);
        assert!(r.poisoned, "{r:?}");
        let i = p.insns[r.insn];
        assert_eq!((i.code, i.regs, i.off, i.imm), (0x85, 0, 0, kfvm_link::relo_core::BPF_CORE_POISON_IMM));
    }
    assert!(l.log.lines.iter().any(|(w, s)| *w && s.contains("accesses field incorrectly")));
}

#[test]
fn type_relocations() {
    let l = linked("kinds.bpf.o");
    let p = l.program("types").unwrap();
    let kt = target_id(&l, "kt", Kind::Struct);
    let local_kt = l.btf.as_ref().unwrap().find_by_name_kind("kt", Kind::Struct).unwrap().id() as u64;
    assert_eq!(relo(p, K::TypeIdLocal, "struct kt").new_val, local_kt);
    assert_eq!(relo(p, K::TypeIdTarget, "struct kt").new_val, kt);
    assert_eq!(relo(p, K::TypeIdTarget, "struct kt_missing").new_val, 0);
    assert_eq!(relo(p, K::TypeExists, "struct kt").new_val, 1);
    assert_eq!(relo(p, K::TypeExists, "struct kt_missing").new_val, 0);
    assert_eq!(relo(p, K::TypeExists, "typedef kt_t").new_val, 1);
    assert_eq!(relo(p, K::TypeSize, "struct kt").new_val, 136);
    assert_eq!(relo(p, K::TypeSize, "typedef kt_t").new_val, 136);
    assert_eq!(relo(p, K::TypeSize, "struct kt_missing").new_val, 0);
    // the target kt_match has an extra member: still a match; kt_nomatch's n is an int, not a char
    assert_eq!(relo(p, K::TypeMatches, "struct kt_match").new_val, 1);
    assert_eq!(relo(p, K::TypeMatches, "struct kt_nomatch").new_val, 0);
    // a local name matches a flavored target name
    let f = relo(p, K::TypeExists, "struct kt_flav");
    assert_eq!(f.new_val, 1);
    assert!(f.target.as_deref().unwrap().contains("kt_flav___v2"));
}

#[test]
fn enum_relocations() {
    let l = linked("kinds.bpf.o");
    let p = l.program("enums").unwrap();
    assert_eq!(relo(p, K::EnumvalExists, "KT_A").new_val, 1);
    assert_eq!(relo(p, K::EnumvalExists, "KT_GONE").new_val, 0);
    assert_eq!(relo(p, K::EnumvalValue, "KT_B").new_val, 20);
    // an ENUM value is an s32, sign-extended into the 64-bit immediate
    let neg = relo(p, K::EnumvalValue, "KT_NEG");
    assert_eq!(neg.new_val, -7i64 as u64);
    assert_eq!((p.insns[neg.insn].imm, p.insns[neg.insn + 1].imm), (-7, -1));
    let big = relo(p, K::EnumvalValue, "KT_BIG");
    assert_eq!(big.new_val, 0x3_0000_0000);
    assert_eq!((p.insns[big.insn].imm, p.insns[big.insn + 1].imm), (0, 3));
    // the value of a missing enumerator: poisoned, both halves of the ldimm64
    let gone = relo(p, K::EnumvalValue, "KT_GONE");
    assert!(gone.poisoned);
    assert_eq!(p.insns[gone.insn + 1].imm, kfvm_link::relo_core::BPF_CORE_POISON_IMM);
}

#[test]
fn flavors_subprograms_and_unloaded_programs() {
    let l = linked("kinds.bpf.o");
    let p = l.program("flavors").unwrap();
    // struct kt___new is the local view of the target's struct kt
    let a = relo(p, K::FieldByteOffset, "struct kt___new.a");
    assert_eq!(a.new_val, 16);
    assert!(a.target.as_deref().unwrap().contains("struct kt.a"));
    assert_eq!(relo(p, K::FieldExists, "struct kt___new.added").new_val, 0);
    assert_eq!(relo(p, K::FieldExists, "struct kt_flav.only").new_val, 1);
    // the subprogram's relocations are applied in each program it is linked into
    for name in ["calls_sub1", "calls_sub2"] {
        let p = l.program(name).unwrap();
        assert_eq!(p.subprogs.len(), 1);
        let r = relo(p, K::FieldByteOffset, "struct kt.a");
        assert!(r.insn >= p.subprogs[0].insn_off);
        assert_eq!(p.insns[r.insn].off, 16);
    }
    // SEC("?syscall") is linked too (relocated after the others, as libbpf skips it)
    let p = l.program("not_loaded").unwrap();
    assert!(!p.autoload);
    assert_eq!(relo(p, K::FieldByteOffset, "struct kt.grow").new_val, 24);
    assert!(l.failed.is_empty());
}

#[test]
fn cpu_v4_stores_and_sign_extending_loads() {
    let l = linked("kinds_v4.bpf.o");
    let p = l.program("fields").unwrap();
    let a: Vec<_> = p.core_relos.iter().filter(|r| r.local.contains("struct kt.a (")).collect();
    // `k->a = 7` is a BPF_ST of an immediate; `out[0] = k->a` a BPF_MEMSX load
    assert!(a.iter().any(|r| p.insns[r.insn].code == 0x62 && p.insns[r.insn].off == 16));
    assert!(a.iter().any(|r| p.insns[r.insn].code == 0x81 && p.insns[r.insn].off == 16));
}
