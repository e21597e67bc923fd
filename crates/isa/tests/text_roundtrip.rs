//! Round trips between instructions and the kernel's pseudo-C, over every form of the opcode table.

use kfvm_isa::asm::{assemble, assemble_with, parse_insn, parse_insn_with, AsmError};
use kfvm_isa::disasm::{self, insn_to_string, KfuncNames, NoSymbols, Options};
use kfvm_isa::opcode::{Shape, Variant, FORMS};
use kfvm_isa::{decode, CallKind, Insn, RawInsn};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn reg(&mut self) -> u8 {
        (self.next() % 11) as u8
    }

    /// Mostly small values, sometimes the extremes or anything.
    fn i32(&mut self) -> i32 {
        match self.next() % 8 {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => -1,
            3 => 0,
            4 | 5 => (self.next() % 64) as i32 - 32,
            _ => self.next() as i32,
        }
    }

    fn i16(&mut self) -> i16 {
        match self.next() % 6 {
            0 => i16::MIN,
            1 => i16::MAX,
            2 => 0,
            3 | 4 => (self.next() % 64) as i16 - 32,
            _ => self.next() as i16,
        }
    }
}

/// `n` valid instances of every form (two slots for `lddw`).
fn instances(n: usize) -> Vec<(String, Vec<RawInsn>)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    for form in FORMS {
        for _ in 0..n {
            let (mut dst, mut src, mut off, mut imm) = (rng.reg(), 0u8, 0i16, 0i32);
            let mut second = None;
            match form.shape {
                Shape::AluK => imm = rng.i32(),
                Shape::AluX => src = rng.reg(),
                Shape::Neg => {}
                Shape::End => {}
                Shape::AddrSpaceCast => {
                    src = rng.reg();
                    imm = if rng.next() % 2 == 0 { 1 } else { 1 << 16 };
                }
                Shape::Ja if form.code == 0x06 => (dst, imm) = (0, rng.i32()),
                Shape::Ja => (dst, off) = (0, rng.i16()),
                Shape::JmpK => (off, imm) = (rng.i16(), rng.i32()),
                Shape::JmpX => (src, off) = (rng.reg(), rng.i16()),
                Shape::Call => {
                    dst = 0;
                    src = (rng.next() % 3) as u8;
                    imm = if src == 0 && rng.next() % 2 == 0 { (rng.next() % 220) as i32 } else { rng.i32() };
                    if src == 2 {
                        off = if rng.next() % 2 == 0 { 0 } else { rng.i16() };
                    }
                }
                Shape::Callx => {}
                Shape::Exit | Shape::MayGoto => {
                    dst = 0;
                    if form.shape == Shape::MayGoto {
                        off = rng.i16();
                    }
                }
                Shape::LdImm64 => {
                    src = (rng.next() % 7) as u8;
                    imm = rng.i32();
                    second = Some(RawInsn::new(0, 0, 0, 0, rng.i32()));
                }
                Shape::LdAbs => (dst, imm) = (0, rng.i32()),
                Shape::LdInd => (dst, src, imm) = (0, rng.reg(), rng.i32()),
                Shape::Ldx | Shape::LdxSx | Shape::Stx => (src, off) = (rng.reg(), rng.i16()),
                Shape::St => (off, imm) = (rng.i16(), rng.i32()),
                Shape::Atomic => (src, off) = (rng.reg(), rng.i16()),
            }
            match form.variant {
                Variant::None => {}
                Variant::Off(o) => off = o,
                Variant::Imm(i) => imm = i,
            }
            let mut slots = vec![RawInsn::new(form.code, dst, src, off, imm)];
            slots.extend(second);
            out.push((format!("{:#04x} {}", form.code, form.mnemonic), slots));
        }
    }
    out
}

fn decoded() -> Vec<(String, Insn)> {
    instances(40)
        .into_iter()
        .map(|(name, slots)| {
            let insn = decode(&slots, 0).unwrap_or_else(|e| panic!("{name}: {slots:?} does not decode: {e}"));
            (name, insn)
        })
        .collect()
}

/// Whether the kernel's text keeps everything about the instruction.
fn kernel_text_is_lossless(insn: &Insn) -> bool {
    !matches!(
        insn,
        Insn::LdImm64 {
            pseudo: kfvm_isa::Pseudo::MapFd
                | kfvm_isa::Pseudo::MapValue
                | kfvm_isa::Pseudo::BtfId
                | kfvm_isa::Pseudo::Func
                | kfvm_isa::Pseudo::MapIdx
                | kfvm_isa::Pseudo::MapIdxValue,
            ..
        } | Insn::Call(CallKind::Kfunc { btf_off: 1.., .. } | CallKind::Kfunc { btf_off: ..=-1, .. })
            | Insn::Callx { .. }
    )
}

#[test]
fn lossless_text_round_trips() {
    for (name, insn) in decoded() {
        for opts in [Options::LOSSLESS, Options { opcode_prefix: true, ..Options::LOSSLESS }] {
            let text = insn_to_string(&insn, &NoSymbols, opts);
            let back = parse_insn(&text).unwrap_or_else(|e| panic!("{name}: `{text}`: {e}"));
            assert_eq!(back, insn, "{name}: `{text}`");
        }
    }
}

#[test]
fn kernel_text_round_trips() {
    for (name, insn) in decoded() {
        for opts in [Options::KERNEL, Options::LOG] {
            let text = insn_to_string(&insn, &NoSymbols, opts);
            let back = parse_insn(&text).unwrap_or_else(|e| panic!("{name}: `{text}`: {e}"));
            assert_eq!(insn_to_string(&back, &NoSymbols, opts), text, "{name}");
            if kernel_text_is_lossless(&insn) {
                assert_eq!(back, insn, "{name}: `{text}`");
            }
        }
    }
}

#[test]
fn every_form_has_kernel_text() {
    // Every form prints something the kernel would print, never the BUG_ fallbacks.
    for (name, insn) in decoded() {
        let text = insn.to_string();
        assert!(!text.contains("BUG") && !text.contains("(null)"), "{name}: {text}");
    }
}

#[test]
fn listing_round_trips() {
    let insns: Vec<Insn> = decoded().into_iter().map(|(_, i)| i).collect();
    let text = disasm::listing(&insns, &NoSymbols, Options::LOSSLESS);
    assert_eq!(assemble(&text).unwrap(), insns);
    let kernel = disasm::listing(&insns, &NoSymbols, Options::KERNEL);
    let back = assemble(&kernel).unwrap();
    assert_eq!(disasm::listing(&back, &NoSymbols, Options::KERNEL), kernel);
    assert!(kernel.starts_with("0: ("), "{}", &kernel[..40]);
}

#[test]
fn kernel_spellings() {
    let cases = [
        ("r1 += 5", "(07) r1 += 5"),
        ("w1 += w2", "(0c) w1 += w2"),
        ("r1 s/= r2", "(3f) r1 s/= r2"),
        ("w3 s%= -7", "(94) w3 s%= -7"),
        ("r1 = (s8)r2", "(bf) r1 = (s8)r2"),
        ("w1 = (s16)w2", "(bc) w1 = (s16)w2"),
        ("r1 = (s32)r2", "(bf) r1 = (s32)r2"),
        ("r1 = -r1", "(87) r1 = -r1"),
        ("w1 = -w1", "(84) w1 = -w1"),
        ("r1 = be16 r1", "(dc) r1 = be16 r1"),
        ("r1 = le32 r1", "(d4) r1 = le32 r1"),
        ("r1 = bswap64 r1", "(d7) r1 = bswap64 r1"),
        ("r1 = addr_space_cast(r2, 0, 1)", "(bf) r1 = addr_space_cast(r2, 0, 1)"),
        ("r1 = *(s8 *)(r2 +0)", "(91) r1 = *(s8 *)(r2 +0)"),
        ("r1 = *(u32 *)(r2 -4)", "(61) r1 = *(u32 *)(r2 -4)"),
        ("*(u64 *)(r10 -8) = r1", "(7b) *(u64 *)(r10 -8) = r1"),
        ("*(u16 *)(r10 -2) = -1", "(6a) *(u16 *)(r10 -2) = -1"),
        ("lock *(u64 *)(r10 -8) += r1", "(db) lock *(u64 *)(r10 -8) += r1"),
        ("lock *(u32 *)(r10 -8) ^= r1", "(c3) lock *(u32 *)(r10 -8) ^= r1"),
        ("r0 = atomic64_fetch_add((u64 *)(r10 -8), r0)", "(db) r0 = atomic64_fetch_add((u64 *)(r10 -8), r0)"),
        ("r2 = atomic_fetch_or((u32 *)(r10 -8), r2)", "(c3) r2 = atomic_fetch_or((u32 *)(r10 -8), r2)"),
        ("r0 = atomic_xchg((u32 *)(r10 -8), r0)", "(c3) r0 = atomic_xchg((u32 *)(r10 -8), r0)"),
        (
            "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)",
            "(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)",
        ),
        ("r0 = load_acquire((u64 *)(r1 +0))", "(db) r0 = load_acquire((u64 *)(r1 +0))"),
        ("r0 = load_acquire((u8 *)(r1 +0))", "(d3) r0 = load_acquire((u8 *)(r1 +0))"),
        ("store_release((u64 *)(r1 +0), r2)", "(db) store_release((u64 *)(r1 +0), r2)"),
        ("r1 = 0x2a", "(18) r1 = 0x2a"),
        ("r1 = 0xffffffffffffffff", "(18) r1 = 0xffffffffffffffff"),
        ("call bpf_map_lookup_elem#1", "(85) call bpf_map_lookup_elem#1"),
        ("call pc+3", "(85) call pc+3"),
        ("call pc-1", "(85) call pc-1"),
        ("call unknown#300", "(85) call unknown#300"),
        ("call kernel-function#65886", "(85) call kernel-function#65886"),
        ("goto pc+2", "(05) goto pc+2"),
        ("goto pc+0", "(05) goto pc+0"),
        ("gotol pc-2", "(06) gotol pc-2"),
        ("may_goto pc+2", "(e5) may_goto pc+2"),
        ("if r0 == 0x0 goto pc+2", "(15) if r0 == 0x0 goto pc+2"),
        ("if w1 s> w2 goto pc-3", "(6e) if w1 s> w2 goto pc-3"),
        ("if r1 != 0xffffffff goto pc+1", "(55) if r1 != 0xffffffff goto pc+1"),
        ("if w1 & 0x8 goto pc+1", "(46) if w1 & 0x8 goto pc+1"),
        ("r0 = *(u8 *)skb[12]", "(30) r0 = *(u8 *)skb[12]"),
        ("r0 = *(u16 *)skb[r1 + 2]", "(48) r0 = *(u16 *)skb[r1 + 2]"),
        ("exit", "(95) exit"),
    ];
    for (text, log) in cases {
        let insn = parse_insn(text).unwrap_or_else(|e| panic!("`{text}`: {e}"));
        assert_eq!(insn.to_string(), text);
        assert_eq!(insn_to_string(&insn, &NoSymbols, Options::LOG), log);
        assert_eq!(parse_insn(log).unwrap(), insn, "{log}");
    }
}

#[test]
fn kernel_quirks() {
    // callx takes the BPF_CALL branch: imm 0, src_reg 0, helper 0.
    let callx = parse_insn("callx r3").unwrap();
    assert_eq!(callx, Insn::Callx { reg: kfvm_isa::Reg::new(3).unwrap() });
    assert_eq!(callx.to_string(), "call bpf_unspec#0");
    // A map pointer prints as its value, zeroed unless pointer leaks are allowed.
    let map = parse_insn("r1 = map[fd:3]").unwrap();
    assert_eq!(map.to_string(), "r1 = 0x3");
    let unpriv = Options { allow_ptr_leaks: false, ..Options::KERNEL };
    assert_eq!(insn_to_string(&map, &NoSymbols, unpriv), "r1 = 0x0");
    assert_eq!(insn_to_string(&parse_insn("r1 = 0x3").unwrap(), &NoSymbols, unpriv), "r1 = 0x3");
    assert_eq!(insn_to_string(&map, &NoSymbols, Options::LOSSLESS), "r1 = map[fd:3]");
    for text in [
        "r1 = map[fd:3][0]+8",
        "r1 = map[idx:0]",
        "r1 = map[idx:1][0]+0",
        "r2 = btf_id[77]",
        "r3 = subprog[-4]",
    ] {
        let insn = parse_insn(text).unwrap();
        assert_eq!(insn_to_string(&insn, &NoSymbols, Options::LOSSLESS), text);
    }
}

#[test]
fn kfunc_names() {
    let mut names = KfuncNames::new();
    names.insert(0, 65886, "bpf_task_acquire");
    names.insert(2, 17, "bpf_mod_func");
    let insn = parse_insn_with("call bpf_task_acquire#65886", &names).unwrap();
    assert_eq!(insn, Insn::Call(CallKind::Kfunc { btf_id: 65886, btf_off: 0 }));
    assert_eq!(insn_to_string(&insn, &names, Options::KERNEL), "call bpf_task_acquire#65886");
    assert_eq!(insn.to_string(), "call kernel-function#65886");
    // Without a table any non-helper name is a vmlinux kfunc.
    assert_eq!(parse_insn("call bpf_task_acquire#65886").unwrap(), insn);
    // A table gives the module BTF offset; the lossless text carries it.
    let m = parse_insn_with("call bpf_mod_func", &names).unwrap();
    assert_eq!(m, Insn::Call(CallKind::Kfunc { btf_id: 17, btf_off: 2 }));
    assert_eq!(insn_to_string(&m, &names, Options::KERNEL), "call bpf_mod_func#17");
    assert_eq!(insn_to_string(&m, &names, Options::LOSSLESS), "call bpf_mod_func#17@2");
    assert_eq!(parse_insn("call bpf_mod_func#17@2").unwrap(), m);
    // Helpers by name, by id, or both.
    let lookup = Insn::Call(CallKind::Helper(1));
    for text in ["call bpf_map_lookup_elem", "call 1", "call bpf_map_lookup_elem#1"] {
        assert_eq!(parse_insn(text).unwrap(), lookup, "{text}");
    }
}

#[test]
fn labels() {
    let prog = assemble_with(
        "  r0 = 0\nloop:\n  r0 += 1   ; count\n  if r0 < 10 goto loop\n  call sub  // local\n  gotol end\nsub: r0 = 0x100000000\n  exit\nend: exit\n",
        &NoSymbols,
    )
    .unwrap();
    let text = disasm::listing(&prog, &NoSymbols, Options::KERNEL);
    assert_eq!(
        text,
        "0: (b7) r0 = 0\n1: (07) r0 += 1\n2: (a5) if r0 < 0xa goto pc-2\n3: (85) call pc+1\n4: (06) gotol pc+3\n\
         5: (18) r0 = 0x100000000\n7: (95) exit\n8: (95) exit\n"
    );
}

fn asm_err(text: &str) -> AsmError {
    assemble(text).expect_err(text)
}

#[test]
fn errors_say_where_and_what() {
    let e = asm_err("r0 = 0\nr1 +=\n");
    assert_eq!((e.line, e.col), (2, 6));
    assert_eq!(e.to_string(), "line 2, column 6: expected a number, found end of line");
    let e = asm_err("w1 += r2");
    assert_eq!(e.to_string(), "line 1, column 7: expected a `wN` register, found `r2`");
    let e = asm_err("r11 = 0");
    assert_eq!(e.to_string(), "line 1, column 1: expected an instruction, found `r11`");
    let e = asm_err("  goto nowhere");
    assert_eq!(e.to_string(), "line 1, column 8: undefined label `nowhere`");
    let e = asm_err("0: (b7) r0 = r1");
    assert_eq!(
        e.to_string(),
        "line 1, column 4: opcode prefix (b7) does not match the instruction, whose opcode is (bf)"
    );
    let e = asm_err("r0 = *(u32 *)(r1 +40000)");
    assert_eq!(e.to_string(), "line 1, column 18: offset 40000 is out of range (-32768 to 32767)");
    let e = asm_err("call bpf_map_lookup_elem#2");
    assert_eq!(e.to_string(), "line 1, column 26: `bpf_map_lookup_elem` is helper #1, not #2");
    let e = asm_err("r1 = atomic_fetch_add((u64 *)(r2 +0), r1)");
    assert_eq!(e.to_string(), "line 1, column 6: a `u64` access is written `atomic64_fetch_add`");
    let e = asm_err("r1 = 5000000000");
    assert!(e.msg.contains("write a 64-bit constant in hex"), "{e}");
    let e = asm_err("a: exit\na: exit");
    assert_eq!(e.to_string(), "line 2, column 1: label `a` already defined at line 1, column 1");
}

#[test]
fn comments_and_spacing() {
    let a = assemble("# header\n*(u64*)(r10-8)=r1 # trailing\n  // nothing\n; nothing\n").unwrap();
    let b = assemble("*(u64 *)(r10 -8) = r1").unwrap();
    assert_eq!(a, b);
    // Verifier-log lines with register state after the instruction.
    let insn = parse_insn("12: (b7) r0 = 0                        ; R0_w=0").unwrap();
    assert_eq!(insn.to_string(), "r0 = 0");
}
