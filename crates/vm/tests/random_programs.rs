//! A few thousand random programs through the `decode_run` fuzz harness (decode, load, a checked
//! run with a small budget, a repeat and a verified run that must agree), from a fixed seed, so the
//! checked mode's safety net is exercised by every `cargo test`, not only by the fuzzer.
//!
//! Most programs are built from the opcode table with fields that pass decoding and with memory
//! operands based on the registers that hold region and stack addresses, so that they load and run
//! far; some are raw random slots, which mostly exercise the decoder's and loader's refusals.

mod support {
    pub(crate) mod decode_run;
}

use kfvm_isa::opcode::{self, Shape, Variant, FORMS};
use kfvm_isa::{raw_to_bytes, RawInsn};
use std::collections::BTreeMap;
use support::decode_run::{decode_run, Reached};

/// xorshift64*: small, deterministic, good enough to pick instructions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Registers a random operand names: mostly the initialised ones (the harness's prologue writes
/// R0 and R6–R9; R1–R5 are arguments), now and then R10.
fn reg(rng: &mut Rng) -> u8 {
    if rng.chance(12) {
        10
    } else {
        rng.below(10) as u8
    }
}

fn imm(rng: &mut Rng) -> i32 {
    match rng.below(4) {
        0 => rng.below(4) as i32 - 1,
        1 => rng.below(70) as i32 - 3,
        2 => rng.pick(&[i32::MIN, i32::MAX, -1, 0x8000, 0xffff, 1 << 16]),
        _ => rng.next() as i32,
    }
}

/// A memory operand: a base register that usually holds an address (R1/R6 the writable region,
/// R3 the read-only one, R10 the stack) and an offset near that memory.
fn mem_operand(rng: &mut Rng, mem_len: usize) -> (u8, i16) {
    let any = reg(rng);
    let base = rng.pick(&[1, 6, 3, 10, 1, 10, any]);
    let off = match base {
        10 => -(rng.below(530) as i16) + 8,
        _ => rng.below(mem_len as u64 + 24) as i16 - 8,
    };
    (base, off)
}

/// Slot `pc` of a body of `len` slots, as one instruction (two slots for `lddw`).
fn insn(rng: &mut Rng, pc: usize, len: usize, mem_len: usize) -> Vec<RawInsn> {
    let form = FORMS[rng.below(FORMS.len() as u64) as usize];
    let (mut off, mut imm_v) = (0i16, 0i32);
    match form.variant {
        Variant::Off(o) => off = o,
        Variant::Imm(i) => imm_v = i,
        Variant::None => {}
    }
    // A jump offset to a slot of the body, or now and then past it (which the loader refuses).
    let target = |rng: &mut Rng| -> i32 {
        let t =
            if rng.chance(20) { rng.below(len as u64 + 4) as i64 - 2 } else { rng.below(len as u64) as i64 };
        (t - pc as i64 - 1) as i32
    };
    let code = form.code;
    let r = |d: u8, s: u8, off: i16, imm: i32| vec![RawInsn::new(code, d, s, off, imm)];
    match form.shape {
        Shape::AluK => r(reg(rng), 0, off, imm(rng)),
        Shape::AluX => r(reg(rng), reg(rng), off, 0),
        Shape::AddrSpaceCast => r(reg(rng), reg(rng), off, rng.pick(&[1, 1 << 16])),
        Shape::Neg => r(reg(rng), 0, 0, 0),
        Shape::End => r(reg(rng), 0, 0, imm_v),
        Shape::Ja if code == (opcode::class::JMP32 | opcode::OP_JA) => r(0, 0, 0, target(rng)),
        Shape::Ja => r(0, 0, target(rng) as i16, 0),
        Shape::JmpK => r(reg(rng), 0, target(rng) as i16, imm(rng)),
        Shape::JmpX => r(reg(rng), reg(rng), target(rng) as i16, 0),
        Shape::MayGoto => r(0, 0, target(rng) as i16, 0),
        Shape::Call => match rng.below(6) {
            0 => r(0, opcode::PSEUDO_CALL, 0, target(rng)),
            1 => r(0, opcode::PSEUDO_KFUNC_CALL, 0, 1000),
            _ => r(0, 0, 0, rng.below(6) as i32),
        },
        Shape::Callx => r(reg(rng), 0, 0, 0),
        Shape::Exit => r(0, 0, 0, 0),
        Shape::LdImm64 => {
            vec![RawInsn::new(code, reg(rng), 0, 0, imm(rng)), RawInsn::new(0, 0, 0, 0, imm(rng))]
        }
        Shape::LdAbs => r(0, 0, 0, rng.below(mem_len as u64 + 8) as i32 - 2),
        Shape::LdInd => r(0, reg(rng), 0, imm(rng)),
        Shape::Ldx | Shape::LdxSx => {
            let (base, off) = mem_operand(rng, mem_len);
            r(reg(rng), base, off, 0)
        }
        Shape::St => {
            let (base, off) = mem_operand(rng, mem_len);
            r(base, 0, off, imm(rng))
        }
        Shape::Stx | Shape::Atomic => {
            let (base, off) = mem_operand(rng, mem_len);
            let off = if form.shape == Shape::Atomic && !rng.chance(8) { off & !7 } else { off };
            r(base, reg(rng), off, imm_v)
        }
    }
}

/// A harness input: flags, the writable region, the program.
fn input(rng: &mut Rng) -> Vec<u8> {
    let mem_len = rng.pick(&[0usize, 8, 16, 64, 255]);
    let mut out = vec![(rng.below(128) as u8) << 1 | 1, mem_len as u8];
    out.extend((0..mem_len).map(|_| rng.next() as u8));
    if rng.chance(8) {
        // Raw random slots.
        let slots = 1 + rng.below(16) as usize;
        out.extend((0..slots * 8).map(|_| rng.next() as u8));
        return out;
    }
    let len = 1 + rng.below(40) as usize;
    let mut body = Vec::with_capacity(len + 2);
    while body.len() < len {
        let next = insn(rng, body.len(), len, mem_len);
        let clobbers = matches!(
            opcode::shape(next[0].code),
            Some(Shape::Call | Shape::Callx | Shape::LdAbs | Shape::LdInd)
        );
        body.extend(next);
        if clobbers {
            // Calls and legacy packet loads leave R1-R5 unreadable: give them values again (R6
            // holds R1's address unless the program overwrote it).
            body.extend([
                RawInsn::new(0xbf, 1, 6, 0, 0),
                RawInsn::new(0xb7, 2, 0, 0, 8),
                RawInsn::new(0xbf, 3, 6, 0, 0),
                RawInsn::new(0xb7, 4, 0, 0, 1),
                RawInsn::new(0xbf, 5, 0, 0, 0),
            ]);
        }
    }
    // Return, mostly: R0 is written by the prologue.
    body.push(RawInsn::new(0x95, 0, 0, 0, 0));
    // The harness puts five prologue slots in front, which shifts nothing inside the body: its
    // jumps are relative.
    out.extend(raw_to_bytes(&body));
    out
}

#[test]
fn random_programs_run_safely() {
    let mut rng = Rng(0x6b66_766d_5eed_0001);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // With KFVM_FUZZ_SEEDS=<dir>, the inputs are also written there, as a seed corpus for the
    // fuzzer (`fuzz/corpus/decode_run`).
    let seeds = std::env::var_os("KFVM_FUZZ_SEEDS").map(std::path::PathBuf::from);
    for i in 0..4000 {
        let data = input(&mut rng);
        if let Some(dir) = &seeds {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("random-{i:04}")), &data).unwrap();
        }
        let reached = match std::panic::catch_unwind(|| decode_run(&data)) {
            Ok(reached) => reached,
            Err(_) => panic!("program {i} failed; input: {data:02x?}"),
        };
        // The variant's name: `OutOfBounds { .. }` gives "OutOfBounds".
        let name = |debug: String| debug.split([' ', '(', '{']).next().unwrap_or_default().to_string();
        let key = match reached {
            Reached::NotDecoded => "not decoded".to_string(),
            Reached::NotLoaded(e) => format!("not loaded: {}", name(format!("{e:?}"))),
            Reached::Ran(Ok(_)) => "ran: ok".to_string(),
            Reached::Ran(Err(e)) => format!("ran: {}", name(format!("{e:?}"))),
        };
        *seen.entry(key).or_default() += 1;
    }
    eprintln!("{seen:#?}");
    // The generator must keep reaching the interpreter, and its checks.
    let count = |k: &str| seen.get(k).copied().unwrap_or(0);
    assert!(count("ran: ok") >= 400, "{seen:?}");
    assert!(count("ran: OutOfBounds") >= 100, "{seen:?}");
    assert!(count("ran: BudgetExhausted") >= 20, "{seen:?}");
}
