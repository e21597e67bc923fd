//! The passes before the path walk: subprograms, then the control-flow graph.
//!
//! - [`add_subprog_and_kfunc`]: every bpf-to-bpf call and callback address starts a subprogram;
//! - [`check_subprogs`]: jumps stay inside their subprogram, and no subprogram falls through into
//!   the next;
//! - [`check_cfg`]: a depth-first walk from the first instruction marks what is reachable, finds
//!   back-edges (loops, allowed for a `bpf_capable` loader) and records the prune points the path
//!   walk checkpoints its states at.

use crate::error::{Errno, Result, VerifyError};
use crate::log::VerifierLog;
use crate::verbose;
use kfvm_isa::opcode::{class, OP_CALL, OP_EXIT, OP_JA, PSEUDO_CALL, PSEUDO_KFUNC_CALL};
use kfvm_isa::RawInsn;

/// Most subprograms in a program (`BPF_MAX_SUBPROGS`).
pub const BPF_MAX_SUBPROGS: usize = 256;

/// One subprogram (`struct bpf_subprog_info`, the parts known before the walk).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubprogInfo {
    /// First instruction.
    pub start: usize,
    /// Contains a `bpf_tail_call`.
    pub has_tail_call: bool,
    /// Contains a legacy `BPF_LD | BPF_ABS/IND` packet load.
    pub has_ld_abs: bool,
    /// `stack_depth`: bytes of stack the walk saw used.
    pub stack_depth: u32,
    /// `postorder_start`: where the subprogram's instructions start in the post-order.
    pub postorder_start: usize,
}

/// What the walk needs from the graph.
#[derive(Clone, Debug, Default)]
pub struct CfgInfo {
    /// Instructions where the walk may prune (`insn_aux_data.prune_point`).
    pub prune_point: Vec<bool>,
    /// Instructions that are jump targets (`insn_aux_data.jmp_point`).
    pub jmp_point: Vec<bool>,
    /// Instructions where a checkpoint is forced (`may_goto`, iterator `next` calls, callback
    /// calls).
    pub force_checkpoint: Vec<bool>,
    /// Calls of helpers that call a callback synchronously (`calls_callback`).
    pub calls_callback: Vec<bool>,
    /// Instructions in depth-first post-order.
    pub postorder: Vec<usize>,
}

fn is_ldimm64(i: &RawInsn) -> bool {
    i.code == (class::LD | 0x18)
}

fn is_pseudo_call(i: &RawInsn) -> bool {
    i.code == (class::JMP | OP_CALL) && i.src() == PSEUDO_CALL
}

fn is_pseudo_func(i: &RawInsn) -> bool {
    is_ldimm64(i) && i.src() == 4
}

fn is_kfunc_call(i: &RawInsn) -> bool {
    i.code == (class::JMP | OP_CALL) && i.src() == PSEUDO_KFUNC_CALL
}

fn is_jmp_class(code: u8) -> bool {
    matches!(code & 7, class::JMP | class::JMP32)
}

fn reject(log: &mut VerifierLog, errno: Errno, insn: Option<usize>, msg: String) -> VerifyError {
    verbose!(log, "{msg}\n");
    VerifyError::reject(errno, insn, msg)
}

/// Mirrors `add_subprog()`: registers a subprogram starting at `off`, keeping the list sorted.
fn add_subprog(subprogs: &mut Vec<SubprogInfo>, off: i64, len: usize, log: &mut VerifierLog) -> Result<()> {
    if off < 0 || off as usize >= len {
        return Err(reject(log, Errno::Inval, None, "call to invalid destination".into()));
    }
    let off = off as usize;
    match subprogs.binary_search_by_key(&off, |s| s.start) {
        Ok(_) => Ok(()),
        Err(pos) => {
            if subprogs.len() >= BPF_MAX_SUBPROGS {
                return Err(reject(log, Errno::TooBig, None, "too many subprograms".into()));
            }
            subprogs.insert(pos, SubprogInfo { start: off, ..Default::default() });
            Ok(())
        }
    }
}

/// Mirrors `add_subprog_and_kfunc()`: the entry function, then one subprogram per distinct target
/// of a bpf-to-bpf call or callback address. Returns the subprograms sorted by start, and the
/// indices of kfunc calls for the caller to resolve (`add_kfunc_call`).
pub fn add_subprog_and_kfunc(
    insns: &[RawInsn],
    opts: &crate::env::CheckOptions,
    log: &mut VerifierLog,
) -> Result<(Vec<SubprogInfo>, Vec<usize>)> {
    let bpf_capable = opts.bpf_capable;
    let mut subprogs = Vec::new();
    add_subprog(&mut subprogs, 0, insns.len(), log)?;
    let mut kfunc_calls = Vec::new();
    for (i, insn) in insns.iter().enumerate() {
        if !is_pseudo_func(insn) && !is_pseudo_call(insn) && !is_kfunc_call(insn) {
            continue;
        }
        if !bpf_capable {
            return Err(reject(
                log,
                Errno::Perm,
                Some(i),
                "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"
                    .into(),
            ));
        }
        if is_kfunc_call(insn) {
            crate::kfunc::add_kfunc_call(opts, insn.imm, insn.off, i, log)?;
            kfunc_calls.push(i);
        } else {
            add_subprog(&mut subprogs, i as i64 + insn.imm as i64 + 1, insns.len(), log)?;
        }
    }
    if log.level2() {
        for (i, s) in subprogs.iter().enumerate() {
            verbose!(log, "func#{i} @{}\n", s.start);
        }
    }
    Ok((subprogs, kfunc_calls))
}

/// `jmp_offset()`: `gotol` keeps its offset in `imm`.
fn jmp_offset(insn: &RawInsn) -> i64 {
    if insn.code == (class::JMP32 | OP_JA) {
        insn.imm as i64
    } else {
        insn.off as i64
    }
}

/// Mirrors `check_subprogs()`: no jump leaves its subprogram, and each subprogram ends in `exit` or
/// an unconditional jump.
pub fn check_subprogs(insns: &[RawInsn], subprogs: &mut [SubprogInfo], log: &mut VerifierLog) -> Result<()> {
    let mut cur = 0;
    let mut start = subprogs[0].start;
    let mut end = subprogs.get(1).map_or(insns.len(), |s| s.start);
    for (i, insn) in insns.iter().enumerate() {
        let code = insn.code;
        if code == (class::JMP | OP_CALL) && insn.imm == 12 && insn.src() != PSEUDO_CALL {
            subprogs[cur].has_tail_call = true;
        }
        if code & 7 == class::LD && matches!(code & 0xe0, 0x20 | 0x40) {
            subprogs[cur].has_ld_abs = true;
        }
        let op = code & 0xf0;
        if is_jmp_class(code) && op != OP_EXIT && op != OP_CALL {
            let off = i as i64 + jmp_offset(insn) + 1;
            if off < start as i64 || off >= end as i64 {
                return Err(reject(
                    log,
                    Errno::Inval,
                    Some(i),
                    format!("jump out of range from insn {i} to {off}"),
                ));
            }
        }
        if i == end - 1 {
            if code != (class::JMP | OP_EXIT) && code != (class::JMP | OP_JA) {
                return Err(reject(log, Errno::Inval, Some(i), "last insn is not an exit or jmp".into()));
            }
            start = end;
            cur += 1;
            if cur < subprogs.len() {
                end = subprogs.get(cur + 1).map_or(insns.len(), |s| s.start);
            }
        }
    }
    Ok(())
}

const DISCOVERED: u8 = 0x10;
const EXPLORED: u8 = 0x20;
const FALLTHROUGH: u8 = 1;
const BRANCH: u8 = 2;

enum Visit {
    Done,
    Keep,
}

struct Walk<'a> {
    insns: &'a [RawInsn],
    state: Vec<u8>,
    stack: Vec<usize>,
    info: CfgInfo,
    bpf_capable: bool,
}

impl Walk<'_> {
    /// Mirrors `push_insn()`: follows the edge `t -> w` of kind `e`.
    fn push_insn(&mut self, t: usize, w: i64, e: u8, log: &mut VerifierLog) -> Result<Visit> {
        if e == FALLTHROUGH && self.state[t] >= (DISCOVERED | FALLTHROUGH) {
            return Ok(Visit::Done);
        }
        if e == BRANCH && self.state[t] >= (DISCOVERED | BRANCH) {
            return Ok(Visit::Done);
        }
        if w < 0 || w as usize >= self.insns.len() {
            log.verbose_linfo(t, format_args!("{t}: "));
            return Err(reject(
                log,
                Errno::Inval,
                Some(t),
                format!("jump out of range from insn {t} to {w}"),
            ));
        }
        let w = w as usize;
        if e == BRANCH {
            self.info.prune_point[w] = true;
            self.info.jmp_point[w] = true;
        }
        if self.state[w] == 0 {
            // Tree edge.
            self.state[t] = DISCOVERED | e;
            self.state[w] = DISCOVERED;
            self.stack.push(w);
            return Ok(Visit::Keep);
        }
        if self.state[w] & 0xf0 == DISCOVERED {
            // Back edge: a loop. The path walk bounds it; only unprivileged loaders are refused here.
            if self.bpf_capable {
                return Ok(Visit::Done);
            }
            log.verbose_linfo(t, format_args!("{t}: "));
            log.verbose_linfo(w, format_args!("{w}: "));
            return Err(reject(log, Errno::Inval, Some(t), format!("back-edge from insn {t} to {w}")));
        }
        // Forward or cross edge.
        self.state[t] = DISCOVERED | e;
        Ok(Visit::Done)
    }

    /// Mirrors `visit_func_call_insn()`.
    fn visit_call(&mut self, t: usize, visit_callee: bool, log: &mut VerifierLog) -> Result<Visit> {
        let sz = if is_ldimm64(&self.insns[t]) { 2 } else { 1 };
        let r = self.push_insn(t, (t + sz) as i64, FALLTHROUGH, log)?;
        if let Visit::Keep = r {
            return Ok(r);
        }
        if t + sz < self.insns.len() {
            self.info.prune_point[t + sz] = true;
            self.info.jmp_point[t + sz] = true;
        }
        if visit_callee {
            self.info.prune_point[t] = true;
            let w = t as i64 + self.insns[t].imm as i64 + 1;
            return self.push_insn(t, w, BRANCH, log);
        }
        Ok(r)
    }

    /// Mirrors `visit_insn()`: pushes the successors of `t` one at a time.
    fn visit_insn(&mut self, t: usize, log: &mut VerifierLog) -> Result<Visit> {
        let insn = self.insns[t];
        if is_pseudo_func(&insn) {
            return self.visit_call(t, true, log);
        }
        if !is_jmp_class(insn.code) {
            let sz = if is_ldimm64(&insn) { 2 } else { 1 };
            return self.push_insn(t, (t + sz) as i64, FALLTHROUGH, log);
        }
        match insn.code & 0xf0 {
            OP_EXIT => Ok(Visit::Done),
            OP_CALL => {
                // bpf_loop, bpf_for_each_map_elem, bpf_find_vma, bpf_user_ringbuf_drain call a
                // callback synchronously (is_sync_callback_calling_insn()).
                if insn.src() == 0 && matches!(insn.imm, 164 | 180 | 181 | 209) {
                    self.info.calls_callback[t] = true;
                    self.info.force_checkpoint[t] = true;
                    self.info.prune_point[t] = true;
                    self.info.jmp_point[t] = true;
                }
                self.visit_call(t, insn.src() == PSEUDO_CALL, log)
            }
            OP_JA => {
                let w = t as i64 + jmp_offset(&insn) + 1;
                let r = self.push_insn(t, w, FALLTHROUGH, log)?;
                if (0..self.insns.len() as i64).contains(&w) {
                    self.info.prune_point[w as usize] = true;
                    self.info.jmp_point[w as usize] = true;
                }
                Ok(r)
            }
            op => {
                // A conditional jump (or may_goto): two edges.
                self.info.prune_point[t] = true;
                if op == 0xe0 {
                    self.info.force_checkpoint[t] = true;
                }
                let r = self.push_insn(t, t as i64 + 1, FALLTHROUGH, log)?;
                if let Visit::Keep = r {
                    return Ok(r);
                }
                self.push_insn(t, t as i64 + insn.off as i64 + 1, BRANCH, log)
            }
        }
    }
}

/// Mirrors `check_cfg()`: a non-recursive depth-first walk over the instructions. Refuses
/// unreachable instructions, jumps out of the program or into the middle of a `lddw`, and (for a
/// loader without `CAP_BPF`) loops.
pub fn check_cfg(insns: &[RawInsn], bpf_capable: bool, log: &mut VerifierLog) -> Result<CfgInfo> {
    let n = insns.len();
    let mut walk = Walk {
        insns,
        state: vec![0; n],
        stack: vec![0],
        info: CfgInfo {
            prune_point: vec![false; n],
            jmp_point: vec![false; n],
            force_checkpoint: vec![false; n],
            calls_callback: vec![false; n],
            postorder: Vec::with_capacity(n),
        },
        bpf_capable,
    };
    walk.state[0] = DISCOVERED;
    while let Some(&t) = walk.stack.last() {
        match walk.visit_insn(t, log)? {
            Visit::Done => {
                walk.state[t] = EXPLORED;
                walk.stack.pop();
                walk.info.postorder.push(t);
            }
            Visit::Keep => {}
        }
    }
    let mut i = 0;
    while i < n {
        if walk.state[i] != EXPLORED {
            return Err(reject(log, Errno::Inval, Some(i), format!("unreachable insn {i}")));
        }
        if is_ldimm64(&insns[i]) {
            if i + 1 < n && walk.state[i + 1] != 0 {
                return Err(reject(
                    log,
                    Errno::Inval,
                    Some(i),
                    format!("jump into the middle of ldimm64 insn {i}"),
                ));
            }
            i += 1;
        }
        i += 1;
    }
    Ok(walk.info)
}
