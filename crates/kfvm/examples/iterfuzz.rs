//! Differential fuzzing of open-coded iterator loops against the live kernel: random socket
//! filter programs built around `bpf_iter_num_new/next/destroy` (counters carried around the
//! loop, spills, bounded and unbounded stack indexes, early breaks and continues, nested
//! iterators, helper calls, leaks), verified by kfvm (against the kernel model's BTF) and by the
//! live kernel (its own BTF ids for the same kfuncs); verdicts, `processed` lines and the
//! level-2 logs are compared. Needs root and a kernel with BPF.
//!
//! With `dynptr` as third argument, XDP programs around a packet dynptr instead (slices, clones,
//! adjustments, stores over the dynptr); with `obj`, XDP programs allocating objects of their own
//! BTF (`bpf_obj_new_impl`/`bpf_obj_drop_impl`: NULL checks, field accesses, drops, leaks).
//!
//! `cargo run -p kfvm --example iterfuzz -- FIRST_SEED COUNT [dynptr|obj]`; mismatching programs are
//! written to /tmp/iterfuzz/ (their kfvm and kernel logs).

use kfvm::btf::{Btf, Kind};
use kfvm::isa::RawInsn;
use kfvm::verifier::{CheckOptions, KfuncDesc, KfuncTable, VerifyError};
use std::sync::Arc;

/// xorshift64*.
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
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// An instruction with symbolic jump targets and kfunc names.
#[derive(Clone, Debug)]
enum Ins {
    Raw(RawInsn),
    /// A jump (`code`, `dst`, `imm`) to a label.
    Jmp(u8, u8, i32, usize),
    /// A kfunc call by name.
    Kfunc(&'static str),
    Label(usize),
}

fn raw(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Ins {
    Ins::Raw(RawInsn::new(code, dst, src, off, imm))
}

const ITER_NEW: &str = "bpf_iter_num_new";
const ITER_NEXT: &str = "bpf_iter_num_next";
const ITER_DESTROY: &str = "bpf_iter_num_destroy";

struct Gen {
    rng: Rng,
    out: Vec<Ins>,
    labels: usize,
}

impl Gen {
    fn label(&mut self) -> usize {
        self.labels += 1;
        self.labels
    }

    fn iter_call(&mut self, name: &'static str, fp_off: i32) {
        self.out.push(raw(0xbf, 1, 10, 0, 0)); // r1 = r10
        self.out.push(raw(0x07, 1, 0, 0, fp_off)); // r1 += off
        if name == ITER_NEW {
            self.out.push(raw(0xb7, 2, 0, 0, 0));
            let n = [3, 10, 100, 1000][self.rng.below(4) as usize];
            self.out.push(raw(0xb7, 3, 0, 0, n));
        }
        self.out.push(Ins::Kfunc(name));
    }

    /// One statement of a loop body; `r0_live`: R0 still holds the element.
    fn stmt(&mut self, cont: usize, brk: usize, r0_live: &mut bool, depth: u32) {
        match self.rng.below(13) {
            0 | 1 => self.out.push(raw(0x07, 6, 0, 0, 1)), // r6 += 1
            2 if *r0_live => {
                self.out.push(raw(0x61, 8, 0, 0, 0)); // r8 = *(u32 *)(r0 + 0)
                self.out.push(raw(0x0f, 6, 8, 0, 0)); // r6 += r8
            }
            3 => {
                let k = self.rng.below(20) as i32;
                self.out.push(Ins::Jmp(0x25, 6, k, cont)); // if r6 > k continue
            }
            4 => {
                let c = self.rng.below(4) as i32;
                self.out.push(Ins::Jmp(0x15, 7, c, brk)); // if r7 == c break
            }
            5 => self.out.push(raw(0xbf, 7, 6, 0, 0)), // r7 = r6
            6 => {
                self.out.push(raw(0x85, 0, 0, 0, 7)); // call bpf_get_prandom_u32
                self.out.push(raw(0xbf, 7, 0, 0, 0)); // r7 = r0
                *r0_live = false;
            }
            7 => self.out.push(raw(0x7b, 10, 6, -16, 0)), // *(u64 *)(r10 - 16) = r6
            8 => self.out.push(raw(0x79, 6, 10, -16, 0)), // r6 = *(u64 *)(r10 - 16)
            9 | 10 => {
                // An index into fp-80..fp-24, masked (safe) or not (often unsafe).
                self.out.push(raw(0xbf, 9, 6, 0, 0));
                if self.rng.chance(85) {
                    self.out.push(raw(0x57, 9, 0, 0, 7));
                }
                self.out.push(raw(0x67, 9, 0, 0, 3));
                self.out.push(raw(0xbf, 1, 10, 0, 0));
                self.out.push(raw(0x07, 1, 0, 0, -80));
                self.out.push(raw(0x0f, 1, 9, 0, 0));
                if self.rng.chance(50) {
                    self.out.push(raw(0x79, 8, 1, 0, 0));
                } else {
                    self.out.push(raw(0x7b, 1, 7, 0, 0));
                }
            }
            11 => {
                let c = self.rng.below(3) as i32;
                self.out.push(raw(0xb7, 7, 0, 0, c)); // r7 = c
            }
            12 if depth == 0 && self.rng.chance(40) => {
                *r0_live = false;
                self.iter_loop(-96, 1);
            }
            _ => self.out.push(raw(0x07, 7, 0, 0, 1)), // r7 += 1
        }
    }

    fn iter_loop(&mut self, fp_off: i32, depth: u32) {
        self.iter_call(ITER_NEW, fp_off);
        let (top, end) = (self.label(), self.label());
        self.out.push(Ins::Label(top));
        self.iter_call(ITER_NEXT, fp_off);
        self.out.push(Ins::Jmp(0x15, 0, 0, end)); // if r0 == 0 goto end
        let mut r0_live = true;
        let n = 1 + self.rng.below(if depth == 0 { 5 } else { 3 });
        for _ in 0..n {
            self.stmt(top, end, &mut r0_live, depth);
        }
        self.out.push(Ins::Jmp(0x05, 0, 0, top)); // goto top
        self.out.push(Ins::Label(end));
        if depth > 0 || !self.rng.chance(4) {
            self.iter_call(ITER_DESTROY, fp_off);
        }
    }
}

/// An XDP program around a packet dynptr: constructors, slices (read-only and writable, with
/// and without NULL checks and copy buffers), accesses inside and past them, clones,
/// adjustments, and stores over the dynptr's slots.
fn generate_dynptr(seed: u64) -> Vec<Ins> {
    let mut g = Gen { rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1), out: Vec::new(), labels: 0 };
    g.out.push(raw(0xbf, 6, 1, 0, 0)); // r6 = ctx
    g.out.push(raw(0xb7, 7, 0, 0, 0));
    for off in [-48, -40] {
        g.out.push(raw(0x7a, 10, 0, off, 0));
    }
    let mut have_dynptr = false;
    let n = 3 + g.rng.below(8);
    for _ in 0..n {
        let op = if have_dynptr { g.rng.below(9) } else { 0 };
        match op {
            0 => {
                let at = [-16, -16, -16, -24, -20][g.rng.below(5) as usize];
                g.out.push(raw(0xbf, 1, 6, 0, 0));
                g.out.push(raw(0xb7, 2, 0, 0, 0));
                g.out.push(raw(0xbf, 3, 10, 0, 0));
                g.out.push(raw(0x07, 3, 0, 0, at));
                g.out.push(Ins::Kfunc("bpf_dynptr_from_xdp"));
                have_dynptr = true;
            }
            1 | 2 => {
                let name = if g.rng.chance(60) { "bpf_dynptr_slice" } else { "bpf_dynptr_slice_rdwr" };
                let size = [1, 2, 4, 8, 14, 16][g.rng.below(6) as usize];
                g.out.push(raw(0xbf, 1, 10, 0, 0));
                g.out.push(raw(0x07, 1, 0, 0, -16));
                g.out.push(raw(0xb7, 2, 0, 0, g.rng.below(20) as i32));
                if g.rng.chance(50) {
                    g.out.push(raw(0xb7, 3, 0, 0, 0));
                } else {
                    g.out.push(raw(0xbf, 3, 10, 0, 0));
                    g.out.push(raw(0x07, 3, 0, 0, -48));
                }
                g.out.push(raw(0xb7, 4, 0, 0, size));
                g.out.push(Ins::Kfunc(name));
                g.out.push(raw(0xbf, 8, 0, 0, 0));
                if g.rng.chance(80) {
                    let skip = g.label();
                    g.out.push(Ins::Jmp(0x15, 8, 0, skip));
                    let off = g.rng.below(18) as i16;
                    if g.rng.chance(50) {
                        g.out.push(raw(0x71, 9, 8, off, 0)); // r9 = *(u8 *)(r8 + off)
                    } else {
                        g.out.push(raw(0x73, 8, 7, off, 0)); // *(u8 *)(r8 + off) = r7
                    }
                    g.out.push(Ins::Label(skip));
                }
            }
            3 => {
                let off = g.rng.below(18) as i16;
                g.out.push(raw(0x71, 9, 8, off, 0)); // a slice used later, maybe stale
            }
            4 => {
                let at = [-16, -8, -12][g.rng.below(3) as usize];
                g.out.push(raw(0x7b, 10, 7, at as i16, 0)); // a store over the dynptr
            }
            5 => {
                g.out.push(raw(0xbf, 1, 10, 0, 0));
                g.out.push(raw(0x07, 1, 0, 0, -16));
                g.out.push(raw(0xbf, 2, 10, 0, 0));
                g.out.push(raw(0x07, 2, 0, 0, -32));
                g.out.push(Ins::Kfunc("bpf_dynptr_clone"));
            }
            6 => {
                g.out.push(raw(0xbf, 1, 10, 0, 0));
                g.out.push(raw(0x07, 1, 0, 0, -16));
                g.out.push(Ins::Kfunc("bpf_dynptr_size"));
                g.out.push(raw(0xbf, 7, 0, 0, 0));
            }
            7 => {
                g.out.push(raw(0xbf, 1, 10, 0, 0));
                g.out.push(raw(0x07, 1, 0, 0, -16));
                g.out.push(raw(0xb7, 2, 0, 0, g.rng.below(4) as i32));
                g.out.push(raw(0xb7, 3, 0, 0, 4 + g.rng.below(12) as i32));
                g.out.push(Ins::Kfunc("bpf_dynptr_adjust"));
            }
            _ => {
                let c = g.rng.below(3) as i32;
                g.out.push(raw(0xb7, 7, 0, 0, c));
            }
        }
    }
    g.out.push(raw(0xb7, 0, 0, 0, 2));
    g.out.push(raw(0x95, 0, 0, 0, 0));
    g.out
}

/// The program BTF of `obj` mode: `struct point { long x; long y; }` (type 2) and the FUNC of
/// the main program; the raw BTF and the `func_info` record.
fn obj_btf() -> (Vec<u8>, u32, u32) {
    use kfvm::btf::{BtfBuilder, FuncLinkage, IntEncoding, NewMember};
    let mut b = BtfBuilder::new();
    let long = b.add_int("long", 8, IntEncoding::SIGNED);
    let point = b.add_struct("point", 16, &[NewMember::new("x", long, 0), NewMember::new("y", long, 64)]);
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let proto = b.add_func_proto(int, &[]);
    let func = b.add_func("prog", proto, FuncLinkage::Global);
    (b.finish().expect("BTF"), point, func)
}

/// An XDP program allocating `struct point` objects: NULL checks (or not), field accesses in
/// and past the object, drops, double drops, uses after a drop, objects made in an iterator
/// loop, leaks.
fn generate_obj(seed: u64, point: u32) -> Vec<Ins> {
    let mut g = Gen { rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1), out: Vec::new(), labels: 0 };
    g.out.push(raw(0xb7, 6, 0, 0, 0));
    g.out.push(raw(0xb7, 7, 0, 0, 0));
    // r8, r9: object pointers (0 when none yet).
    g.out.push(raw(0xb7, 8, 0, 0, 0));
    g.out.push(raw(0xb7, 9, 0, 0, 0));
    let new_obj = |g: &mut Gen, r: u8| {
        g.out.push(raw(0xb7, 1, 0, 0, point as i32));
        g.out.push(raw(0xb7, 2, 0, 0, 0));
        g.out.push(Ins::Kfunc("bpf_obj_new_impl"));
        g.out.push(raw(0xbf, r, 0, 0, 0));
    };
    let n = 3 + g.rng.below(8);
    for i in 0..n {
        let r = if g.rng.chance(70) { 8 } else { 9 };
        // Most programs start with an object in r8.
        let op = if i == 0 && g.rng.chance(90) { 0 } else { g.rng.below(9) };
        let r = if i == 0 { 8 } else { r };
        match op {
            0 | 1 => {
                new_obj(&mut g, r);
                if g.rng.chance(85) {
                    // if (!r) return 2
                    let ok = g.label();
                    g.out.push(Ins::Jmp(0x55, r, 0, ok));
                    g.out.push(raw(0xb7, 0, 0, 0, 2));
                    g.out.push(raw(0x95, 0, 0, 0, 0));
                    g.out.push(Ins::Label(ok));
                }
            }
            2 => {
                let off = [0, 8, 8, 0, 12, 16][g.rng.below(6) as usize];
                g.out.push(raw(0x7b, r, 7, off, 0)); // *(u64 *)(r + off) = r7
            }
            3 => {
                let off = [0, 8, 8, 0, 4, 16][g.rng.below(6) as usize];
                g.out.push(raw(0x79, 6, r, off, 0)); // r6 = *(u64 *)(r + off)
            }
            4 | 5 if g.rng.chance(50) => {
                g.out.push(raw(0xbf, 1, r, 0, 0));
                g.out.push(raw(0xb7, 2, 0, 0, 0));
                g.out.push(Ins::Kfunc("bpf_obj_drop_impl"));
            }
            6 => {
                // An object made and dropped in each round of an iterator loop (or kept).
                g.iter_call(ITER_NEW, -8);
                let (top, end) = (g.label(), g.label());
                g.out.push(Ins::Label(top));
                g.iter_call(ITER_NEXT, -8);
                g.out.push(Ins::Jmp(0x15, 0, 0, end));
                new_obj(&mut g, 7);
                g.out.push(Ins::Jmp(0x15, 7, 0, top));
                g.out.push(raw(0x7b, 7, 6, 0, 0));
                if g.rng.chance(85) {
                    g.out.push(raw(0xbf, 1, 7, 0, 0));
                    g.out.push(raw(0xb7, 2, 0, 0, 0));
                    g.out.push(Ins::Kfunc("bpf_obj_drop_impl"));
                }
                g.out.push(raw(0xb7, 7, 0, 0, 0));
                g.out.push(Ins::Jmp(0x05, 0, 0, top));
                g.out.push(Ins::Label(end));
                g.iter_call(ITER_DESTROY, -8);
            }
            7 => g.out.push(raw(0xbf, 9, 8, 0, 0)), // r9 = r8 (a copy of the reference)
            _ => g.out.push(raw(0x07, 6, 0, 0, 1)),
        }
    }
    // Drop what may still be held (r8), unless the program is to leak it.
    if g.rng.chance(70) {
        let skip = g.label();
        g.out.push(Ins::Jmp(0x15, 8, 0, skip));
        g.out.push(raw(0xbf, 1, 8, 0, 0));
        g.out.push(raw(0xb7, 2, 0, 0, 0));
        g.out.push(Ins::Kfunc("bpf_obj_drop_impl"));
        g.out.push(Ins::Label(skip));
    }
    g.out.push(raw(0xb7, 0, 0, 0, 2));
    g.out.push(raw(0x95, 0, 0, 0, 0));
    g.out
}

fn generate(seed: u64) -> Vec<Ins> {
    let mut g = Gen { rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1), out: Vec::new(), labels: 0 };
    // r6, r7: constants or unknown.
    for r in [6u8, 7] {
        if g.rng.chance(50) {
            g.out.push(raw(0x85, 0, 0, 0, 7));
            g.out.push(raw(0xbf, r, 0, 0, 0));
        } else {
            let c = g.rng.below(3) as i32;
            g.out.push(raw(0xb7, r, 0, 0, c));
        }
    }
    g.out.push(raw(0xb7, 8, 0, 0, 0));
    g.out.push(raw(0xb7, 9, 0, 0, 0));
    // fp-16: spill slot; fp-80..fp-24: data.
    g.out.push(raw(0x7b, 10, 6, -16, 0));
    for off in (-80..=-24).step_by(8) {
        g.out.push(raw(0x7a, 10, 0, off, 0)); // *(u64 *)(r10 + off) = 0
    }
    g.iter_loop(-8, 0);
    g.out.push(raw(0xbf, 0, 6, 0, 0));
    g.out.push(raw(0x57, 0, 0, 0, 0xff));
    g.out.push(raw(0x95, 0, 0, 0, 0));
    g.out
}

/// The instructions with kfunc ids from `ids` and resolved jumps.
fn assemble(p: &[Ins], ids: &dyn Fn(&str) -> i32) -> Vec<RawInsn> {
    let mut at = std::collections::HashMap::new();
    let mut n = 0usize;
    for i in p {
        match i {
            Ins::Label(l) => {
                at.insert(*l, n);
            }
            _ => n += 1,
        }
    }
    let mut out = Vec::new();
    for i in p {
        match i {
            Ins::Raw(r) => out.push(*r),
            Ins::Kfunc(name) => out.push(RawInsn::new(0x85, 0, 2, 0, ids(name))),
            Ins::Jmp(code, dst, imm, l) => {
                let off = at[l] as i64 - out.len() as i64 - 1;
                out.push(RawInsn::new(*code, *dst, 0, off as i16, *imm));
            }
            Ins::Label(_) => {}
        }
    }
    out
}

fn func_id(btf: &Btf, name: &str) -> i32 {
    btf.find_by_name_kind(name, Kind::Func).unwrap_or_else(|| panic!("no FUNC {name}")).id() as i32
}

/// The log without what differs by construction: kfunc BTF ids and the alignment they cause.
fn normalize(log: &str) -> String {
    let mut out = String::new();
    for line in log.lines() {
        if line.starts_with("verification time ") {
            continue;
        }
        let mut l = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            l.push(c);
            if c == '#' {
                while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    chars.next();
                }
            }
        }
        let l = match l.find(" ;") {
            Some(i) => format!("{} ;{}", l[..i].trim_end(), &l[i + 2..]),
            None => l,
        };
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn processed(log: &str) -> Option<&str> {
    log.lines().rev().find(|l| l.starts_with("processed "))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let first: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let count: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mode = args.get(3).map(String::as_str).unwrap_or("iter");
    let (dynptr, obj) = (mode == "dynptr", mode == "obj");
    let (obj_btf_raw, point, main_func) = obj_btf();
    let prog_btf = Arc::new(Btf::parse(&obj_btf_raw).expect("the program BTF"));
    if let Err(why) = kfvm_oracle::available() {
        eprintln!("the live kernel's bpf() is not available here: {why}");
        std::process::exit(2);
    }
    std::fs::create_dir_all("/tmp/iterfuzz").expect("/tmp/iterfuzz");
    let live = Btf::parse(&std::fs::read("/sys/kernel/btf/vmlinux").expect("vmlinux BTF")).expect("parse");
    let verifier = kfvm::verify::Verifier::builtin().expect("model");
    let model: Arc<Btf> = verifier.target().btf().clone();
    let mut kfuncs = KfuncTable::default();
    for (name, flags) in [
        (ITER_NEW, 1u32 << 8),
        (ITER_NEXT, (1 << 9) | (1 << 2)),
        (ITER_DESTROY, 1 << 10),
        ("bpf_dynptr_from_xdp", 0),
        ("bpf_dynptr_slice", 1 << 2),
        ("bpf_dynptr_slice_rdwr", 1 << 2),
        ("bpf_dynptr_clone", 0),
        ("bpf_dynptr_size", 0),
        ("bpf_dynptr_adjust", 0),
        ("bpf_obj_new_impl", 1 | (1 << 2)),
        ("bpf_obj_drop_impl", 1 << 1),
    ] {
        let id = func_id(&model, name) as u32;
        kfuncs.insert(KfuncDesc {
            btf_id: id,
            name: name.into(),
            flags,
            allowed: true,
            ..Default::default()
        });
    }
    let kfuncs = Arc::new(kfuncs);
    let (mut same, mut verdict_diff, mut log_diff, mut unsupported, mut kacc) = (0, 0, 0, 0, 0);
    for seed in first..first + count {
        let p = if dynptr {
            generate_dynptr(seed)
        } else if obj {
            generate_obj(seed, point)
        } else {
            generate(seed)
        };
        let prog_type = if dynptr || obj { 6 } else { 1 };
        let mine = assemble(&p, &|n| func_id(&model, n));
        let theirs = assemble(&p, &|n| func_id(&live, n));
        let opts = |level| CheckOptions {
            prog_type,
            log_level: level,
            kernel_btf: Some(model.clone()),
            kfuncs: kfuncs.clone(),
            prog_btf: obj.then(|| kfvm::verifier::env::ProgBtf {
                btf: prog_btf.clone(),
                func_info: vec![(0, main_func)],
            }),
            ..Default::default()
        };
        let quick = kfvm::verifier::bpf_check_full(&mine, &opts(4), None);
        let level = if quick.stats.insn_processed > 20_000 { 4 } else { 2 };
        let v = if level == 4 { quick } else { kfvm::verifier::bpf_check_full(&mine, &opts(level), None) };
        let func_info = [(0u32, main_func)];
        let k = kfvm_oracle::load_with(
            &theirs,
            &kfvm_oracle::LoadOpts {
                prog_type,
                log_level: level,
                prog_btf: if obj { &obj_btf_raw } else { &[] },
                func_info: if obj { &func_info } else { &[] },
                ..Default::default()
            },
        );
        if k.fd.is_some() {
            kacc += 1;
        }
        if let Err(VerifyError::Unsupported(why)) = &v.result {
            unsupported += 1;
            println!("seed {seed}: unsupported: {why}");
            continue;
        }
        let dump = |what: &str| {
            let text = format!("kfvm:\n{}\nkernel:\n{}", v.log, k.log);
            std::fs::write(format!("/tmp/iterfuzz/seed-{seed}.{what}"), text).expect("write");
        };
        if k.fd.is_some() != v.result.is_ok() {
            verdict_diff += 1;
            println!(
                "seed {seed}: VERDICT kernel accepts={} kfvm={:?}",
                k.fd.is_some(),
                v.result.as_ref().err()
            );
            dump("verdict");
            continue;
        }
        let (kl, fl) = (normalize(&k.log), normalize(&v.log));
        let fl: String = fl.lines().filter(|l| !l.starts_with("hint: ")).map(|l| format!("{l}\n")).collect();
        if kl != fl || processed(&k.log) != processed(&v.log) {
            log_diff += 1;
            println!("seed {seed}: LOG {:?} vs {:?}", processed(&k.log), processed(&v.log));
            dump("log");
            continue;
        }
        same += 1;
    }
    println!(
        "{count} programs ({kacc} accepted by the kernel): {same} identical, {verdict_diff} verdicts differ, \
         {log_diff} logs differ, {unsupported} unsupported"
    );
}
