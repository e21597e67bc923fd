//! Differential fuzzing of the kfunc and BTF-pointer part of the verifier against the live
//! kernel: `cargo run -p kfvm --example kfuzz_kfunc -- FIRST COUNT [LEVEL] [OUTDIR]` (as root,
//! with clang-19).
//!
//! Program `N` (for N in FIRST..FIRST+COUNT) is random BPF C built from seed N: a
//! `tp_btf/task_newtask`, `tp_btf/sched_process_fork`, `tp_btf/cgroup_mkdir`, `syscall` or `tc`
//! program mixing task, cgroup and cpumask kfuncs
//! (acquire/release, `bpf_task_from_pid`, `bpf_cgroup_from_id`/`_ancestor`/`_acquire`,
//! `bpf_cpumask_create`/`set_cpu`/`test_cpu`/...), RCU read sections, walks of BTF pointers
//! (`task->real_parent`, `->group_leader`, `->cpus_ptr`, `->cgroups->dfl_cgrp`, `cgrp->kn`,
//! ...), NULL checks present or missing, releases on some paths only, `bpf_kptr_xchg` into a map
//! value, `bpf_iter_num_*` loops and branches on scalars, with a few deliberate mistakes (use after
//! release, double release, stores through BTF pointers, wrong types). Programs are compiled in
//! batches against `tests/verifier/include` (the model's `vmlinux.h`), verified by kfvm at log
//! level LEVEL (default 1) and loaded into the live kernel the way the corpus driver does
//! (`kfvm_oracle::object`). A disagreement is a different verdict, the kernel's last error line
//! missing from kfvm's log, or (LEVEL 2) a different `processed N insns`; each program kfvm accepts
//! also runs once in the interpreter's checked mode, where a fault is a disagreement too. Each
//! disagreeing program is written to OUTDIR (default `/tmp/kfuzz_kfunc`) as `fN.bpf.c` with both
//! logs (every program with `KFUZZ_KEEP_ALL=1`), and the totals are printed at the end. With
//! `KFUZZ_SRC=FILE.bpf.c` the programs of that file are compared instead (to minimise a case);
//! `KFUZZ_BUDGET=N` makes programs of up to N statements (default 12); `KFUZZ_CLEAN=1` leaves
//! the deliberate mistakes out (more programs verify, and the walk goes deeper).

use kfvm::kernel::{ArgSpec, Kernel, KernelConfig, ModelSpec};
use kfvm::runtime::{LoadOptions, Runtime};
use kfvm::verify::{Verdict, Verifier, VerifyOptions};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// xorshift64*: reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd1b5_4a32_d192_ed03 | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `p` percent.
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    /// `pct(p)`, but never when `clean`.
    fn oops(&mut self, p: u64, clean: bool) -> bool {
        let r = self.pct(p);
        r && !clean
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Task,
    Cgroup,
    Cpumask,
}

impl Kind {
    fn ctype(self) -> &'static str {
        match self {
            Kind::Task => "struct task_struct",
            Kind::Cgroup => "struct cgroup",
            Kind::Cpumask => "struct bpf_cpumask",
        }
    }
    fn release(self) -> &'static str {
        match self {
            Kind::Task => "bpf_task_release",
            Kind::Cgroup => "bpf_cgroup_release",
            Kind::Cpumask => "bpf_cpumask_release",
        }
    }
    fn field(self) -> &'static str {
        match self {
            Kind::Task => "t",
            Kind::Cgroup => "c",
            Kind::Cpumask => "m",
        }
    }
}

/// A pointer variable of the program being generated.
#[derive(Clone, Debug)]
struct Var {
    name: String,
    kind: Kind,
    /// Checked against NULL (or never NULL).
    checked: bool,
    /// Holds a reference to release.
    owned: bool,
    /// Released (or moved into a map): still in scope, for the mistakes.
    dead: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ProgKind {
    /// `tp_btf/task_newtask`.
    TpBtf,
    /// `tp_btf/sched_process_fork`.
    Fork,
    /// `tp_btf/cgroup_mkdir`.
    Mkdir,
    Syscall,
    Tc,
}

impl ProgKind {
    /// The trusted task arguments.
    fn task_args(self) -> &'static [&'static str] {
        match self {
            ProgKind::TpBtf => &["task"],
            ProgKind::Fork => &["parent", "child"],
            _ => &[],
        }
    }

    fn of_section(sec: &str) -> ProgKind {
        match sec {
            "tp_btf/task_newtask" => ProgKind::TpBtf,
            "tp_btf/sched_process_fork" => ProgKind::Fork,
            "tp_btf/cgroup_mkdir" => ProgKind::Mkdir,
            s if s.starts_with("syscall") => ProgKind::Syscall,
            _ => ProgKind::Tc,
        }
    }

    /// The checked run's arguments.
    fn run_args(self) -> Vec<ArgSpec> {
        let a: &[&str] = match self {
            ProgKind::TpBtf => &["task:100", "0"],
            ProgKind::Fork => &["task:1", "task:100"],
            ProgKind::Mkdir => &["cgroup:1", "0"],
            _ => &[],
        };
        a.iter().map(|x| ArgSpec::parse(x).expect("argument spec")).collect()
    }
}

struct Gen {
    rng: Rng,
    out: String,
    indent: usize,
    vars: Vec<Var>,
    next_var: u32,
    kind: ProgKind,
    /// Depth of bpf_rcu_read_lock() sections open.
    rcu: u32,
    /// Statements left to emit.
    budget: u32,
    /// Whether `v` (the map value) was looked up.
    has_map: bool,
    /// Depth of preempt-disabled and IRQ-disabled regions open.
    regions: u32,
    /// No deliberate mistakes (`KFUZZ_CLEAN=1`): most programs verify, deeper walks.
    clean: bool,
}

impl Gen {
    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push('\t');
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next_var += 1;
        format!("{prefix}{}", self.next_var)
    }

    /// A live variable of `kind` (an unchecked one too, `unchecked_pct` percent of the time).
    fn var_of(&mut self, kind: Kind, unchecked_pct: u64) -> Option<String> {
        let allow_unchecked = self.rng.oops(unchecked_pct, self.clean);
        let c: Vec<String> = self
            .vars
            .iter()
            .filter(|v| v.kind == kind && !v.dead && (v.checked || allow_unchecked))
            .map(|v| v.name.clone())
            .collect();
        if c.is_empty() {
            None
        } else {
            Some(self.rng.pick(&c).clone())
        }
    }

    /// A task expression (not a fresh reference).
    fn task_expr(&mut self) -> String {
        let arg = if self.kind.task_args().is_empty() {
            "bpf_get_current_task_btf()".to_string()
        } else {
            self.rng.pick(self.kind.task_args()).to_string()
        };
        let base = match self.rng.below(6) {
            0 | 1 => arg,
            2 | 3 => match self.var_of(Kind::Task, 5) {
                Some(v) => v,
                None => arg,
            },
            _ => {
                if self.rng.pct(50) {
                    arg
                } else {
                    "bpf_get_current_task_btf()".into()
                }
            }
        };
        let mut e = base;
        // Walks give trusted pointers in RCU sections (and non-sleepable programs) only: fewer
        // of them outside, so that most programs stay plausible.
        let walks = match self.rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let walks = if self.kind == ProgKind::Syscall && self.rcu == 0 && (self.clean || self.rng.pct(75)) {
            0
        } else {
            walks
        };
        for _ in 0..walks {
            // (task->parent is neither trusted nor RCU-safe: not in clean programs.)
            let fields: &[&str] = if self.clean {
                &["real_parent", "group_leader"]
            } else {
                &["real_parent", "group_leader", "parent", "real_parent"]
            };
            let f = *self.rng.pick(fields);
            e = format!("{e}->{f}");
        }
        e
    }

    fn cgroup_expr(&mut self) -> String {
        if self.kind == ProgKind::Mkdir && self.rng.pct(40) {
            return if self.rng.pct(80) { "cgrp".into() } else { "cgrp->dom_cgrp".into() };
        }
        match self.rng.below(5) {
            0 | 1 => {
                if let Some(v) = self.var_of(Kind::Cgroup, 5) {
                    let mut e = v;
                    if self.rng.pct(20) {
                        e = format!("{e}->dom_cgrp");
                    }
                    if self.rng.pct(10) {
                        e = format!("{e}->self.cgroup");
                    }
                    return e;
                }
                let t = self.task_expr();
                format!("{t}->cgroups->dfl_cgrp")
            }
            2 => {
                let t = self.task_expr();
                format!("{t}->cgroups->dom_cset->dfl_cgrp")
            }
            _ => {
                let t = self.task_expr();
                format!("{t}->cgroups->dfl_cgrp")
            }
        }
    }

    /// A `const struct cpumask *` expression.
    fn cpumask_expr(&mut self) -> String {
        if self.rng.pct(45) {
            if let Some(v) = self.var_of(Kind::Cpumask, 5) {
                return format!("(const struct cpumask *){v}");
            }
        }
        let t = self.task_expr();
        if self.rng.pct(80) {
            format!("{t}->cpus_ptr")
        } else {
            format!("&{t}->cpus_mask")
        }
    }

    fn scalar_expr(&mut self) -> String {
        match self.rng.below(14) {
            0 => {
                let t = self.task_expr();
                let f = *self.rng.pick(&["pid", "tgid", "prio", "flags", "nr_cpus_allowed", "__state"]);
                format!("{t}->{f}")
            }
            1 => {
                let c = self.cgroup_expr();
                let f = *self.rng.pick(&["level", "nr_descendants", "self.id", "kn->id", "flags"]);
                format!("{c}->{f}")
            }
            2 => {
                let c = self.cgroup_expr();
                format!("{c}->kn->__parent->id")
            }
            3 => {
                let m = self.cpumask_expr();
                let k = self.rng.below(4);
                format!("bpf_cpumask_test_cpu({k}, {m})")
            }
            4 => {
                let m = self.cpumask_expr();
                let f = *self.rng.pick(&["bpf_cpumask_weight", "bpf_cpumask_first", "bpf_cpumask_empty"]);
                format!("{f}({m})")
            }
            5 => {
                let (a, b) = (self.cpumask_expr(), self.cpumask_expr());
                let f =
                    *self.rng.pick(&["bpf_cpumask_equal", "bpf_cpumask_intersects", "bpf_cpumask_subset"]);
                format!("{f}({a}, {b})")
            }
            6 => {
                let (t, c) = (self.task_expr(), self.cgroup_expr());
                format!("bpf_task_under_cgroup({t}, {c})")
            }
            7 => "bpf_get_prandom_u32()".into(),
            8 if self.has_map => "v->n".into(),
            9 => {
                let t = self.task_expr();
                format!("{t}->cgroups->nr_tasks")
            }
            10 => {
                let t = self.task_expr();
                let k = self.rng.below(16);
                format!("{t}->comm[{k}]")
            }
            11 => {
                let c = self.cgroup_expr();
                // (Not cgrp->ancestors[]: the model's struct cgroup ends with a plain flexible
                // array, the kernel's with a union, so the two reject with different messages.
                // The model's layout differs, so the offsets in messages would differ too.)
                // Nor variable indexes: the offsets in the messages differ.
                match self.rng.below(2) {
                    0 => format!("{c}->subsys[{}]->id", self.rng.below(12)),
                    _ => format!("{c}->self.parent->id"),
                }
            }
            _ => {
                let t = self.task_expr();
                format!("{t}->pid")
            }
        }
    }

    /// An acquiring call for `kind`.
    fn acquire_call(&mut self, kind: Kind) -> String {
        match kind {
            Kind::Task => match self.rng.below(4) {
                0 => {
                    let pid = *self.rng.pick(&["0", "1", "100", "(s & 0xff)"]);
                    format!("bpf_task_from_pid({pid})")
                }
                _ => {
                    let t = self.task_expr();
                    format!("bpf_task_acquire({t})")
                }
            },
            Kind::Cgroup => match self.rng.below(5) {
                0 => {
                    let id = *self.rng.pick(&["1", "40", "s"]);
                    format!("bpf_cgroup_from_id({id})")
                }
                1 => {
                    let c = self.cgroup_expr();
                    let l = self.rng.below(3);
                    format!("bpf_cgroup_ancestor({c}, {l})")
                }
                2 => {
                    let t = self.task_expr();
                    format!("bpf_task_get_cgroup1({t}, 1)")
                }
                _ => {
                    let c = self.cgroup_expr();
                    format!("bpf_cgroup_acquire({c})")
                }
            },
            Kind::Cpumask => {
                if self.rng.pct(85) {
                    "bpf_cpumask_create()".into()
                } else {
                    match self.var_of(Kind::Cpumask, 0) {
                        Some(m) => format!("bpf_cpumask_acquire({m})"),
                        None => "bpf_cpumask_create()".into(),
                    }
                }
            }
        }
    }

    fn release_all_owned(&mut self, from: usize, leak_pct: u64) {
        for i in from..self.vars.len() {
            let v = self.vars[i].clone();
            if v.owned && !v.dead && !self.rng.pct(leak_pct) {
                if v.checked {
                    self.line(&format!("{}({});", v.kind.release(), v.name));
                } else {
                    self.line(&format!("if ({}) {}({});", v.name, v.kind.release(), v.name));
                }
                self.vars[i].dead = true;
            }
        }
    }

    /// Statements of a block: variables it declares are released (mostly) at its end.
    fn block(&mut self, depth: u32, n: u32) {
        let mark = self.vars.len();
        for _ in 0..n {
            if self.budget == 0 {
                break;
            }
            self.budget -= 1;
            self.stmt(depth);
        }
        let leak = if self.clean { 0 } else { 2 };
        self.release_all_owned(mark, leak);
        self.vars.truncate(mark);
    }

    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.indent += 1;
    }

    fn close(&mut self) {
        self.indent -= 1;
        self.line("}");
    }

    fn stmt(&mut self, depth: u32) {
        let r = self.rng.below(122);
        match r {
            0..=24 => self.acquire(depth),
            25..=44 => {
                let e = self.scalar_expr();
                self.line(&format!("s += {e};"));
            }
            45..=51 => {
                // Cpumask updates.
                match self.var_of(Kind::Cpumask, 4) {
                    Some(m) => {
                        let k = self.rng.below(4);
                        match self.rng.below(5) {
                            0 => self.line(&format!("bpf_cpumask_set_cpu({k}, {m});")),
                            1 => self.line(&format!("bpf_cpumask_clear_cpu({k}, {m});")),
                            2 => {
                                let src = self.cpumask_expr();
                                self.line(&format!("bpf_cpumask_copy({m}, {src});"))
                            }
                            3 => {
                                let (a, b) = (self.cpumask_expr(), self.cpumask_expr());
                                self.line(&format!("bpf_cpumask_and({m}, {a}, {b});"))
                            }
                            _ => self.line(&format!("s += bpf_cpumask_test_and_set_cpu({k}, {m});")),
                        }
                    }
                    None => self.acquire(depth),
                }
            }
            52..=60 if depth < 3 => {
                let e = self.scalar_expr();
                let k = self.rng.below(200);
                let op = *self.rng.pick(&[">", "<", "==", "!=", "&"]);
                self.open(&format!("if (({e}) {op} {k})"));
                let n = 1 + self.rng.below(3) as u32;
                self.block(depth + 1, n);
                self.close();
                if self.rng.pct(50) {
                    self.open("else");
                    let n = 1 + self.rng.below(3) as u32;
                    self.block(depth + 1, n);
                    self.close();
                }
            }
            61..=67 if depth < 3 && self.rcu == 0 => {
                // An RCU read section; a pointer walked inside it may be used after it.
                let esc = self.rng.pct(30).then(|| self.fresh("r"));
                if let Some(r) = &esc {
                    self.line(&format!("struct task_struct *{r};"));
                }
                self.line("bpf_rcu_read_lock();");
                self.rcu += 1;
                if let Some(r) = &esc {
                    let t = self.task_expr();
                    let f = *self.rng.pick(&["real_parent", "group_leader"]);
                    self.line(&format!("{r} = {t}->{f};"));
                }
                let n = 1 + self.rng.below(4) as u32;
                self.block(depth + 1, n);
                self.rcu -= 1;
                if let Some(r) = &esc {
                    match self.rng.below(if self.clean { 2 } else { 3 }) {
                        0 => self.line(&format!("s += {r}->pid;")),
                        1 => self.line(&format!("s += bpf_cpumask_weight({r}->cpus_ptr);")),
                        _ => {
                            let a = self.fresh("t");
                            self.line(&format!("struct task_struct *{a} = bpf_task_acquire({r});"));
                            self.line(&format!("if ({a}) bpf_task_release({a});"));
                        }
                    }
                }
                if !self.rng.oops(3, self.clean) {
                    self.line("bpf_rcu_read_unlock();");
                } else if self.rng.pct(50) {
                    self.line("if (s & 1) bpf_rcu_read_unlock();");
                }
            }
            68..=73 if depth < 3 => {
                // An open-coded loop.
                let it = self.fresh("it");
                let ip = self.fresh("ip");
                let hi = self.rng.below(6);
                self.line(&format!("struct bpf_iter_num {it};"));
                self.line(&format!("int *{ip};"));
                self.line(&format!("bpf_iter_num_new(&{it}, 0, {hi});"));
                self.open(&format!("while (({ip} = bpf_iter_num_next(&{it})))"));
                self.line(&format!("s += *{ip};"));
                let n = self.rng.below(3) as u32;
                self.block(depth + 1, n);
                self.close();
                if !self.rng.oops(4, self.clean) {
                    self.line(&format!("bpf_iter_num_destroy(&{it});"));
                }
            }
            74..=80 if self.has_map => self.kptr(),
            81..=85 if !self.clean => {
                // Release a live reference early (on this path only, in a branch sometimes).
                let owned: Vec<usize> = (0..self.vars.len())
                    .filter(|&i| self.vars[i].owned && !self.vars[i].dead && self.vars[i].checked)
                    .collect();
                if let Some(&i) = owned.get(self.rng.below(owned.len().max(1) as u64) as usize) {
                    let v = self.vars[i].clone();
                    if self.rng.pct(20) {
                        // On one path only: a leak or an unreleased path unless the other releases.
                        let k = self.rng.below(100);
                        self.line(&format!(
                            "if (s > {k}) {}({}); else {}({});",
                            v.kind.release(),
                            v.name,
                            v.kind.release(),
                            v.name
                        ));
                    } else {
                        self.line(&format!("{}({});", v.kind.release(), v.name));
                    }
                    self.vars[i].dead = true;
                }
            }
            86..=87 if !self.clean => self.mistake(),
            88..=89 if depth < 3 => {
                // A preempt-disabled or IRQ-disabled region.
                if self.rng.pct(50) {
                    self.line("bpf_preempt_disable();");
                    let n = 1 + self.rng.below(3) as u32;
                    self.regions += 1;
                    self.block(depth + 1, n);
                    self.regions -= 1;
                    self.line("bpf_preempt_enable();");
                } else {
                    let f = self.fresh("fl");
                    self.line(&format!("unsigned long {f};"));
                    self.line(&format!("bpf_local_irq_save(&{f});"));
                    let n = 1 + self.rng.below(3) as u32;
                    self.regions += 1;
                    self.block(depth + 1, n);
                    self.regions -= 1;
                    self.line(&format!("bpf_local_irq_restore(&{f});"));
                }
            }
            90 => {
                // Pointer comparison.
                let (a, b) = (self.task_expr(), self.task_expr());
                self.line(&format!("if ({a} == {b}) s++;"));
            }
            91..=92 => {
                // A conditional acquisition, checked later.
                let name = self.fresh("q");
                let k = self.rng.below(100);
                let call = self.acquire_call(Kind::Task);
                self.line(&format!("struct task_struct *{name} = NULL;"));
                self.line(&format!("if (s > {k}) {name} = {call};"));
                self.line(&format!("if ({name}) s += sub_task({name});"));
                if self.rng.pct(95) {
                    self.line(&format!("if ({name}) bpf_task_release({name});"));
                }
            }
            93 => {
                let t = self.task_expr();
                if self.rng.pct(50) {
                    self.line(&format!("s += sub_task({t});"));
                } else {
                    self.line(&format!("s += gsub_task({t});"));
                }
            }
            100..=102 => {
                // bpf_loop() with a callback using kfuncs.
                let cb = *self.rng.pick(&["cb_task", "cb_acquire", "cb_cgroup", "cb_cpumask", "cb_leak"]);
                // Not a constant 0: the live 6.18.44 kernel then never visits the callback,
                // removes it as dead code and, when it was the last subprogram, fails the load
                // with "verifier bug: No program to jit at insn N (subprog < 0)" (jit_subprogs()).
                let n = 1 + self.rng.below(4);
                self.line(&format!("s += bpf_loop({n}, {cb}, &s, 0);"));
            }
            103..=104 => {
                // A probe read of a field.
                let t = self.task_expr();
                let x = self.fresh("x");
                self.line(&format!("int {x} = 0;"));
                self.line(&format!("bpf_probe_read_kernel(&{x}, sizeof({x}), &{t}->pid);"));
                self.line(&format!("s += {x};"));
            }
            105..=106 => {
                // More cpumask kfuncs.
                let (a, b) = (self.cpumask_expr(), self.cpumask_expr());
                match self.rng.below(3) {
                    0 => self.line(&format!("s += bpf_cpumask_first_and({a}, {b});")),
                    1 => self.line(&format!("s += bpf_cpumask_any_distribute({a});")),
                    _ => self.line(&format!("s += bpf_cpumask_any_and_distribute({a}, {b});")),
                }
            }
            107..=109 => {
                // A pointer spilled to the stack and filled back.
                let kind = *self.rng.pick(&[Kind::Task, Kind::Cgroup, Kind::Cpumask]);
                if let Some(v) = self.var_of(kind, 3) {
                    let sl = self.fresh("sl");
                    self.line(&format!("{} *volatile {sl} = {v};", kind.ctype()));
                    match kind {
                        Kind::Task => self.line(&format!("s += {sl}->pid;")),
                        Kind::Cgroup => self.line(&format!("s += {sl}->level;")),
                        Kind::Cpumask => self.line(&format!("bpf_cpumask_set_cpu(0, {sl});")),
                    }
                }
            }
            110..=112 => {
                // Two pointers of different trust merged.
                let (a, b) = (self.task_expr(), self.task_expr());
                let x = self.fresh("x");
                let k = self.rng.below(50);
                self.line(&format!("struct task_struct *{x} = {a};"));
                self.line(&format!("if (s > {k}) {x} = {b};"));
                match self.rng.below(3) {
                    0 => self.line(&format!("s += {x}->pid;")),
                    1 => self.line(&format!("s += bpf_cpumask_test_cpu(0, {x}->cpus_ptr);")),
                    _ => {
                        let a = self.fresh("t");
                        self.line(&format!("struct task_struct *{a} = bpf_task_acquire({x});"));
                        self.line(&format!("if ({a}) bpf_task_release({a});"));
                    }
                }
            }
            113 if self.has_map => {
                // A kptr loaded and acquired inside an RCU section.
                if self.rcu == 0 {
                    self.line("bpf_rcu_read_lock();");
                }
                let k = self.fresh("k");
                let a = self.fresh("t");
                self.line(&format!("struct task_struct *{k} = v->t;"));
                self.line(&format!("struct task_struct *{a} = {k} ? bpf_task_acquire({k}) : NULL;"));
                if self.rcu == 0 {
                    self.line("bpf_rcu_read_unlock();");
                }
                self.line(&format!("if ({a}) {{ s += {a}->pid; bpf_task_release({a}); }}"));
            }
            114..=116 => {
                // A local object (bpf_obj_new), with a task kptr field sometimes filled.
                let n = self.fresh("n");
                self.line(&format!("struct fz_node *{n} = bpf_obj_new(struct fz_node);"));
                self.open(&format!("if ({n})"));
                self.line(&format!("{n}->x = s;"));
                if self.rng.pct(40) {
                    let moved = self
                        .vars
                        .iter()
                        .position(|v| v.kind == Kind::Task && v.owned && !v.dead && v.checked);
                    let val = match moved {
                        Some(i) if self.rng.pct(70) => {
                            self.vars[i].dead = true;
                            self.vars[i].name.clone()
                        }
                        _ => "NULL".into(),
                    };
                    let old = self.fresh("old");
                    self.line(&format!("struct task_struct *{old} = bpf_kptr_xchg(&{n}->t, {val});"));
                    self.line(&format!("if ({old}) bpf_task_release({old});"));
                }
                self.line(&format!("s += {n}->x;"));
                if self.rng.pct(95) {
                    self.line(&format!("bpf_obj_drop({n});"));
                }
                self.close();
            }
            117..=119 => {
                // A read-only cast: an untrusted pointer.
                let t = self.task_expr();
                let ro = self.fresh("ro");
                self.line(&format!(
                    "struct task_struct *{ro} = bpf_rdonly_cast({t}, bpf_core_type_id_kernel(struct task_struct));"
                ));
                match self.rng.below(4) {
                    0 if !self.clean => {
                        let a = self.fresh("t");
                        self.line(&format!("struct task_struct *{a} = bpf_task_acquire({ro});"));
                        self.line(&format!("if ({a}) bpf_task_release({a});"));
                    }
                    1 => self.line(&format!("s += {ro}->real_parent->pid;")),
                    _ => self.line(&format!("s += {ro}->pid;")),
                }
            }
            _ => {
                let e = self.scalar_expr();
                self.line(&format!("s ^= {e};"));
            }
        }
    }

    /// `x = ACQUIRE; NULL check (mostly)`.
    fn acquire(&mut self, depth: u32) {
        let kind = *self.rng.pick(&[Kind::Task, Kind::Task, Kind::Cgroup, Kind::Cpumask]);
        let call = self.acquire_call(kind);
        let name = self.fresh(match kind {
            Kind::Task => "t",
            Kind::Cgroup => "c",
            Kind::Cpumask => "m",
        });
        self.line(&format!("{} *{name} = {call};", kind.ctype()));
        let form = self.rng.below(100);
        // Inside a region (RCU, preempt, IRQ) a clean program does not bail out.
        let in_region = self.rcu > 0 || self.regions > 0;
        if (form < 55 && depth < 3) || (self.clean && in_region) {
            self.open(&format!("if ({name})"));
            let mark = self.vars.len();
            self.vars.push(Var { name: name.clone(), kind, checked: true, owned: true, dead: false });
            let n = self.rng.below(4) as u32;
            self.block(depth + 1, n);
            // Release the variable at the end of its block (mostly).
            let leak = if self.clean { 0 } else { 2 };
            self.release_all_owned(mark, leak);
            self.vars.truncate(mark);
            self.close();
        } else if form < 92 || self.clean {
            let any_owned = self.vars.iter().any(|v| v.owned && !v.dead);
            if any_owned && self.rng.pct(70) {
                // Bail out without leaking the others.
                self.open(&format!("if (!{name})"));
                // Release the others on the bail-out path only (they stay live after it).
                let live: Vec<Var> = self.vars.iter().filter(|v| v.owned && !v.dead).cloned().collect();
                for v in live {
                    if self.rng.pct(3) {
                        continue;
                    }
                    if v.checked {
                        self.line(&format!("{}({});", v.kind.release(), v.name));
                    } else {
                        self.line(&format!("if ({}) {}({});", v.name, v.kind.release(), v.name));
                    }
                }
                self.line("goto out;");
                self.close();
            } else {
                self.line(&format!("if (!{name})"));
                self.line("\tgoto out;");
            }
            self.vars.push(Var { name, kind, checked: true, owned: true, dead: false });
        } else {
            self.vars.push(Var { name, kind, checked: false, owned: true, dead: false });
        }
    }

    fn kptr(&mut self) {
        let kind = *self.rng.pick(&[Kind::Task, Kind::Cgroup, Kind::Cpumask]);
        let f = kind.field();
        if self.rng.pct(50) {
            // Move a reference in, release what comes out.
            let moved = self
                .vars
                .iter()
                .position(|v| v.kind == kind && v.owned && !v.dead && (v.checked || self.rng.pct(10)));
            // (A move in a branch leaves the other path holding the reference: not when clean.)
            let val = match moved.filter(|_| !self.clean) {
                Some(i) => {
                    self.vars[i].dead = true;
                    self.vars[i].name.clone()
                }
                None => "NULL".into(),
            };
            let old = self.fresh("old");
            self.line(&format!("{} *{old} = bpf_kptr_xchg(&v->{f}, {val});", kind.ctype()));
            if self.rng.pct(93) {
                self.line(&format!("if ({old}) {}({old});", kind.release()));
            }
        } else {
            // Load the kptr (RCU-protected in RCU sections and non-sleepable programs).
            let k = self.fresh("k");
            self.line(&format!("{} *{k} = v->{f};", kind.ctype()));
            if self.rng.pct(85) {
                self.open(&format!("if ({k})"));
            } else {
                self.open("");
            }
            match kind {
                Kind::Task => self.line(&format!("s += {k}->pid;")),
                Kind::Cgroup => self.line(&format!("s += {k}->level;")),
                Kind::Cpumask => {
                    self.line(&format!("s += bpf_cpumask_test_cpu(0, (const struct cpumask *){k});"))
                }
            }
            if self.rng.pct(40) {
                let a = self.fresh("a");
                let acq = match kind {
                    Kind::Task => "bpf_task_acquire",
                    Kind::Cgroup => "bpf_cgroup_acquire",
                    Kind::Cpumask => "bpf_cpumask_acquire",
                };
                self.line(&format!("{} *{a} = {acq}({k});", kind.ctype()));
                self.line(&format!("if ({a}) {}({a});", kind.release()));
            }
            self.close();
        }
    }

    /// A deliberate mistake.
    fn mistake(&mut self) {
        match self.rng.below(8) {
            0 => {
                // Use after release / double release.
                if let Some(v) = self.vars.iter().find(|v| v.dead).cloned() {
                    if self.rng.pct(50) {
                        self.line(&format!("{}({});", v.kind.release(), v.name));
                    } else if v.kind == Kind::Task {
                        self.line(&format!("s += {}->pid;", v.name));
                    } else if v.kind == Kind::Cgroup {
                        self.line(&format!("s += {}->level;", v.name));
                    } else {
                        self.line(&format!("bpf_cpumask_set_cpu(1, {});", v.name));
                    }
                }
            }
            1 => {
                // Release what was not acquired.
                let t = self.task_expr();
                self.line(&format!("bpf_task_release({t});"));
            }
            2 => {
                // Store through a BTF pointer.
                let t = self.task_expr();
                self.line(&format!("{t}->prio = 1;"));
            }
            3 => {
                // A cpumask kfunc writing a task's cpus_ptr.
                let t = self.task_expr();
                self.line(&format!("bpf_cpumask_set_cpu(1, (struct bpf_cpumask *){t}->cpus_ptr);"));
            }
            4 => {
                // Wrong type.
                let c = self.cgroup_expr();
                self.line(&format!("s += bpf_task_under_cgroup((struct task_struct *){c}, {c});"));
            }
            5 => {
                // An unchecked acquire used.
                let t = self.task_expr();
                let n = self.fresh("u");
                self.line(&format!("struct task_struct *{n} = bpf_task_acquire({t});"));
                self.line(&format!("s += {n}->pid;"));
                if self.rng.pct(70) {
                    self.line(&format!("bpf_task_release({n});"));
                }
            }
            6 => {
                // RCU unlock without lock, or nested lock.
                if self.rcu == 0 {
                    self.line("bpf_rcu_read_unlock();");
                } else {
                    self.line("bpf_rcu_read_lock();");
                    self.line("bpf_rcu_read_unlock();");
                }
            }
            _ => {
                // A walked pointer passed to a kfunc wanting a trusted one, from a fresh walk.
                let t = self.task_expr();
                let n = self.fresh("w");
                self.line(&format!(
                    "struct task_struct *{n} = bpf_task_acquire({t}->group_leader->real_parent);"
                ));
                self.line(&format!("if ({n}) bpf_task_release({n});"));
            }
        }
    }
}

const HEADER: &str = r#"// Generated by crates/kfvm/examples/kfuzz_kfunc.rs.
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(p) bpf_obj_drop_impl(p, NULL)

struct fz_node {
	long x;
	struct task_struct __kptr *t;
};

struct val {
	struct task_struct __kptr *t;
	struct cgroup __kptr *c;
	struct bpf_cpumask __kptr *m;
	long n;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct val);
} kmap SEC(".maps");

long out;

static __noinline long sub_task(struct task_struct *t)
{
	return t ? t->pid : 0;
}

__noinline long gsub_task(struct task_struct *t __arg_trusted)
{
	return t->tgid;
}

static long cb_task(u64 i, void *c)
{
	*(long *)c += bpf_get_current_task_btf()->pid;
	return 0;
}

static long cb_acquire(u64 i, void *c)
{
	struct task_struct *t = bpf_task_from_pid(i);

	if (t) {
		*(long *)c += t->tgid;
		bpf_task_release(t);
	}
	return 0;
}

static long cb_cgroup(u64 i, void *c)
{
	struct cgroup *g = bpf_cgroup_from_id(i);

	if (!g)
		return 1;
	*(long *)c += g->level;
	bpf_cgroup_release(g);
	return 0;
}

static long cb_cpumask(u64 i, void *c)
{
	struct bpf_cpumask *m = bpf_cpumask_create();

	if (!m)
		return 1;
	bpf_cpumask_set_cpu(i, m);
	*(long *)c += bpf_cpumask_weight((const struct cpumask *)m);
	bpf_cpumask_release(m);
	return 0;
}

static long cb_leak(u64 i, void *c)
{
	struct task_struct *t = bpf_task_from_pid(i);

	if (t && i > 2)
		bpf_task_release(t);
	return 0;
}
"#;

/// The C text of program `seed` (a function named `f<seed>`).
fn program(seed: u64) -> (String, ProgKind) {
    let mut rng = Rng::new(seed);
    let kind = match rng.below(12) {
        0..=3 => ProgKind::TpBtf,
        4 => ProgKind::Fork,
        5 => ProgKind::Mkdir,
        6..=9 => ProgKind::Syscall,
        _ => ProgKind::Tc,
    };
    let has_map = rng.pct(40);
    // KFUZZ_BUDGET=N: programs of up to N statements (default 12).
    let max = std::env::var("KFUZZ_BUDGET").ok().and_then(|b| b.parse::<u64>().ok()).unwrap_or(12).max(3);
    let budget = 3 + rng.below(max - 2) as u32;
    let clean = std::env::var_os("KFUZZ_CLEAN").is_some();
    // (No tc programs when clean: cpumask kfuncs are not allowed there.)
    let kind = if clean && kind == ProgKind::Tc { ProgKind::Syscall } else { kind };
    let mut g = Gen {
        rng,
        out: String::new(),
        indent: 0,
        vars: Vec::new(),
        next_var: 0,
        kind,
        rcu: 0,
        budget,
        has_map,
        clean,
        regions: 0,
    };
    match kind {
        ProgKind::TpBtf => {
            g.line("SEC(\"tp_btf/task_newtask\")");
            g.line(&format!("int BPF_PROG(f{seed}, struct task_struct *task, u64 clone_flags)"));
        }
        ProgKind::Fork => {
            g.line("SEC(\"tp_btf/sched_process_fork\")");
            g.line(&format!("int BPF_PROG(f{seed}, struct task_struct *parent, struct task_struct *child)"));
        }
        ProgKind::Mkdir => {
            g.line("SEC(\"tp_btf/cgroup_mkdir\")");
            g.line(&format!("int BPF_PROG(f{seed}, struct cgroup *cgrp, const char *path)"));
        }
        ProgKind::Syscall => {
            g.line("SEC(\"syscall\")");
            g.line(&format!("int f{seed}(void *ctx)"));
        }
        ProgKind::Tc => {
            g.line("SEC(\"tc\")");
            g.line(&format!("int f{seed}(struct __sk_buff *skb)"));
        }
    }
    g.line("{");
    g.indent = 1;
    g.line("long s = 0;");
    if kind == ProgKind::Tc {
        g.line("s = skb->len;");
    }
    if has_map {
        g.line("int zero = 0;");
        g.line("struct val *v = bpf_map_lookup_elem(&kmap, &zero);");
        g.line("if (!v)");
        g.line("\treturn 0;");
    }
    // Sleepable programs walk BTF pointers inside explicit RCU sections.
    let wrap = kind == ProgKind::Syscall && (g.rng.pct(55) || clean);
    if wrap {
        g.line("bpf_rcu_read_lock();");
        g.rcu = 1;
    }
    while g.budget > 0 {
        g.budget -= 1;
        g.stmt(0);
    }
    g.release_all_owned(0, 2);
    g.indent = 0;
    g.line("out:");
    if wrap {
        g.line("\tbpf_rcu_read_unlock();");
    }
    g.line("\tout = s;");
    g.line("\treturn 0;");
    g.line("}");
    (g.out, kind)
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier")
}

fn compile(src: &Path, obj: &Path) -> Result<(), String> {
    let inc = corpus_dir().join("include");
    let o = Command::new("clang-19")
        .args(["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86", "-Wno-unused-function"])
        .arg("-Wno-unused-variable")
        .arg("-Wno-unused-label")
        .arg(format!("-I{}", inc.display()))
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(obj)
        .output()
        .map_err(|e| format!("clang-19: {e}"))?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(())
}

/// The kernel's last error line (before the statistics).
fn last_line(log: &str) -> Option<&str> {
    log.lines().rev().find(|x| {
        !x.is_empty()
            && !x.starts_with("processed ")
            && !x.starts_with("verification time")
            && !x.starts_with("stack depth")
    })
}

fn processed(log: &str) -> Option<u32> {
    log.lines().find_map(|l| l.strip_prefix("processed ")?.split(' ').next()?.parse().ok())
}

#[derive(Default)]
struct Tally {
    generated: u32,
    compiled: u32,
    kernel_accept: u32,
    kernel_reject: u32,
    kernel_error: u32,
    verdict_agree: u32,
    last_agree: u32,
    last_n: u32,
    proc_agree: u32,
    proc_n: u32,
    undecided: u32,
    runs: u32,
    run_faults: u32,
    disagree: u32,
    /// The kernel's last error lines (digits dropped), counted.
    reasons: std::collections::BTreeMap<String, u32>,
    /// Why the runtime could not load an accepted program (no checked run), counted.
    run_skips: std::collections::BTreeMap<String, u32>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    let count: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let level: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let outdir = PathBuf::from(args.get(3).cloned().unwrap_or_else(|| "/tmp/kfuzz_kfunc".into()));
    let kernel_ok = kfvm_oracle::available();
    if let Err(why) = &kernel_ok {
        eprintln!("kfuzz_kfunc: the live kernel cannot be asked ({why}): kfvm alone");
    }
    std::fs::create_dir_all(&outdir).expect("output directory");
    let verifier = Verifier::builtin().expect("the built-in kernel model");
    let model = ModelSpec::load(&corpus_dir().join("model.toml")).expect("tests/verifier/model.toml");
    let mkernel = Kernel::from_spec(&model, KernelConfig::small()).expect("kernel model");
    let mut t = Tally::default();
    const BATCH: u64 = 40;
    // KFUZZ_SRC=FILE.bpf.c: compare the programs of that file instead (for minimising).
    let replay = std::env::var("KFUZZ_SRC").ok();
    let (first, count) = if replay.is_some() { (0, 1) } else { (first, count) };
    let mut start = first;
    while start < first + count {
        let end = (start + BATCH).min(first + count);
        let mut src = String::from(HEADER);
        let mut progs = Vec::new();
        if let Some(f) = &replay {
            src = std::fs::read_to_string(f).expect("KFUZZ_SRC");
        } else {
            for seed in start..end {
                let (text, kind) = program(seed);
                src.push('\n');
                src.push_str(&text);
                progs.push((format!("f{seed}"), text, kind));
            }
            t.generated += (end - start) as u32;
        }
        let cfile = outdir.join(format!("batch{start}.bpf.c"));
        let ofile = outdir.join(format!("batch{start}.bpf.o"));
        std::fs::write(&cfile, &src).expect("write");
        if let Err(e) = compile(&cfile, &ofile) {
            eprintln!("batch {start}: clang failed (a generator bug):\n{e}");
            start = end;
            continue;
        }
        if replay.is_none() {
            t.compiled += (end - start) as u32;
        }
        let bytes = std::fs::read(&ofile).expect("object");
        let fname = ofile.file_name().unwrap().to_string_lossy().into_owned();
        let linked = match verifier.link(&bytes, &fname) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("batch {start}: kfvm link: {e}");
                start = end;
                continue;
            }
        };
        if replay.is_some() {
            for p in &linked.programs {
                let kind = ProgKind::of_section(&p.section);
                progs.push((p.name.clone(), String::new(), kind));
            }
            t.generated += progs.len() as u32;
            t.compiled += progs.len() as u32;
        }
        let live =
            kernel_ok.as_ref().ok().and_then(|_| kfvm_oracle::object::link_for_kernel(&bytes, &fname).ok());
        for (name, text, kind) in &progs {
            let name = name.clone();
            let Some(p) = linked.program(&name) else { continue };
            let opts = VerifyOptions { file_name: fname.clone(), log_level: level, ..Default::default() };
            let v = verifier.verify_program(&linked, p, &opts);
            let mut report = String::new();
            if matches!(v.verdict, Verdict::Unsupported(_)) {
                t.undecided += 1;
            }
            if let Verdict::Internal(e) | Verdict::LoadFailed(e) = &v.verdict {
                let _ = writeln!(report, "kfvm: {e}");
            }
            if let Some(live) = &live {
                let lp = live.program(&name).expect("same programs");
                match kfvm_oracle::object::load_program(live, lp, level, 0) {
                    Ok(l) => {
                        let k_acc = l.loaded.fd.is_some();
                        if k_acc {
                            t.kernel_accept += 1
                        } else {
                            t.kernel_reject += 1
                        }
                        let f_acc = matches!(v.verdict, Verdict::Accept);
                        let f_rej = matches!(v.verdict, Verdict::Reject { .. });
                        if (k_acc && f_acc) || (!k_acc && f_rej) {
                            t.verdict_agree += 1;
                        } else {
                            let _ = writeln!(
                                report,
                                "verdict: kernel {} kfvm {}",
                                if k_acc { "accept" } else { "reject" },
                                v.verdict
                            );
                        }
                        if let Some(last) = last_line(&l.loaded.log).filter(|_| !k_acc) {
                            let key: String = last.chars().filter(|c| !c.is_ascii_digit()).collect();
                            *t.reasons.entry(key).or_default() += 1;
                        }
                        if !k_acc && f_rej {
                            if let Some(last) = last_line(&l.loaded.log) {
                                t.last_n += 1;
                                if v.log.contains(last) {
                                    t.last_agree += 1;
                                } else {
                                    let _ = writeln!(
                                        report,
                                        "the kernel's last line `{last}` is not in kfvm's log (kfvm: {:?})",
                                        v.error
                                    );
                                }
                            }
                        }
                        if level >= 2 && k_acc && f_acc {
                            if let (Some(kp), Some(fp)) = (processed(&l.loaded.log), processed(&v.log)) {
                                t.proc_n += 1;
                                if kp == fp {
                                    t.proc_agree += 1;
                                } else {
                                    let _ = writeln!(report, "processed: kernel {kp} kfvm {fp}");
                                }
                            }
                        }
                        if !report.is_empty() {
                            let _ = writeln!(report, "\n===== kernel log =====\n{}", l.loaded.log);
                        }
                    }
                    Err(e) => {
                        t.kernel_error += 1;
                        let _ = writeln!(report, "kernel load: {e}");
                    }
                }
            }
            if matches!(v.verdict, Verdict::Accept) {
                // The checked run.
                let only = Some(vec![name.clone()]);
                match Runtime::load(
                    &mkernel,
                    verifier.registry(),
                    &linked,
                    &LoadOptions { no_verify: true, only },
                ) {
                    Ok(rt) => {
                        let args = kind.run_args();
                        let data = (*kind == ProgKind::Tc).then(|| vec![0u8; 64]);
                        t.runs += 1;
                        if let Err(e) = rt.test_run(&name, &args, data.as_deref(), 1) {
                            t.run_faults += 1;
                            let _ = writeln!(report, "checked run: {e}");
                        }
                    }
                    Err(e) => {
                        let key: String = e.to_string().chars().filter(|c| !c.is_ascii_digit()).collect();
                        *t.run_skips.entry(key).or_default() += 1;
                    }
                }
            }
            let keep_all = std::env::var_os("KFUZZ_KEEP_ALL").is_some();
            if !report.is_empty() || keep_all {
                if !report.is_empty() {
                    t.disagree += 1;
                }
                let mut f = String::from(HEADER);
                f.push('\n');
                f.push_str(text);
                let _ =
                    write!(f, "\n/*\n{report}\n===== kfvm log =====\n{}\n*/\n", v.log.replace("*/", "* /"));
                std::fs::write(outdir.join(format!("{name}.bpf.c")), f).expect("write");
                if !report.is_empty() {
                    println!("{name}: {}", report.lines().next().unwrap_or(""));
                }
            }
        }
        let _ = std::fs::remove_file(&cfile);
        let _ = std::fs::remove_file(&ofile);
        start = end;
    }
    let mut reasons: Vec<_> = t.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for (r, n) in reasons {
        println!("{n:6}  {r}");
    }
    for (r, n) in &t.run_skips {
        println!("{n:6}  not run: {r}");
    }
    println!(
        "{} programs generated, {} compiled; kernel accepted {}, rejected {}, load errors {}; \
         verdicts agree {}/{}; kfvm undecided {}; the kernel's last error line in kfvm's log {}/{}; \
         processed insns agree {}/{}; checked runs {} ({} faults); {} programs disagree",
        t.generated,
        t.compiled,
        t.kernel_accept,
        t.kernel_reject,
        t.kernel_error,
        t.verdict_agree,
        t.kernel_accept + t.kernel_reject,
        t.undecided,
        t.last_agree,
        t.last_n,
        t.proc_agree,
        t.proc_n,
        t.runs,
        t.run_faults,
        t.disagree
    );
}
