//! A generator of random programs that exercise the path walk — stack spills and fills, map
//! lookups with NULL checks and bounded value accesses, conditional jumps, bounded loops,
//! `may_goto`, helper calls, linked scalars, packet bounds checks and bpf-to-bpf calls — for the
//! differential test against the live kernel (`walk_live.rs`) and the `kfuzz` example.

#![allow(dead_code, unreachable_pub)]

/// splitmix64.
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

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// A generated program: text assembly with directives, ready for `asm_support::parse`.
pub struct Generated {
    pub text: String,
}

struct Gen {
    rng: Rng,
    lines: Vec<String>,
    label: usize,
    /// Registers holding scalars (r0..r9 except r6, the context).
    init: [bool; 10],
    xdp: bool,
    /// Subprograms (callbacks, global functions): name, `; func:` signature, body.
    subs: Vec<(String, String, Vec<String>)>,
}

const ALU: [&str; 10] = ["+=", "-=", "*=", "&=", "|=", "^=", "<<=", ">>=", "s>>=", "="];
const JMP: [&str; 11] = ["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"];
const IMMS: [i64; 16] = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 64, 255, -1, -8, 0x7fff, 1000];

impl Gen {
    fn new_label(&mut self) -> String {
        self.label += 1;
        format!("l{}", self.label)
    }

    fn emit(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }

    fn scalar_reg(&mut self) -> Option<u8> {
        let regs: Vec<u8> = (0..10).filter(|&r| r != 6 && self.init[r as usize]).collect();
        if regs.is_empty() {
            None
        } else {
            Some(self.rng.pick(&regs))
        }
    }

    fn dst_reg(&mut self) -> u8 {
        self.rng.pick(&[0, 1, 2, 3, 4, 5, 7, 8, 9])
    }

    fn imm(&mut self) -> i64 {
        if self.rng.chance(20) {
            self.rng.below(200) as i64 - 100
        } else {
            self.rng.pick(&IMMS)
        }
    }

    fn alu(&mut self) {
        let Some(src) = self.scalar_reg() else { return };
        let dst = self.scalar_reg().unwrap_or(src);
        let op = self.rng.pick(&ALU);
        let w = if self.rng.chance(25) { "w" } else { "r" };
        if matches!(op, "<<=" | ">>=" | "s>>=") {
            let max = if w == "w" { 32 } else { 64 };
            let k = self.rng.below(max);
            self.emit(format!("{w}{dst} {op} {k}"));
        } else if self.rng.chance(50) {
            let k = self.imm();
            self.emit(format!("{w}{dst} {op} {k}"));
        } else {
            self.emit(format!("{w}{dst} {op} {w}{src}"));
        }
        self.init[dst as usize] = true;
    }

    fn stack(&mut self) {
        let size = self.rng.pick(&[8u64, 8, 4, 2, 1]);
        let ty = match size {
            8 => "u64",
            4 => "u32",
            2 => "u16",
            _ => "u8",
        };
        let slot = 1 + self.rng.below(8);
        let off = -((slot * 8) as i64) + (self.rng.below(8 / size) * size) as i64;
        if self.rng.chance(50) {
            if let Some(src) = self.scalar_reg() {
                self.emit(format!("*({ty} *)(r10 {off}) = r{src}"));
            } else {
                let k = self.imm();
                self.emit(format!("*({ty} *)(r10 {off}) = {k}"));
            }
        } else {
            let dst = self.dst_reg();
            self.emit(format!("r{dst} = *({ty} *)(r10 {off})"));
            self.init[dst as usize] = true;
        }
    }

    fn cond(&mut self, depth: usize) {
        let Some(a) = self.scalar_reg() else { return };
        let op = self.rng.pick(&JMP);
        let w = if self.rng.chance(20) { "w" } else { "r" };
        let l = self.new_label();
        if self.rng.chance(50) {
            let k = self.imm();
            self.emit(format!("if {w}{a} {op} {k} goto {l}"));
        } else {
            let b = self.scalar_reg().unwrap_or(a);
            self.emit(format!("if {w}{a} {op} {w}{b} goto {l}"));
        }
        let saved = self.init;
        let n = 1 + self.rng.below(4) as usize;
        self.block(n, depth + 1);
        // Registers initialised on one side only are not initialised after the join.
        for (init, saved) in self.init.iter_mut().zip(saved) {
            *init &= saved;
        }
        self.emit(format!("{l}:"));
    }

    fn map_lookup(&mut self) {
        let k = self.rng.below(12);
        self.emit(format!("*(u32 *)(r10 -4) = {k}"));
        self.emit("r2 = r10");
        self.emit("r2 += -4");
        let m = self.rng.below(2);
        self.emit(format!("r1 = map[idx:{m}]"));
        self.emit("call bpf_map_lookup_elem#1");
        for r in 0..=5 {
            self.init[r] = false;
        }
        let l = self.new_label();
        self.emit(format!("if r0 == 0x0 goto {l}"));
        if let Some(i) = (1..=5).chain(7..=9).find(|&r| self.init[r]) {
            let mask = self.rng.pick(&[7, 15, 31, 63]);
            self.emit(format!("r1 = r{i}"));
            self.emit(format!("r1 &= {mask}"));
            self.emit("r0 += r1");
        }
        let off = self.rng.below(4) * 8;
        self.emit(format!("r3 = *(u8 *)(r0 +{off})"));
        let o2 = self.rng.below(8);
        self.emit(format!("*(u8 *)(r0 +{o2}) = r3"));
        self.emit(format!("{l}:"));
        self.emit("r0 = 0");
        self.init[0] = true;
        self.init[3] = false;
        self.init[1] = false;
    }

    fn helper(&mut self) {
        let h = self.rng.pick(&[
            "call bpf_get_prandom_u32#7",
            "call bpf_ktime_get_ns#5",
            "call bpf_get_smp_processor_id#8",
        ]);
        self.emit(h);
        for r in 1..=5 {
            self.init[r] = false;
        }
        self.init[0] = true;
    }

    fn bounded_loop(&mut self) {
        let c = self.rng.pick(&[7u8, 8, 9]);
        let n = 1 + self.rng.below(6);
        self.emit(format!("r{c} = 0"));
        let l = self.new_label();
        self.emit(format!("{l}:"));
        self.init[c as usize] = true;
        let saved = self.init;
        if let Some(a) = self.scalar_reg().filter(|&a| a != c) {
            let k = self.imm();
            self.emit(format!("r{a} += {k}"));
        }
        for (init, saved) in self.init.iter_mut().zip(saved) {
            *init &= saved;
        }
        self.emit(format!("r{c} += 1"));
        self.emit(format!("if r{c} < {n} goto {l}"));
    }

    fn may_goto_loop(&mut self) {
        let l = self.new_label();
        let out = self.new_label();
        self.emit(format!("{l}: may_goto {out}"));
        if let Some(a) = self.scalar_reg() {
            self.emit(format!("r{a} += 1"));
        }
        self.emit(format!("goto {l}"));
        self.emit(format!("{out}:"));
    }

    fn linked(&mut self) {
        let Some(a) = self.scalar_reg() else { return };
        let b = self.rng.pick(&[7u8, 8, 9]);
        if a == b {
            return;
        }
        self.emit(format!("r{b} = r{a}"));
        let k = self.rng.below(16);
        self.emit(format!("r{b} += {k}"));
        let l = self.new_label();
        let lim = self.rng.below(32);
        self.emit(format!("if r{a} > {lim} goto {l}"));
        self.emit(format!("r{a} = r{b}"));
        self.emit(format!("{l}:"));
        self.init[b as usize] = true;
    }

    fn packet(&mut self) {
        // XDP: data in r2, data_end in r3; check and load.
        self.emit("r2 = *(u32 *)(r6 +0)");
        self.emit("r3 = *(u32 *)(r6 +4)");
        let n = 1 + self.rng.below(32);
        self.emit("r4 = r2");
        self.emit(format!("r4 += {n}"));
        let l = self.new_label();
        let op = self.rng.pick(&[">", ">="]);
        self.emit(format!("if r4 {op} r3 goto {l}"));
        let off = self.rng.below(n);
        self.emit(format!("r5 = *(u8 *)(r2 +{off})"));
        self.emit(format!("{l}:"));
        self.init[2] = false;
        self.init[3] = false;
        self.init[4] = false;
        self.init[5] = false;
    }

    /// The body of a subprogram whose registers `init` start initialised; `ctx_rmw`: first
    /// increments the u64 its R2 points to.
    fn sub_body(&mut self, init: [bool; 10], ctx_rmw: bool, ret01: bool) -> Vec<String> {
        let saved_lines = std::mem::take(&mut self.lines);
        let (saved_init, saved_xdp) = (self.init, self.xdp);
        self.init = init;
        self.xdp = false;
        if ctx_rmw {
            self.emit("r3 = *(u64 *)(r2 +0)");
            self.emit("r3 += 1");
            self.emit("*(u64 *)(r2 +0) = r3");
            self.init[3] = true;
        }
        let n = 2 + self.rng.below(6) as usize;
        self.block(n, 2);
        match self.scalar_reg() {
            Some(r) if self.rng.chance(60) => {
                self.emit(format!("r0 = r{r}"));
                self.emit(if ret01 { "r0 &= 1" } else { "r0 &= 255" });
            }
            _ => {
                let k = self.rng.below(2);
                self.emit(format!("r0 = {k}"));
            }
        }
        self.emit("exit");
        self.init = saved_init;
        self.xdp = saved_xdp;
        std::mem::replace(&mut self.lines, saved_lines)
    }

    fn bpf_loop(&mut self) {
        let name = format!("cb{}", self.subs.len());
        let stack_ctx = self.rng.chance(50);
        if stack_ctx {
            self.emit("*(u64 *)(r10 -72) = 0");
        }
        if self.init[7] && self.rng.chance(30) {
            self.emit("r1 = r7");
        } else {
            let n = 1 + self.rng.below(5);
            self.emit(format!("r1 = {n}"));
        }
        self.emit(format!("r2 = subprog[{name}]"));
        if stack_ctx {
            self.emit("r3 = r10");
            self.emit("r3 += -72");
        } else {
            self.emit("r3 = 0");
        }
        let flags = if self.rng.chance(80) { 0 } else { 1 };
        self.emit(format!("r4 = {flags}"));
        self.emit("call bpf_loop#181");
        for r in 1..=5 {
            self.init[r] = false;
        }
        self.init[0] = true;
        let mut init = [false; 10];
        init[1] = true;
        let body = self.sub_body(init, stack_ctx, true);
        self.subs.push((name, "static int u64 void*".into(), body));
    }

    fn global_call(&mut self) {
        let name = format!("g{}", self.subs.len());
        match self.scalar_reg() {
            Some(a) => self.emit(format!("r1 = r{a}")),
            None => self.emit("r1 = 1"),
        }
        self.emit(format!("call {name}"));
        for r in 1..=5 {
            self.init[r] = false;
        }
        self.init[0] = true;
        let mut init = [false; 10];
        init[1] = true;
        let body = self.sub_body(init, false, false);
        self.subs.push((name, "global int int".into(), body));
    }

    fn block(&mut self, n: usize, depth: usize) {
        for _ in 0..n {
            let k = self.rng.below(100);
            match k {
                0..=29 => self.alu(),
                30..=44 => self.stack(),
                45..=59 if depth < 3 => self.cond(depth),
                60..=66 if depth < 2 => self.map_lookup(),
                67..=71 => self.helper(),
                72..=75 if depth < 2 => self.bounded_loop(),
                76..=78 if depth < 2 => self.may_goto_loop(),
                79..=85 => self.linked(),
                86..=91 if self.xdp && depth < 3 => self.packet(),
                92..=94 if depth == 0 && self.subs.len() < 3 => self.bpf_loop(),
                95..=96 if depth == 0 && self.subs.len() < 3 => self.global_call(),
                _ => self.alu(),
            }
        }
    }
}

/// A random program for `seed`.
pub fn gen(seed: u64) -> Generated {
    let mut rng = Rng::new(seed);
    let xdp = rng.chance(30);
    let mut g = Gen { rng, lines: Vec::new(), label: 0, init: [false; 10], xdp, subs: Vec::new() };
    let mut text = String::new();
    text.push_str("; expect: accept\n");
    if xdp {
        text.push_str("; prog_type: xdp\n");
    }
    text.push_str("; map: array 4 64 8\n; map: hash 4 64 8\n");
    g.emit("r6 = r1");
    if !xdp {
        for (r, off) in [(7, 0), (8, 4), (9, 8)] {
            if g.rng.chance(60) {
                g.emit(format!("r{r} = *(u32 *)(r6 +{off})"));
            } else {
                let k = g.imm();
                g.emit(format!("r{r} = {k}"));
            }
            g.init[r] = true;
        }
    } else {
        for r in [7, 8, 9] {
            if g.rng.chance(50) {
                g.emit(format!("r{r} = *(u32 *)(r6 +12)"));
            } else {
                let k = g.imm();
                g.emit(format!("r{r} = {k}"));
            }
            g.init[r] = true;
        }
    }
    let n = 8 + g.rng.below(20) as usize;
    g.block(n, 0);
    g.emit("r0 = 0");
    g.emit("exit");
    if !g.subs.is_empty() {
        text.push_str("; func: main global int ctx\n");
        for (name, sig, body) in std::mem::take(&mut g.subs) {
            text.push_str(&format!("; func: {name} {sig}\n"));
            g.emit(format!("{name}:"));
            for l in body {
                g.emit(l);
            }
        }
    }
    for l in &g.lines {
        text.push_str(l);
        text.push('\n');
    }
    Generated { text }
}
