//! Shared by the scalar-domain differential tests: a generator of random scalar programs, the
//! verifier-log reader, and the replay that checks kfvm's scalar domain against every register
//! state the kernel printed.
//!
//! # The replay
//!
//! A verifier log at level 2 shows the kernel's walk: each instruction as it is checked
//! (`5: (0f) r1 += r2`), followed by the registers the instruction touched
//! (`; R1=scalar(...) R2=...`), the full state of each branch when it is taken up later
//! (`from 4 to 9: R0=... R10=fp0`), and pruned paths (`9: safe`). The replay follows the log line
//! by line. Before each instruction it holds the register file as the kernel had it (rebuilt
//! from what the kernel printed), applies kfvm's transfer function for that instruction, and
//! compares the result with the kernel's next print, register by register, as text: so the
//! bounds arithmetic and the log's formatting are both checked, and one wrong step does not
//! spoil the steps after it. For a conditional jump it also checks the direction the kernel took
//! (`is_branch_taken`) and keeps the predicted state of the other branch to compare when the
//! kernel prints `from X to Y`.
//!
//! The transfer function is the verifier's own walk for one instruction
//! ([`kfvm_verifier::step::step_insn`]): scalar ids on moves, linked-register deltas and
//! `sync_linked_regs()` (with the kernel's liveness filter and width rules),
//! `maybe_fork_scalars()`, helper-call clobbers and the printing all come from the verifier.
//!
//! One limit of the method: the log prints a scalar whose `var_off` is constant as that
//! constant, even when a refinement left its bounds wider (the kernel does not sync them in
//! every path). The replay then starts the next step from the clean constant, where the kernel
//! still has the wider bounds; the full walk (`tests/asm`, `jmp_hidden_bounds_*`) matches.
//!
//! What is compared is the scalar state (`var_off`, the eight bounds), the register ids and
//! linked-register deltas the kernel prints with them, and the text of non-scalar registers.
//! Precision marks (`P`) are dropped: precision tracking is not part of the scalar domain.

#![allow(dead_code, unreachable_pub)]

use kfvm_isa::disasm::{self, NoSymbols, Options};
use kfvm_isa::RawInsn;
use kfvm_isa::{AluOp, CallKind, EndKind, Insn, JmpOp, Reg, Size, Src, Width};
use kfvm_verifier::scalar::{parse_scalar_reg, Scalar};
use kfvm_verifier::state::{
    RegState, BPF_ADD_CONST, BPF_ADD_CONST32, BPF_ADD_CONST64, NOT_INIT, SCALAR_VALUE,
};
use kfvm_verifier::step::{ctx_reg, fp_reg, reg_text, step_insn};
use kfvm_verifier::CheckOptions;
use std::collections::HashMap;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Program generator.

/// splitmix64: small, deterministic, good enough for test-case generation.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Immediates that sit on the edges the bounds logic cares about.
const IMMS: [i32; 34] = [
    0,
    1,
    2,
    3,
    4,
    5,
    7,
    8,
    15,
    16,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    0x7fff,
    0x8000,
    0xffff,
    0x10000,
    0x7fff_ffff,
    i32::MIN,
    -1,
    -2,
    -3,
    -8,
    -128,
    -129,
    -256,
    -0x8000,
    0x1234_5678,
    0x0f0f_0f0f,
];

fn imm(rng: &mut Rng) -> i32 {
    match rng.below(10) {
        0 => rng.next() as i32,
        1 => rng.below(100) as i32 - 50,
        _ => rng.pick(&IMMS),
    }
}

fn reg(n: u64) -> Reg {
    Reg::new(n as u8).unwrap_or(Reg::R0)
}

/// The register holding the context pointer (the loads' base) all through a program.
pub const CTX_REG: u8 = 9;

fn ctx_load(rng: &mut Rng, dst: Reg) -> Insn {
    let size = rng.pick(&[Size::B, Size::H, Size::W, Size::DW, Size::DW]);
    let sign_extend = size != Size::DW && rng.chance(30);
    let off = (rng.below(8) * 8 + rng.below(8 / size.bytes() as u64) * size.bytes() as u64) as i16;
    Insn::Load { size, sign_extend, dst, src: reg(CTX_REG as u64), off }
}

/// A random program of `BPF_PROG_TYPE_SYSCALL` on scalars: the context pointer is kept in r9,
/// r0-r8 start as context loads (unknown to the verifier) or constants, then go through random
/// ALU32/ALU64 operations, moves, sign extensions, byte swaps, loads and forward conditional
/// jumps; the program ends with `r0 = 0; exit`.
pub fn gen_program(seed: u64) -> Vec<Insn> {
    let mut rng = Rng::new(seed);
    let mut p = Vec::new();
    p.push(Insn::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst: reg(CTX_REG as u64),
        src: Src::Reg(Reg::new(1).unwrap_or(Reg::R1)),
    });
    for r in 0..=8 {
        let dst = reg(r);
        p.push(match rng.below(4) {
            0 | 1 => ctx_load(&mut rng, dst),
            2 => Insn::Alu { width: Width::W64, op: AluOp::Mov, dst, src: Src::Imm(imm(&mut rng)) },
            _ => Insn::Alu { width: Width::W32, op: AluOp::Mov, dst, src: Src::Imm(imm(&mut rng)) },
        });
    }
    let body = 25 + rng.below(25) as usize;
    let start = p.len();
    let end = start + body; // index of the epilogue's first instruction
    while p.len() < end {
        let dst = reg(rng.below(9));
        let srcr = reg(rng.below(9));
        let width = if rng.chance(60) { Width::W64 } else { Width::W32 };
        let bits = if width == Width::W64 { 64 } else { 32 };
        let k = rng.below(100);
        let insn = if k < 55 {
            let op = rng.pick(&[
                AluOp::Add,
                AluOp::Add,
                AluOp::Sub,
                AluOp::Sub,
                AluOp::Mul,
                AluOp::Div,
                AluOp::Sdiv,
                AluOp::Mod,
                AluOp::Smod,
                AluOp::Or,
                AluOp::And,
                AluOp::And,
                AluOp::Xor,
                AluOp::Lsh,
                AluOp::Rsh,
                AluOp::Arsh,
                AluOp::Mov,
            ]);
            let src = if rng.chance(55) {
                let mut v = imm(&mut rng);
                if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
                    v = rng.below(bits) as i32;
                }
                if matches!(op, AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod) && v == 0 {
                    v = 3;
                }
                Src::Imm(v)
            } else {
                Src::Reg(srcr)
            };
            Insn::Alu { width, op, dst, src }
        } else if k < 62 {
            let bits = if width == Width::W64 { rng.pick(&[8u8, 16, 32]) } else { rng.pick(&[8u8, 16]) };
            Insn::Alu { width, op: AluOp::Movsx(bits), dst, src: Src::Reg(srcr) }
        } else if k < 65 {
            Insn::Neg { width, dst }
        } else if k < 69 {
            let kind = rng.pick(&[EndKind::ToLe, EndKind::ToBe, EndKind::Bswap]);
            Insn::End { kind, bits: rng.pick(&[16, 32, 64]), dst }
        } else if k < 72 {
            ctx_load(&mut rng, dst)
        } else if k < 74 && end - p.len() > 2 {
            // A value in [-1, 0] (64- or 32-bit) and'ed or or'ed with a constant: the kernel
            // explores the two values separately (maybe_fork_scalars).
            let (w2, sh) = if rng.chance(50) { (Width::W64, 63) } else { (Width::W32, 31) };
            p.push(Insn::Alu { width: w2, op: AluOp::Arsh, dst, src: Src::Imm(sh) });
            let op = rng.pick(&[AluOp::And, AluOp::Or]);
            Insn::Alu { width: rng.pick(&[Width::W64, Width::W32]), op, dst, src: Src::Imm(imm(&mut rng)) }
        } else if k < 76 && end - p.len() > 7 {
            // A helper call clobbers r1-r5: reload them.
            p.push(Insn::Call(CallKind::Helper(7)));
            for r in 1..=5 {
                p.push(ctx_load(&mut rng, reg(r)));
            }
            continue;
        } else {
            let op = rng.pick(&JmpOp::ALL);
            let src = if rng.chance(60) { Src::Imm(imm(&mut rng)) } else { Src::Reg(srcr) };
            let room = (end - p.len()) as u64; // instructions after this one up to the epilogue
            let off = 1 + rng.below(room.clamp(1, 6)) as i16;
            Insn::Jmp { width, op, dst, src, off }
        };
        p.push(insn);
    }
    p.push(Insn::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Src::Imm(0) });
    p.push(Insn::Exit);
    p
}

/// The kernel-style listing of a program (`idx: (xx) text` lines), as stored in the log files.
pub fn listing(p: &[Insn]) -> String {
    disasm::listing(p, &NoSymbols, Options::LOG)
}

/// Reads a listing back: slot index → instruction.
pub fn parse_listing(text: &str) -> Result<HashMap<usize, Insn>, String> {
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let idx: usize =
            line.split(':').next().and_then(|s| s.trim().parse().ok()).ok_or(format!("bad line {line}"))?;
        let insn = kfvm_isa::asm::parse_insn(line).map_err(|e| format!("{line}: {e:?}"))?;
        out.insert(idx, insn);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Register file of the model.

/// A register as the replay tracks it.
#[derive(Clone, PartialEq, Debug)]
pub enum RegVal {
    NotInit,
    Scalar {
        s: Scalar,
        id: u32,
        add_const: Option<i32>,
        add_const32: bool,
    },
    /// A non-scalar, by its log text (`ctx()`, `fp0`).
    Other(String),
}

impl RegVal {
    fn scalar(s: Scalar) -> RegVal {
        RegVal::Scalar { s, id: 0, add_const: None, add_const32: false }
    }

    pub fn text(&self) -> String {
        match self {
            RegVal::NotInit => "<not init>".into(),
            RegVal::Other(t) => t.clone(),
            RegVal::Scalar { .. } => match self.to_reg() {
                Some(r) => reg_text(&replay_options(), &r),
                None => String::new(),
            },
        }
    }

    fn parse(text: &str, prev: &RegVal) -> RegVal {
        match parse_scalar_reg(text) {
            Some(p) => {
                // The 32-bit flavour of a linked delta is not printed: keep what the model knew.
                let add_const32 = match prev {
                    RegVal::Scalar { add_const32, id, .. } if *id == p.id => *add_const32,
                    _ => false,
                };
                RegVal::Scalar { s: p.scalar, id: p.id, add_const: p.add_const, add_const32 }
            }
            None => RegVal::Other(text.to_string()),
        }
    }

    /// The verifier's register for this one (`None`: a pointer the replay does not know).
    fn to_reg(&self) -> Option<RegState> {
        Some(match self {
            RegVal::NotInit => RegState::not_init(),
            RegVal::Other(t) if t == "ctx()" => ctx_reg(),
            RegVal::Other(t) if t == "fp0" => fp_reg(),
            RegVal::Other(_) => return None,
            RegVal::Scalar { s, id, add_const, add_const32 } => {
                let mut r = RegState::not_init();
                r.ty = SCALAR_VALUE;
                r.s = *s;
                r.id = *id;
                if let Some(off) = add_const {
                    r.id |= if *add_const32 { BPF_ADD_CONST32 } else { BPF_ADD_CONST64 };
                    r.off = *off;
                }
                r
            }
        })
    }

    fn from_reg(r: &RegState) -> RegVal {
        match r.ty {
            NOT_INIT => RegVal::NotInit,
            SCALAR_VALUE => RegVal::Scalar {
                s: r.s,
                id: r.id & !BPF_ADD_CONST,
                add_const: (r.id & BPF_ADD_CONST != 0).then_some(r.off),
                add_const32: r.id & BPF_ADD_CONST32 != 0,
            },
            _ => RegVal::Other(reg_text(&replay_options(), r)),
        }
    }

    fn as_scalar(&self) -> Option<Scalar> {
        match self {
            RegVal::Scalar { s, .. } => Some(*s),
            _ => None,
        }
    }

    fn id(&self) -> u32 {
        match self {
            RegVal::Scalar { id, .. } => *id,
            _ => 0,
        }
    }
}

pub type Regs = Vec<RegVal>;

fn initial_regs() -> Regs {
    let mut r = vec![RegVal::NotInit; 11];
    r[1] = RegVal::Other("ctx()".into());
    r[10] = RegVal::Other("fp0".into());
    r
}

/// What one instruction does to the register file, by the model.
enum Outcome {
    Next(Regs),
    /// `maybe_fork_scalars`: the state to push (re-running the same instruction) and the state to
    /// continue with.
    Fork {
        pushed: Regs,
        cur: Regs,
    },
    Branch {
        taken: Option<bool>,
        fall: Regs,
        jump: Regs,
        target: usize,
    },
    Goto(usize),
    Exit,
    /// The model does not cover this instruction.
    Unsupported(String),
}

struct Model {
    id_gen: u32,
    /// The program as raw instructions (slot index = instruction index).
    raw: Vec<RawInsn>,
    opts: CheckOptions,
}

/// The options of the replayed programs: sleepable `BPF_PROG_TYPE_SYSCALL` programs loaded by
/// root (as `scalar_live` loads them).
fn replay_options() -> CheckOptions {
    CheckOptions {
        prog_type: kfvm_verifier::env::prog_type::SYSCALL,
        sleepable: true,
        ..CheckOptions::default()
    }
}

impl Model {
    fn new(prog: &HashMap<usize, Insn>) -> Model {
        let n = prog.keys().max().map_or(0, |&m| m + 2);
        let mut raw = vec![RawInsn::default(); n];
        for (&i, insn) in prog {
            let (a, b) = insn.encode();
            raw[i] = a;
            if let Some(b) = b {
                raw[i + 1] = b;
            }
        }
        Model { id_gen: 0, raw, opts: replay_options() }
    }

    fn note_ids(&mut self, regs: &Regs) {
        for r in regs {
            self.id_gen = self.id_gen.max(r.id());
        }
    }

    /// One instruction through the verifier's own walk ([`step_insn`]). `live`: the registers
    /// live before the instruction (the log's `Live regs before insn`).
    fn step(&mut self, regs: &Regs, idx: usize, insn: &Insn, live: u16) -> Outcome {
        let mut input = Vec::with_capacity(11);
        for r in regs {
            match r.to_reg() {
                Some(x) => input.push(x),
                None => return Outcome::Unsupported(format!("register {}", r.text())),
            }
        }
        let res = match step_insn(&self.raw, idx, &input, self.id_gen, live, &self.opts) {
            Ok(r) => r,
            Err(e) => return Outcome::Unsupported(format!("kfvm: {e}")),
        };
        self.id_gen = res.id_gen;
        let conv = |v: &[RegState]| -> Regs { v.iter().map(RegVal::from_reg).collect() };
        let Some((next, cur)) = res.next else { return Outcome::Exit };
        let cur = conv(&cur);
        match *insn {
            Insn::Ja { .. } => Outcome::Goto(next),
            Insn::Jmp { off, .. } => {
                let target = (idx as i64 + off as i64 + 1) as usize;
                match res.pushed.first() {
                    Some((_, jump)) => Outcome::Branch { taken: None, fall: cur, jump: conv(jump), target },
                    None => {
                        Outcome::Branch { taken: Some(next == target), fall: cur.clone(), jump: cur, target }
                    }
                }
            }
            _ => match res.pushed.first() {
                Some((_, pushed)) => Outcome::Fork { pushed: conv(pushed), cur },
                None => Outcome::Next(cur),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Log reading.

/// One line of a verifier log that the replay looks at.
#[derive(Debug)]
enum Event<'a> {
    /// `N: (xx) text` with the registers printed after `;`, if any.
    Insn { idx: usize, text: &'a str, regs: Option<Vec<(usize, &'a str)>> },
    /// `N: R1=...`: registers printed on their own line.
    State { idx: usize, regs: Vec<(usize, &'a str)> },
    /// `from A to B: ...` (`None`: `safe`).
    From { from: usize, to: usize, regs: Option<Vec<(usize, &'a str)>> },
    /// `N: safe`
    Safe { idx: usize },
}

/// The `Live regs before insn:` listing: for each instruction, the registers live before it
/// (`      5: .12....... (bf) r1 = r2`).
fn live_regs(log: &str) -> HashMap<usize, u16> {
    let mut out = HashMap::new();
    let mut in_listing = false;
    for line in log.lines() {
        if line.starts_with("Live regs before insn:") {
            in_listing = true;
            continue;
        }
        if !in_listing {
            continue;
        }
        if !line.starts_with(' ') {
            break;
        }
        let s = line.trim_start();
        let Some((n, rest)) = s.split_once(": ") else { continue };
        // An optional loop depth before the index.
        let n = n.rsplit(' ').next().unwrap_or(n);
        let (Ok(idx), Some(col)) = (n.parse::<usize>(), rest.get(..10)) else { continue };
        let mask = col.bytes().enumerate().filter(|&(_, c)| c != b'.').fold(0u16, |m, (i, _)| m | 1 << i);
        out.insert(idx, mask);
    }
    out
}

/// Splits ` R1=ctx() R2=scalar(smin=..,var_off=(0x0; 0xff))` into `(1, "ctx()")`, ...; stack
/// slots and other items are skipped.
fn parse_regs(s: &str) -> Vec<(usize, &str)> {
    let b = s.as_bytes();
    let mut items = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b' ' if depth == 0 => {
                items.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&s[start..]);
    items
        .into_iter()
        .filter_map(|it| {
            let rest = it.strip_prefix('R')?;
            let (n, v) = rest.split_once('=')?;
            Some((n.parse().ok()?, v))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Event<'_>> {
    if let Some(rest) = line.strip_prefix("from ") {
        let (a, rest) = rest.split_once(" to ")?;
        let (b, rest) = rest.split_once(':')?;
        let rest = rest.trim();
        let regs = if rest == "safe" { None } else { Some(parse_regs(rest)) };
        return Some(Event::From { from: a.parse().ok()?, to: b.parse().ok()?, regs });
    }
    if !line.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (n, rest) = line.split_once(": ")?;
    let idx = n.parse().ok()?;
    if rest == "safe" {
        return Some(Event::Safe { idx });
    }
    if rest.starts_with('(') {
        return Some(match rest.find(';') {
            Some(p) => {
                Event::Insn { idx, text: rest[..p].trim_end(), regs: Some(parse_regs(rest[p + 1..].trim())) }
            }
            None => Event::Insn { idx, text: rest.trim_end(), regs: None },
        });
    }
    if rest.starts_with('R') {
        return Some(Event::State { idx, regs: parse_regs(rest) });
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The replay.

/// Result of replaying one log.
#[derive(Default, Debug)]
pub struct Replay {
    /// Register prints compared (scalar or not).
    pub compared: usize,
    /// Of which scalar registers.
    pub scalars: usize,
    /// Branch directions compared.
    pub branches: usize,
    /// Instructions stepped.
    pub insns: usize,
    /// Everything that differed, one line each.
    pub mismatches: Vec<String>,
    /// Instructions the model does not cover (skipped, with the kernel's state taken as is).
    pub unsupported: Vec<String>,
}

struct Pending {
    from: usize,
    to: usize,
    regs: Regs,
}

/// Replays a verifier log against the program (slot index → instruction).
pub fn replay(prog: &HashMap<usize, Insn>, log: &str) -> Replay {
    let mut out = Replay::default();
    let mut model = Model::new(prog);
    let mut regs = initial_regs();
    let mut pending: Vec<Pending> = Vec::new();
    // The last instruction stepped whose printed state is still to come: (idx, text, predicted).
    let mut awaiting: Option<(usize, String, Regs)> = None;
    // Where the kernel may go next, after a jump the model decided: (from, allowed next index).
    let mut expect_next: Option<(usize, usize)> = None;

    let compare = |out: &mut Replay, at: &str, predicted: &Regs, printed: &[(usize, &str)]| {
        for &(n, text) in printed {
            if n > 10 {
                continue;
            }
            let text = text.strip_prefix('P').filter(|t| !t.is_empty()).unwrap_or(text);
            let mine = predicted[n].text();
            out.compared += 1;
            if parse_scalar_reg(text).is_some() {
                out.scalars += 1;
            }
            if mine != text {
                out.mismatches.push(format!("{at}: R{n}: kernel {text}, kfvm {mine}"));
            }
        }
    };
    let apply = |regs: &mut Regs, printed: &[(usize, &str)]| {
        for &(n, text) in printed {
            if n <= 10 {
                let text = text.strip_prefix('P').filter(|t| !t.is_empty()).unwrap_or(text);
                regs[n] = RegVal::parse(text, &regs[n]);
            }
        }
    };

    let live = live_regs(log);
    for line in log.lines() {
        let Some(ev) = parse_line(line) else { continue };
        // A step whose state never got printed keeps the model's prediction (e.g. r1-r5 after a
        // call, which are not printed once NOT_INIT).
        match &ev {
            Event::State { idx, .. } if awaiting.as_ref().is_some_and(|a| a.0 == *idx) => {}
            _ => {
                if let Some((_, _, pred)) = awaiting.take() {
                    regs = pred;
                }
            }
        }
        match ev {
            Event::Insn { idx, text, regs: printed } => {
                if let Some((from, want)) = expect_next.take() {
                    out.branches += 1;
                    if want != idx {
                        out.mismatches.push(format!("{from}: branch: kernel went to {idx}, kfvm to {want}"));
                    }
                }
                out.insns += 1;
                model.note_ids(&regs);
                let Some(insn) = prog.get(&idx) else {
                    out.mismatches.push(format!("{idx}: no instruction at this index"));
                    continue;
                };
                let at = format!("{idx}: {text}");
                let predicted = match model.step(&regs, idx, insn, live.get(&idx).copied().unwrap_or(0xffff))
                {
                    Outcome::Next(r) => r,
                    Outcome::Fork { pushed, cur } => {
                        pending.push(Pending { from: idx, to: idx, regs: pushed });
                        cur
                    }
                    Outcome::Branch { taken, fall, jump, target } => {
                        match taken {
                            Some(true) => expect_next = Some((idx, target)),
                            Some(false) => expect_next = Some((idx, idx + 1)),
                            None => {
                                expect_next = Some((idx, idx + 1));
                                pending.push(Pending { from: idx, to: target, regs: jump });
                            }
                        }
                        fall
                    }
                    Outcome::Goto(t) => {
                        expect_next = Some((idx, t));
                        regs.clone()
                    }
                    Outcome::Exit => regs.clone(),
                    Outcome::Unsupported(why) => {
                        out.unsupported.push(format!("{at}: {why}"));
                        let mut r = regs.clone();
                        if let Some(p) = &printed {
                            apply(&mut r, p);
                        }
                        r
                    }
                };
                match printed {
                    Some(p) => {
                        compare(&mut out, &at, &predicted, &p);
                        regs = predicted;
                        apply(&mut regs, &p);
                    }
                    None => awaiting = Some((idx, at, predicted)),
                }
            }
            Event::State { idx, regs: printed } => {
                if let Some((_, at, pred)) = awaiting.take().filter(|a| a.0 == idx) {
                    compare(&mut out, &at, &pred, &printed);
                    regs = pred;
                }
                apply(&mut regs, &printed);
            }
            Event::Safe { idx } => {
                if let Some((from, want)) = expect_next.take() {
                    out.branches += 1;
                    if want != idx {
                        out.mismatches.push(format!("{from}: branch: kernel went to {idx}, kfvm to {want}"));
                    }
                }
            }
            Event::From { from, to, regs: printed } => {
                expect_next = None;
                let Some(p) = pending.pop() else {
                    out.mismatches.push(format!("from {from} to {to}: kfvm pushed no such branch"));
                    continue;
                };
                if (p.from, p.to) != (from, to) {
                    out.mismatches.push(format!(
                        "from {from} to {to}: kfvm's next pushed branch is from {} to {}",
                        p.from, p.to
                    ));
                }
                if let Some(printed) = printed {
                    compare(&mut out, &format!("from {from} to {to}"), &p.regs, &printed);
                    regs = vec![RegVal::NotInit; 11];
                    apply(&mut regs, &printed);
                }
            }
        }
    }
    out
}

/// A stored test: the program listing and the kernel's log.
pub struct LogFile {
    pub header: String,
    pub listing: String,
    pub log: String,
}

pub const LOG_MARK: &str = "--- verifier log (level 2) ---\n";

pub fn parse_log_file(text: &str) -> Result<LogFile, String> {
    let (head, log) = text.split_once(LOG_MARK).ok_or("no log marker")?;
    let mut header = String::new();
    let mut listing = String::new();
    for line in head.lines() {
        if line.starts_with('#') {
            let _ = writeln!(header, "{line}");
        } else if !line.trim().is_empty() {
            let _ = writeln!(listing, "{line}");
        }
    }
    Ok(LogFile { header, listing, log: log.to_string() })
}
