//! Liveness: which registers (`compute_live_registers()`, a dataflow pass before the walk) and
//! which stack slots (kernel/bpf/liveness.c, marks collected during the walk per call chain and
//! propagated when paths end) may still be read. Pruning ignores the rest.

use crate::env::Env;
use crate::error::Result;
use crate::precision::fmt_stack_mask;
use crate::state::*;
use crate::verbose;
use kfvm_isa::RawInsn;
use std::collections::HashMap;

/// Mirrors `bpf_insn_successors()`.
pub fn insn_successors(insns: &[RawInsn], idx: usize) -> Vec<usize> {
    let insn = insns[idx];
    let cls = insn.code & 7;
    let op = insn.code & 0xf0;
    let is_jmp = cls == 5 || cls == 6;
    let (can_jump, can_fall) = if is_jmp {
        match op {
            0x90 => (false, false),
            0x00 => (true, false),
            0x80 => (false, true),
            _ => (true, true),
        }
    } else {
        (false, true)
    };
    let mut v = Vec::with_capacity(2);
    let sz = if insn.code == 0x18 { 2 } else { 1 };
    if can_fall {
        v.push(idx + sz);
    }
    if can_jump {
        let off = if insn.code == 6 { insn.imm as i64 } else { insn.off as i64 };
        v.push((idx as i64 + off + 1) as usize);
    }
    v
}

/// Mirrors `compute_postorder()`: for each subprogram, its instructions in post-order.
pub fn compute_postorder(env: &mut Env<'_>) {
    let n = env.insns.len();
    let mut state = vec![0u8; n];
    let mut post = Vec::with_capacity(n);
    for i in 0..env.subprog_cnt {
        env.subprogs[i].postorder_start = post.len();
        let mut stack = vec![env.subprogs[i].start];
        while let Some(&top) = stack.last() {
            state[top] |= 0x10;
            if state[top] & 0x20 != 0 {
                post.push(top);
                stack.pop();
                continue;
            }
            for s in insn_successors(&env.insns, top) {
                if state[s] == 0 {
                    stack.push(s);
                    state[s] |= 0x10;
                }
            }
            state[top] |= 0x20;
        }
    }
    let cnt = env.subprog_cnt;
    env.subprogs[cnt].postorder_start = post.len();
    env.postorder = post;
}

/// Mirrors `compute_insn_live_regs()`: (use, def).
fn insn_use_def(insns: &[RawInsn], idx: usize, opts: &crate::env::CheckOptions) -> (u16, u16) {
    let insn = insns[idx];
    let cls = insn.code & 7;
    let code = insn.code & 0xf0;
    let mode = insn.code & 0xe0;
    let src: u16 = 1 << insn.src();
    let dst: u16 = 1 << insn.dst();
    let r0: u16 = 1;
    let (mut def, mut use_) = (0u16, 0xffffu16);
    match cls {
        0 => {
            if mode == 0 && insn.code & 0x18 == 0x18 {
                def = dst;
                use_ = 0;
            }
        }
        1 => {
            if mode == 0x60 || mode == 0x80 {
                def = dst;
                use_ = src;
            }
        }
        2 => {
            if mode == 0x60 {
                def = 0;
                use_ = dst;
            }
        }
        3 => {
            if mode == 0x60 {
                def = 0;
                use_ = dst | src;
            } else if mode == 0xc0 {
                match insn.imm {
                    kfvm_isa::AtomicOp::CMPXCHG => {
                        use_ = r0 | dst | src;
                        def = r0;
                    }
                    kfvm_isa::AtomicOp::LOAD_ACQ => {
                        def = dst;
                        use_ = src;
                    }
                    kfvm_isa::AtomicOp::STORE_REL => {
                        def = 0;
                        use_ = dst | src;
                    }
                    imm => {
                        use_ = dst | src;
                        def = if imm & 1 != 0 { src } else { 0 };
                    }
                }
            }
        }
        4 | 7 => match code {
            0xd0 => {
                use_ = dst;
                def = dst;
            }
            0xb0 => {
                def = dst;
                use_ = if insn.code & 0x08 == 0 { 0 } else { src };
            }
            _ => {
                def = dst;
                use_ = if insn.code & 0x08 == 0 { dst } else { dst | src };
            }
        },
        _ => match code {
            0x00 => {
                def = 0;
                use_ = if insn.code & 0x08 != 0 { dst } else { 0 };
            }
            0xe0 => {
                def = 0;
                use_ = 0;
            }
            0x90 => {
                def = 0;
                use_ = r0;
            }
            0x80 => {
                def = 0x3f;
                use_ = def & !1;
                if insn.src() == 0 {
                    if let Some(p) = crate::helpers::proto_of(insn.imm) {
                        let n =
                            p.args.iter().take_while(|a| **a != crate::helpers::ArgType::DontCare).count();
                        use_ = ((1u16 << (n + 1)) - 1) & !1;
                    }
                } else if insn.src() == 2 {
                    if let Some(n) = crate::kfunc::kfunc_num_params(opts, insn.imm, insn.off) {
                        use_ = ((1u16 << (n + 1)) - 1) & !1;
                    }
                }
            }
            _ => {
                def = 0;
                use_ = if insn.code & 0x08 == 0 { dst } else { dst | src };
            }
        },
    }
    (use_, def)
}

/// Mirrors `compute_live_registers()`, with the `Live regs before insn:` listing at level 2.
pub fn compute_live_registers(env: &mut Env<'_>) {
    let n = env.insns.len();
    let ud: Vec<(u16, u16)> = (0..n).map(|i| insn_use_def(&env.insns, i, env.opts)).collect();
    let mut inn = vec![0u16; n];
    let mut out = vec![0u16; n];
    let mut changed = true;
    while changed {
        changed = false;
        for &idx in &env.postorder {
            let mut new_out = 0u16;
            for s in insn_successors(&env.insns, idx) {
                new_out |= inn[s];
            }
            let new_in = (new_out & !ud[idx].1) | ud[idx].0;
            if new_out != out[idx] || new_in != inn[idx] {
                inn[idx] = new_in;
                out[idx] = new_out;
                changed = true;
            }
        }
    }
    for (aux, live) in env.aux.iter_mut().zip(&inn) {
        aux.live_regs_before = *live;
    }
    if env.log.level2() {
        verbose!(env.log, "Live regs before insn:\n");
        let mut i = 0;
        while i < n {
            if env.aux[i].scc != 0 {
                verbose!(env.log, "{:3} ", env.aux[i].scc);
            } else {
                verbose!(env.log, "    ");
            }
            verbose!(env.log, "{i:3}: ");
            for j in 0..10 {
                if inn[i] & (1 << j) != 0 {
                    verbose!(env.log, "{j}");
                } else {
                    verbose!(env.log, ".");
                }
            }
            verbose!(env.log, " ");
            env.verbose_insn(i);
            if env.insns[i].code == 0x18 {
                i += 1;
            }
            i += 1;
        }
    }
}

/// `struct per_frame_masks`.
#[derive(Clone, Copy, Debug, Default)]
struct Masks {
    may_read: u64,
    must_write: u64,
    must_write_acc: u64,
    live_before: u64,
}

/// `struct callchain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
struct Callchain {
    callsites: [u32; MAX_CALL_FRAMES],
    sp_starts: [u32; MAX_CALL_FRAMES],
    curframe: u32,
}

/// `struct func_instance`.
#[derive(Clone, Debug)]
struct Instance {
    callchain: Callchain,
    insn_cnt: usize,
    updated: bool,
    must_write_dropped: bool,
    frames: Vec<Option<Vec<Masks>>>,
    must_write_set: Vec<bool>,
}

/// The stack liveness analysis (`struct bpf_liveness`).
#[derive(Clone, Debug, Default)]
pub struct Liveness {
    instances: Vec<Instance>,
    by_key: HashMap<Vec<u32>, usize>,
    cur_instance: Option<usize>,
    write_masks_acc: [u64; MAX_CALL_FRAMES],
    write_insn_idx: u32,
    query: Vec<Option<usize>>,
    query_curframe: u32,
    query_insn_idx: u32,
}

fn key_of(cc: &Callchain) -> Vec<u32> {
    cc.callsites[..=cc.curframe as usize].to_vec()
}

/// Mirrors `compute_callchain()`.
fn compute_callchain(env: &Env<'_>, st: &VerifierState, frameno: usize) -> Callchain {
    let mut cc = Callchain::default();
    for i in 0..=frameno {
        cc.sp_starts[i] = env.subprogs[st.frame[i].subprogno as usize].start as u32;
        if i < st.curframe() {
            cc.callsites[i] = st.frame[i + 1].callsite as u32;
        }
    }
    cc.curframe = frameno as u32;
    cc.callsites[frameno] = cc.sp_starts[frameno];
    cc
}

/// Mirrors `__lookup_instance()`.
fn lookup_instance_cc(env: &mut Env<'_>, cc: Callchain) -> usize {
    let key = key_of(&cc);
    if let Some(&i) = env.liveness.by_key.get(&key) {
        return i;
    }
    let start = cc.sp_starts[cc.curframe as usize] as usize;
    let sp = env.find_containing_subprog(start);
    let sz = env.subprogs[sp + 1].start - env.subprogs[sp].start;
    let inst = Instance {
        callchain: cc,
        insn_cnt: sz,
        updated: false,
        must_write_dropped: false,
        frames: vec![None; MAX_CALL_FRAMES],
        must_write_set: vec![false; sz],
    };
    env.liveness.instances.push(inst);
    let i = env.liveness.instances.len() - 1;
    env.liveness.by_key.insert(key, i);
    i
}

fn lookup_instance(env: &mut Env<'_>, st: &VerifierState, frameno: usize) -> usize {
    let cc = compute_callchain(env, st, frameno);
    lookup_instance_cc(env, cc)
}

fn relative_idx(inst: &Instance, insn_idx: u32) -> usize {
    (insn_idx - inst.callchain.sp_starts[inst.callchain.curframe as usize]) as usize
}

fn frame_masks(inst: &mut Instance, frame: usize, insn_idx: u32) -> &mut Masks {
    let n = inst.insn_cnt;
    let rel = relative_idx(inst, insn_idx);
    let f = inst.frames[frame].get_or_insert_with(|| vec![Masks::default(); n]);
    &mut f[rel]
}

fn get_masks(inst: &Instance, frame: usize, insn_idx: u32) -> Option<&Masks> {
    let rel = relative_idx(inst, insn_idx);
    inst.frames.get(frame)?.as_ref().map(|f| &f[rel])
}

/// Mirrors `bpf_reset_live_stack_callchain()`.
pub fn bpf_reset_live_stack_callchain(env: &mut Env<'_>) {
    env.liveness.cur_instance = None;
}

fn ensure_cur_instance(env: &mut Env<'_>) -> usize {
    if let Some(i) = env.liveness.cur_instance {
        return i;
    }
    let cc = compute_callchain(env, &env.cur, env.cur.curframe());
    let i = lookup_instance_cc(env, cc);
    env.liveness.cur_instance = Some(i);
    i
}

fn mark_stack_read_inst(env: &mut Env<'_>, inst: usize, frame: usize, insn_idx: u32, mask: u64) {
    let inst = &mut env.liveness.instances[inst];
    let m = frame_masks(inst, frame, insn_idx);
    let new = m.may_read | mask;
    let updated = new != m.may_read && (new | m.live_before) != m.live_before;
    m.may_read = new;
    if updated {
        inst.updated = true;
    }
}

/// Mirrors `bpf_mark_stack_read()`.
pub fn bpf_mark_stack_read(env: &mut Env<'_>, frame: u32, insn_idx: u32, mask: u64) -> Result<()> {
    let i = ensure_cur_instance(env);
    mark_stack_read_inst(env, i, frame as usize, insn_idx, mask);
    Ok(())
}

fn reset_stack_write_marks(env: &mut Env<'_>, inst: usize, insn_idx: u32) {
    env.liveness.write_insn_idx = insn_idx;
    let cf = env.liveness.instances[inst].callchain.curframe as usize;
    for i in 0..=cf {
        env.liveness.write_masks_acc[i] = 0;
    }
}

/// Mirrors `bpf_reset_stack_write_marks()`.
pub fn bpf_reset_stack_write_marks(env: &mut Env<'_>, insn_idx: u32) -> Result<()> {
    let i = ensure_cur_instance(env);
    reset_stack_write_marks(env, i, insn_idx);
    Ok(())
}

/// Mirrors `bpf_mark_stack_write()`.
pub fn bpf_mark_stack_write(env: &mut Env<'_>, frame: u32, mask: u64) {
    env.liveness.write_masks_acc[frame as usize] |= mask;
}

fn commit_stack_write_marks(env: &mut Env<'_>, inst: Option<usize>) {
    let Some(inst) = inst else { return };
    let lv = &mut env.liveness;
    let widx = lv.write_insn_idx;
    let acc = lv.write_masks_acc;
    let instance = &mut lv.instances[inst];
    let cf = instance.callchain.curframe as usize;
    let idx = relative_idx(instance, widx);
    for (frame, &acc_mask) in acc.iter().enumerate().take(cf + 1) {
        let mut mask = acc_mask;
        if mask == 0 && !instance.must_write_set[idx] {
            continue;
        }
        let set = instance.must_write_set[idx];
        let m = frame_masks(instance, frame, widx);
        let old = m.must_write;
        if set {
            mask &= old;
        }
        let mut updated = false;
        if old != mask {
            m.must_write = mask;
            updated = true;
        }
        let dropped = old & !mask != 0;
        if updated {
            instance.updated = true;
        }
        if dropped {
            instance.must_write_dropped = true;
        }
    }
    instance.must_write_set[idx] = true;
    lv.write_insn_idx = 0;
}

/// Mirrors `bpf_commit_stack_write_marks()`.
pub fn bpf_commit_stack_write_marks(env: &mut Env<'_>) -> Result<()> {
    let i = env.liveness.cur_instance;
    commit_stack_write_marks(env, i);
    Ok(())
}

/// Mirrors `fmt_callchain()`.
fn fmt_callchain(cc: &Callchain) -> String {
    let parts: Vec<String> = cc.callsites[..=cc.curframe as usize].iter().map(|c| c.to_string()).collect();
    format!("({})", parts.join(","))
}

/// Mirrors `log_mask_change()`.
fn log_mask_change(
    env: &mut Env<'_>,
    cc: &Callchain,
    pfx: &str,
    frame: usize,
    insn_idx: usize,
    old: u64,
    new: u64,
) {
    let changed = old ^ new;
    let ones = new & changed;
    let zeros = !new & changed;
    if changed == 0 {
        return;
    }
    verbose!(env.log, "{} frame {frame} insn {insn_idx} ", fmt_callchain(cc));
    if ones != 0 {
        verbose!(env.log, "+{pfx} {} ", fmt_stack_mask(ones));
    }
    if zeros != 0 {
        verbose!(env.log, "-{pfx} {}", fmt_stack_mask(zeros));
    }
    verbose!(env.log, "\n");
}

/// Mirrors `update_insn()`.
fn update_insn(env: &mut Env<'_>, inst: usize, frame: usize, insn_idx: usize) -> bool {
    let succ = insn_successors(&env.insns, insn_idx);
    if succ.is_empty() {
        return false;
    }
    let (mut new_after, mut mwa) = (0u64, u64::MAX);
    {
        let instance = &env.liveness.instances[inst];
        for &s in &succ {
            let m = get_masks(instance, frame, s as u32).copied().unwrap_or_default();
            new_after |= m.live_before;
            mwa &= m.must_write_acc;
        }
    }
    let instance = &mut env.liveness.instances[inst];
    let cc = instance.callchain;
    let m = *frame_masks(instance, frame, insn_idx as u32);
    mwa |= m.must_write;
    let new_before = (new_after & !m.must_write) | m.may_read;
    let changed = new_before != m.live_before || mwa != m.must_write_acc;
    let sub_start = cc.sp_starts[cc.curframe as usize] as usize;
    if env.log.level2()
        && (m.may_read != 0 || m.must_write != 0 || insn_idx == sub_start || env.aux[insn_idx].prune_point)
    {
        log_mask_change(env, &cc, "live", frame, insn_idx, m.live_before, new_before);
        log_mask_change(env, &cc, "written", frame, insn_idx, m.must_write_acc, mwa);
    }
    let mm = frame_masks(&mut env.liveness.instances[inst], frame, insn_idx as u32);
    mm.live_before = new_before;
    mm.must_write_acc = mwa;
    changed
}

/// Mirrors `update_instance()`.
fn update_instance(env: &mut Env<'_>, inst: usize) -> Result<()> {
    let cc = env.liveness.instances[inst].callchain;
    let this_start = cc.sp_starts[cc.curframe as usize];
    if env.liveness.instances[inst].must_write_dropped {
        let instance = &mut env.liveness.instances[inst];
        for f in instance.frames.iter_mut().take(cc.curframe as usize + 1).flatten() {
            for m in f.iter_mut() {
                m.must_write_acc = 0;
            }
        }
    }
    let sp = env.find_containing_subprog(this_start as usize);
    let (po_start, po_end) = (env.subprogs[sp].postorder_start, env.subprogs[sp + 1].postorder_start);
    let mut cnt = 0;
    loop {
        cnt += 1;
        let mut changed = false;
        for frame in 0..=cc.curframe as usize {
            if env.liveness.instances[inst].frames[frame].is_none() {
                continue;
            }
            for i in po_start..po_end {
                let idx = env.postorder[i];
                changed |= update_insn(env, inst, frame, idx);
            }
        }
        if !changed {
            break;
        }
    }
    if env.log.level2() {
        verbose!(env.log, "{} live stack update done in {cnt} iterations\n", fmt_callchain(&cc));
    }
    if cc.curframe > 0 {
        propagate_to_outer_instance(env, inst);
    }
    Ok(())
}

/// Mirrors `propagate_to_outer_instance()`.
fn propagate_to_outer_instance(env: &mut Env<'_>, inst: usize) {
    let cc = env.liveness.instances[inst].callchain;
    let this_start = cc.sp_starts[cc.curframe as usize];
    let mut outer = cc;
    outer.callsites[outer.curframe as usize] = 0;
    outer.sp_starts[outer.curframe as usize] = 0;
    outer.curframe -= 1;
    outer.callsites[outer.curframe as usize] = outer.sp_starts[outer.curframe as usize];
    let outer_i = lookup_instance_cc(env, outer);
    let callsite = cc.callsites[cc.curframe as usize - 1];
    reset_stack_write_marks(env, outer_i, callsite);
    for frame in 0..cc.curframe as usize {
        let Some(m) = get_masks(&env.liveness.instances[inst], frame, this_start).copied() else { continue };
        bpf_mark_stack_write(env, frame as u32, m.must_write_acc);
        mark_stack_read_inst(env, outer_i, frame, callsite, m.live_before);
    }
    commit_stack_write_marks(env, Some(outer_i));
}

/// Mirrors `bpf_update_live_stack()`: propagates the marks of every frame of the current
/// state's call chain.
pub fn bpf_update_live_stack(env: &mut Env<'_>) -> Result<()> {
    bpf_reset_live_stack_callchain(env);
    for frame in (0..=env.cur.curframe()).rev() {
        let cc = compute_callchain(env, &env.cur, frame);
        let i = lookup_instance_cc(env, cc);
        if env.liveness.instances[i].updated {
            update_instance(env, i)?;
            env.liveness.instances[i].updated = false;
            env.liveness.instances[i].must_write_dropped = false;
        }
    }
    Ok(())
}

/// Mirrors `bpf_live_stack_query_init()`.
pub fn bpf_live_stack_query_init(env: &mut Env<'_>, st: &VerifierState) {
    let mut q = Vec::new();
    for frame in 0..=st.curframe() {
        q.push(Some(lookup_instance(env, st, frame)));
    }
    env.liveness.query = q;
    env.liveness.query_curframe = st.curframe() as u32;
    env.liveness.query_insn_idx = st.insn_idx;
}

fn is_live_before(inst: &Instance, insn_idx: u32, frameno: u32, spi: u32) -> bool {
    get_masks(inst, frameno as usize, insn_idx).is_some_and(|m| m.live_before & (1u64 << spi) != 0)
}

/// Mirrors `bpf_stack_slot_alive()`.
pub fn bpf_stack_slot_alive(env: &Env<'_>, frameno: u32, spi: u32) -> bool {
    let lv = &env.liveness;
    let Some(Some(ci)) = lv.query.get(lv.query_curframe as usize) else { return true };
    let cur = &lv.instances[*ci];
    if is_live_before(cur, lv.query_insn_idx, frameno, spi) {
        return true;
    }
    for i in frameno..lv.query_curframe {
        let callsite = cur.callchain.callsites[i as usize];
        let Some(Some(ii)) = lv.query.get(i as usize) else { return true };
        let inst = &lv.instances[*ii];
        let alive = if env.calls_callback(callsite as usize) {
            is_live_before(inst, callsite, frameno, spi)
        } else {
            is_live_before(inst, callsite + 1, frameno, spi)
        };
        if alive {
            return true;
        }
    }
    false
}
