//! State pruning: checkpoints (`is_state_visited()`), their equivalence (`states_equal()`,
//! `func_states_equal()`, `regsafe()`, `stacksafe()`, `refsafe()` with `range_within()` and
//! `tnum_in()`), the clean-up of dead registers and slots in finished checkpoints
//! (`clean_live_states()`), and loops: strongly connected components of the control-flow graph
//! (`compute_scc()`, `maybe_enter_scc()`, `maybe_exit_scc()`, back-edges and their mark
//! propagation), infinite-loop detection and the loop heuristics of `is_state_visited()`.

use crate::env::*;
use crate::error::{Errno, Result};
use crate::precision::{mark_all_scalars_precise, mark_chain_precision_from};
use crate::state::*;
use crate::verbose;

/// `BPF_ID_MAP_SIZE`.
const BPF_ID_MAP_SIZE: usize = (MAX_BPF_REG + MAX_BPF_STACK as usize / BPF_REG_SIZE) * MAX_CALL_FRAMES;

/// `enum exact_level`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exact {
    /// `NOT_EXACT`.
    NotExact,
    /// `EXACT`.
    Exact,
    /// `RANGE_WITHIN`.
    RangeWithin,
}

/// `struct bpf_idmap`.
#[derive(Clone, Debug)]
pub struct IdMap {
    map: Vec<(u32, u32)>,
    tmp_id_gen: u32,
}

impl IdMap {
    /// `reset_idmap_scratch()`.
    pub fn new(id_gen: u32) -> IdMap {
        IdMap { map: Vec::new(), tmp_id_gen: id_gen }
    }

    /// Mirrors `check_ids()`.
    pub fn check_ids(&mut self, old_id: u32, cur_id: u32) -> bool {
        if (old_id != 0) != (cur_id != 0) {
            return false;
        }
        if old_id == 0 {
            return true;
        }
        for &(o, c) in &self.map {
            if o == old_id {
                return c == cur_id;
            }
            if c == cur_id {
                return false;
            }
        }
        if self.map.len() < BPF_ID_MAP_SIZE {
            self.map.push((old_id, cur_id));
            return true;
        }
        false
    }

    /// Mirrors `check_scalar_ids()`: an old register without id constrains nothing; a current one
    /// without id gets a temporary id so that two of them cannot satisfy one old link.
    pub fn check_scalar_ids(&mut self, old_id: u32, cur_id: u32) -> bool {
        if old_id == 0 {
            return true;
        }
        let cur_id = if cur_id != 0 {
            cur_id
        } else {
            self.tmp_id_gen += 1;
            self.tmp_id_gen
        };
        self.check_ids(old_id, cur_id)
    }
}

/// Mirrors `range_within()`.
fn range_within(old: &RegState, cur: &RegState) -> bool {
    let (o, c) = (&old.s, &cur.s);
    o.umin_value <= c.umin_value
        && o.umax_value >= c.umax_value
        && o.smin_value <= c.smin_value
        && o.smax_value >= c.smax_value
        && o.u32_min_value <= c.u32_min_value
        && o.u32_max_value >= c.u32_max_value
        && o.s32_min_value <= c.s32_min_value
        && o.s32_max_value >= c.s32_max_value
}

/// Mirrors `regs_exact()`.
pub fn regs_exact(rold: &RegState, rcur: &RegState, idmap: &mut IdMap) -> bool {
    rold.upto_id_eq(rcur)
        && idmap.check_ids(rold.id, rcur.id)
        && idmap.check_ids(rold.ref_obj_id, rcur.ref_obj_id)
}

/// Mirrors `regsafe()`: whether `rold` being safe implies `rcur` is.
fn regsafe(rold: &RegState, rcur: &RegState, idmap: &mut IdMap, exact: Exact) -> bool {
    if exact == Exact::Exact {
        return regs_exact(rold, rcur, idmap);
    }
    if rold.ty == NOT_INIT && (exact == Exact::NotExact || rcur.ty == NOT_INIT) {
        // The explored state cannot have used it.
        return true;
    }
    if rold.ty != rcur.ty {
        return false;
    }
    match base_type(rold.ty) {
        SCALAR_VALUE => {
            if !rold.precise && exact == Exact::NotExact {
                return true;
            }
            // The live kernel carries the later rules for linked scalars: an old register
            // without id accepts any linking in the current one.
            if rold.id & BPF_ADD_CONST != 0 && rcur.id & BPF_ADD_CONST == 0 {
                return false;
            }
            if rold.id != 0 && rold.id & BPF_ADD_CONST == 0 && rcur.id & BPF_ADD_CONST != 0 {
                return false;
            }
            if rold.id & BPF_ADD_CONST != 0 && rold.off != rcur.off {
                return false;
            }
            // Linked scalars are compared by their base ids: `r6 = fp-16 + 1` (ids `1+1` and `1`)
            // and an unlinked `r6` (`9+1`) beside `fp-16` (`1`) are different states, as the
            // live kernel decides (examples/iterfuzz.rs found it at iterator loops).
            if !idmap.check_scalar_ids(rold.id & !BPF_ADD_CONST, rcur.id & !BPF_ADD_CONST) {
                return false;
            }
            range_within(rold, rcur) && rold.s.var_off.contains(rcur.s.var_off)
        }
        PTR_TO_MAP_KEY | PTR_TO_MAP_VALUE | PTR_TO_MEM | PTR_TO_BUF | PTR_TO_TP_BUFFER => {
            rold.head_eq(rcur)
                && range_within(rold, rcur)
                && rold.s.var_off.contains(rcur.s.var_off)
                && idmap.check_ids(rold.id, rcur.id)
                && idmap.check_ids(rold.ref_obj_id, rcur.ref_obj_id)
        }
        PTR_TO_PACKET_META | PTR_TO_PACKET => {
            if rold.range > rcur.range {
                return false;
            }
            if !idmap.check_ids(rold.id, rcur.id) {
                return false;
            }
            range_within(rold, rcur) && rold.s.var_off.contains(rcur.s.var_off)
        }
        PTR_TO_STACK => regs_exact(rold, rcur, idmap) && rold.frameno == rcur.frameno,
        PTR_TO_ARENA => true,
        _ => regs_exact(rold, rcur, idmap),
    }
}

/// Whether a slot holds 8 bytes of misc data (`is_stack_all_misc()`).
fn is_stack_all_misc(env: &Env<'_>, st: &StackState) -> bool {
    st.slot_type.iter().all(|&t| t == slot::MISC || (t == slot::INVALID && env.allow_uninit_stack))
}

/// Mirrors `scalar_reg_for_stack()`.
fn scalar_reg_for_stack(env: &Env<'_>, st: &StackState) -> Option<RegState> {
    if st.is_spilled_scalar_reg64() {
        return Some(st.spilled_ptr.clone());
    }
    if is_stack_all_misc(env, st) {
        let mut r = RegState::not_init();
        r.mark_unknown_imprecise();
        return Some(r);
    }
    None
}

/// Mirrors `stacksafe()`.
fn stacksafe(env: &Env<'_>, old: &FuncState, cur: &FuncState, idmap: &mut IdMap, exact: Exact) -> bool {
    let old_alloc = old.allocated_stack();
    let cur_alloc = cur.allocated_stack();
    let mut i = 0;
    while i < old_alloc {
        let spi = i / BPF_REG_SIZE;
        let b = i % BPF_REG_SIZE;
        let ot = old.stack[spi].slot_type[b];
        if exact != Exact::NotExact && (i >= cur_alloc || ot != cur.stack[spi].slot_type[b]) {
            return false;
        }
        if ot == slot::INVALID {
            i += 1;
            continue;
        }
        if env.allow_uninit_stack && ot == slot::MISC {
            i += 1;
            continue;
        }
        if i >= cur_alloc {
            return false;
        }
        let ct = cur.stack[spi].slot_type[b];
        if let (Some(o), Some(c)) =
            (scalar_reg_for_stack(env, &old.stack[spi]), scalar_reg_for_stack(env, &cur.stack[spi]))
        {
            if !regsafe(&o, &c, idmap, exact) {
                return false;
            }
            i += BPF_REG_SIZE;
            continue;
        }
        if ot == slot::MISC && ct == slot::ZERO {
            i += 1;
            continue;
        }
        if ot != ct {
            return false;
        }
        if b != BPF_REG_SIZE - 1 {
            i += 1;
            continue;
        }
        let (or, cr) = (&old.stack[spi].spilled_ptr, &cur.stack[spi].spilled_ptr);
        match old.stack[spi].slot_type[BPF_REG_SIZE - 1] {
            slot::SPILL => {
                if !regsafe(or, cr, idmap, exact) {
                    return false;
                }
            }
            slot::DYNPTR => {
                if or.dynptr_type != cr.dynptr_type
                    || or.dynptr_first_slot != cr.dynptr_first_slot
                    || !idmap.check_ids(or.ref_obj_id, cr.ref_obj_id)
                {
                    return false;
                }
            }
            slot::ITER => {
                if or.btf != cr.btf
                    || or.btf_id != cr.btf_id
                    || or.iter_state != cr.iter_state
                    || !idmap.check_ids(or.ref_obj_id, cr.ref_obj_id)
                {
                    return false;
                }
            }
            slot::IRQ_FLAG => {
                if !idmap.check_ids(or.ref_obj_id, cr.ref_obj_id) || or.irq_kfunc_class != cr.irq_kfunc_class
                {
                    return false;
                }
            }
            slot::MISC | slot::ZERO | slot::INVALID => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// Mirrors `refsafe()`.
fn refsafe(old: &VerifierState, cur: &VerifierState, idmap: &mut IdMap) -> bool {
    if old.refs.len() != cur.refs.len()
        || old.active_locks != cur.active_locks
        || old.active_preempt_locks != cur.active_preempt_locks
        || old.active_rcu_locks != cur.active_rcu_locks
    {
        return false;
    }
    if !idmap.check_ids(old.active_irq_id, cur.active_irq_id) {
        return false;
    }
    if !idmap.check_ids(old.active_lock_id, cur.active_lock_id) || old.active_lock_ptr != cur.active_lock_ptr
    {
        return false;
    }
    for (o, c) in old.refs.iter().zip(cur.refs.iter()) {
        if !idmap.check_ids(o.id, c.id) || o.ty != c.ty {
            return false;
        }
        if matches!(o.ty, RefType::Lock | RefType::ResLock | RefType::ResLockIrq) && o.ptr != c.ptr {
            return false;
        }
    }
    true
}

/// Mirrors `func_states_equal()`.
fn func_states_equal(
    env: &Env<'_>,
    old: &FuncState,
    cur: &FuncState,
    insn_idx: u32,
    idmap: &mut IdMap,
    exact: Exact,
) -> bool {
    let live = env.aux[insn_idx as usize].live_regs_before;
    if old.callback_depth > cur.callback_depth {
        return false;
    }
    for i in 0..MAX_BPF_REG {
        if live & (1 << i) != 0 && !regsafe(&old.regs[i], &cur.regs[i], idmap, exact) {
            return false;
        }
    }
    stacksafe(env, old, cur, idmap, exact)
}

/// Mirrors `states_equal()`.
pub fn states_equal(env: &Env<'_>, old: &VerifierState, cur: &VerifierState, exact: Exact) -> bool {
    if old.curframe() != cur.curframe() {
        return false;
    }
    let mut idmap = IdMap::new(env.id_gen);
    if old.speculative && !cur.speculative {
        return false;
    }
    if old.in_sleepable != cur.in_sleepable {
        return false;
    }
    if !refsafe(old, cur, &mut idmap) {
        return false;
    }
    for i in 0..=old.curframe() {
        let insn_idx = old.frame_insn_idx(i);
        if old.frame[i].callsite != cur.frame[i].callsite {
            return false;
        }
        if !func_states_equal(env, &old.frame[i], &cur.frame[i], insn_idx, &mut idmap, exact) {
            return false;
        }
    }
    true
}

/// Mirrors `same_callsites()`.
pub fn same_callsites(a: &VerifierState, b: &VerifierState) -> bool {
    if a.curframe() != b.curframe() {
        return false;
    }
    (0..=a.curframe()).rev().all(|fr| a.frame[fr].callsite == b.frame[fr].callsite)
}

/// Mirrors `explored_state()`: the hash bucket of `(insn_idx, callsite)`.
pub fn explored_bucket(env: &Env<'_>, insn_idx: u32, st: &VerifierState) -> usize {
    let cs = st.cur().callsite as u32;
    ((insn_idx ^ cs) % env.insns.len() as u32) as usize
}

/// Mirrors `clean_func_state()`.
fn clean_func_state(env: &Env<'_>, st: &mut FuncState, ip: u32, alive: &dyn Fn(u32, u32) -> bool) {
    let live = env.aux[ip as usize].live_regs_before;
    for i in 0..BPF_REG_FP {
        if live & (1 << i) == 0 {
            st.regs[i].mark_not_init(env.bpf_capable);
        }
    }
    for i in 0..st.stack.len() {
        if !alive(st.frameno, i as u32) {
            st.stack[i].spilled_ptr.mark_not_init(env.bpf_capable);
            st.stack[i].slot_type = [slot::INVALID; BPF_REG_SIZE];
        }
    }
}

/// Mirrors `clean_verifier_state()`.
fn clean_verifier_state(env: &mut Env<'_>, id: StateId) {
    let st = env.states[id].state.clone();
    crate::liveness::bpf_live_stack_query_init(env, &st);
    let mut st = st;
    st.cleaned = true;
    for i in 0..=st.curframe() {
        let ip = st.frame_insn_idx(i);
        let alive = |fr: u32, spi: u32| crate::liveness::bpf_stack_slot_alive(env, fr, spi);
        let mut f = std::mem::replace(&mut st.frame[i], FuncState::new(0, 0, 0));
        clean_func_state(env, &mut f, ip, &alive);
        st.frame[i] = f;
    }
    env.states[id].state = st;
}

/// Mirrors `clean_live_states()`.
fn clean_live_states(env: &mut Env<'_>, insn: u32) {
    let bucket = explored_bucket(env, insn, &env.cur);
    let ids: Vec<StateId> = env.explored[bucket].iter().rev().copied().collect();
    for id in ids {
        let st = &env.states[id].state;
        if st.branches != 0 {
            continue;
        }
        if st.insn_idx != insn || !same_callsites(st, &env.cur) {
            continue;
        }
        if st.cleaned {
            continue;
        }
        if incomplete_read_marks(env, id) {
            continue;
        }
        clean_verifier_state(env, id);
    }
}

/// Mirrors `states_maybe_looping()`.
fn states_maybe_looping(old: &VerifierState, cur: &VerifierState) -> bool {
    let fr = cur.curframe();
    if old.curframe() != fr {
        return false;
    }
    (0..MAX_BPF_REG).all(|i| old.frame[fr].regs[i].upto_frameno_eq(&cur.frame[fr].regs[i]))
}

/// Mirrors `iter_active_depths_differ()`.
fn iter_active_depths_differ(old: &VerifierState, cur: &VerifierState) -> bool {
    for fr in (0..=old.curframe()).rev() {
        let st = &old.frame[fr];
        for (i, s) in st.stack.iter().enumerate() {
            if s.slot_type[0] != slot::ITER || s.spilled_ptr.iter_state != IterState::Active {
                continue;
            }
            if cur.frame[fr].stack.get(i).map(|c| c.spilled_ptr.iter_depth) != Some(s.spilled_ptr.iter_depth)
            {
                return true;
            }
        }
    }
    false
}

/// The iterator state `R1` of an `iter_next()` call points to is active (the part of
/// `is_state_visited()` after `states_equal()` found the current state valid).
fn iter_next_active(env: &Env<'_>) -> bool {
    let cf = env.cur.curframe();
    // btf_check_iter_kfuncs() makes the iterator the first argument.
    let iter_reg = &env.cur.frame[cf].regs[1];
    let spi = crate::iter::get_spi(iter_reg.off.wrapping_add(iter_reg.s.var_off.value as i32));
    let Some(fr) = env.cur.frame.get(iter_reg.frameno as usize) else { return false };
    usize::try_from(spi)
        .ok()
        .and_then(|spi| fr.stack.get(spi))
        .is_some_and(|s| s.spilled_ptr.iter_state == IterState::Active)
}

/// Mirrors `update_peak_states()`.
fn update_peak_states(env: &mut Env<'_>) {
    let cur = env.explored_states_size + env.free_list_size + env.num_backedges;
    env.peak_states = env.peak_states.max(cur);
}

/// Mirrors `maybe_free_verifier_state()`.
pub fn maybe_free_verifier_state(env: &mut Env<'_>, id: StateId) {
    let e = &env.states[id];
    if !e.in_free_list || e.freed || e.state.branches != 0 || incomplete_read_marks(env, id) {
        return;
    }
    env.states[id].freed = true;
    env.free_list_size -= 1;
}

/// Mirrors `compute_scc_callchain()`.
fn compute_scc_callchain(env: &Env<'_>, st: &VerifierState) -> Option<SccCallchain> {
    let mut cc = SccCallchain::default();
    for i in 0..=st.curframe() {
        let insn_idx = st.frame_insn_idx(i);
        let scc = env.aux[insn_idx as usize].scc;
        if scc != 0 {
            cc.scc = scc;
            return Some(cc);
        } else if i < st.curframe() {
            cc.callsites[i] = insn_idx;
        } else {
            return None;
        }
    }
    None
}

/// Mirrors `format_callchain()`.
fn format_callchain(cc: &SccCallchain) -> String {
    let mut s = String::from("(");
    for &c in cc.callsites.iter().take_while(|&&c| c != 0) {
        s.push_str(&format!("{c},"));
    }
    s.push_str(&format!("{})", cc.scc));
    s
}

/// Mirrors `scc_visit_lookup()`: the index of the visit in `env.scc_visits[scc]`.
fn scc_visit_lookup(env: &Env<'_>, cc: &SccCallchain) -> Option<usize> {
    env.scc_visits.get(cc.scc as usize)?.iter().position(|v| v.callchain == *cc)
}

/// Mirrors `maybe_enter_scc()`.
fn maybe_enter_scc(env: &mut Env<'_>, id: StateId) {
    let Some(cc) = compute_scc_callchain(env, &env.states[id].state) else { return };
    let vi = match scc_visit_lookup(env, &cc) {
        Some(v) => v,
        None => {
            let list = &mut env.scc_visits[cc.scc as usize];
            list.push(SccVisit { callchain: cc, entry_state: None, backedges: Vec::new() });
            list.len() - 1
        }
    };
    let v = &mut env.scc_visits[cc.scc as usize][vi];
    if v.entry_state.is_none() {
        v.entry_state = Some(id);
        if env.log.level2() {
            verbose!(env.log, "SCC enter {}\n", format_callchain(&cc));
        }
    }
}

/// Mirrors `maybe_exit_scc()`.
pub fn maybe_exit_scc(env: &mut Env<'_>, id: StateId) -> Result<()> {
    let Some(cc) = compute_scc_callchain(env, &env.states[id].state) else { return Ok(()) };
    let Some(vi) = scc_visit_lookup(env, &cc) else {
        return Err(
            env.verifier_bug(format!("scc exit: no visit info for call chain {}", format_callchain(&cc)))
        );
    };
    if env.scc_visits[cc.scc as usize][vi].entry_state != Some(id) {
        return Ok(());
    }
    if env.log.level2() {
        verbose!(env.log, "SCC exit {}\n", format_callchain(&cc));
    }
    env.scc_visits[cc.scc as usize][vi].entry_state = None;
    propagate_backedges(env, cc.scc as usize, vi)
}

/// Mirrors `add_scc_backedge()`.
fn add_scc_backedge(env: &mut Env<'_>, old: StateId, backedge: VerifierState) -> Result<()> {
    let Some(cc) = compute_scc_callchain(env, &env.states[old].state) else {
        let i = env.states[old].state.insn_idx;
        return Err(env.verifier_bug(format!("add backedge: no SCC in verification path, insn_idx {i}")));
    };
    let Some(vi) = scc_visit_lookup(env, &cc) else {
        return Err(
            env.verifier_bug(format!("add backedge: no visit info for call chain {}", format_callchain(&cc)))
        );
    };
    if env.log.level2() {
        verbose!(env.log, "SCC backedge {}\n", format_callchain(&cc));
    }
    env.scc_visits[cc.scc as usize][vi].backedges.insert(0, backedge);
    env.num_backedges += 1;
    update_peak_states(env);
    Ok(())
}

/// Mirrors `incomplete_read_marks()`.
pub fn incomplete_read_marks(env: &Env<'_>, id: StateId) -> bool {
    let Some(cc) = compute_scc_callchain(env, &env.states[id].state) else { return false };
    match scc_visit_lookup(env, &cc) {
        Some(vi) => !env.scc_visits[cc.scc as usize][vi].backedges.is_empty(),
        None => false,
    }
}

/// Mirrors `incomplete_read_marks()` for a state not in the arena.
fn incomplete_read_marks_of(env: &Env<'_>, st: &VerifierState) -> bool {
    let Some(cc) = compute_scc_callchain(env, st) else { return false };
    match scc_visit_lookup(env, &cc) {
        Some(vi) => !env.scc_visits[cc.scc as usize][vi].backedges.is_empty(),
        None => false,
    }
}

/// `MAX_BACKEDGE_ITERS`.
const MAX_BACKEDGE_ITERS: usize = 64;

/// Mirrors `propagate_backedges()`.
fn propagate_backedges(env: &mut Env<'_>, scc: usize, vi: usize) -> Result<()> {
    let mut i = 0;
    loop {
        let n = env.scc_visits[scc][vi].backedges.len();
        if i > MAX_BACKEDGE_ITERS {
            if env.log.level2() {
                verbose!(env.log, "propagate_backedges: too many iterations\n");
            }
            for k in 0..n {
                let st = env.scc_visits[scc][vi].backedges[k].clone();
                mark_all_scalars_precise(env, &st);
            }
            break;
        }
        i += 1;
        let mut changed = false;
        for k in 0..n {
            let st = env.scc_visits[scc][vi].backedges[k].clone();
            let Some(eq) = st.equal_state else { continue };
            let old = env.states[eq].state.clone();
            propagate_precision(env, &old, &st, &mut changed)?;
        }
        if !changed {
            break;
        }
    }
    let n = env.scc_visits[scc][vi].backedges.len() as u32;
    env.scc_visits[scc][vi].backedges.clear();
    env.num_backedges -= n;
    Ok(())
}

/// Mirrors `propagate_precision()`: precise scalars of `old` become precise along `cur`'s
/// parents.
pub fn propagate_precision(
    env: &mut Env<'_>,
    old: &VerifierState,
    cur: &VerifierState,
    changed: &mut bool,
) -> Result<()> {
    for fr in (0..=old.curframe()).rev() {
        let state = &old.frame[fr];
        let mut first = true;
        for i in 0..BPF_REG_FP {
            let r = &state.regs[i];
            if r.ty != SCALAR_VALUE || !r.precise {
                continue;
            }
            if env.log.level2() {
                if first {
                    verbose!(env.log, "frame {fr}: propagating r{i}");
                } else {
                    verbose!(env.log, ",r{i}");
                }
            }
            env.bt.set_frame_reg(fr, i);
            first = false;
        }
        for (i, s) in state.stack.iter().enumerate() {
            if !s.is_spilled_reg() {
                continue;
            }
            let r = &s.spilled_ptr;
            if r.ty != SCALAR_VALUE || !r.precise {
                continue;
            }
            if env.log.level2() {
                let off = -(i as i64 + 1) * 8;
                if first {
                    verbose!(env.log, "frame {fr}: propagating fp{off}");
                } else {
                    verbose!(env.log, ",fp{off}");
                }
            }
            env.bt.set_frame_slot(fr, i);
            first = false;
        }
        if !first && env.log.level2() {
            verbose!(env.log, "\n");
        }
    }
    mark_chain_precision_from(env, cur, -1, changed)
}

/// Mirrors `is_state_visited()`: returns 1 when an equivalent checkpoint makes the rest of this
/// path redundant.
pub fn is_state_visited(env: &mut Env<'_>, insn_idx: usize) -> Result<i32> {
    let insn_u = insn_idx as u32;
    let force_new_state =
        env.test_state_freq || env.aux[insn_idx].force_checkpoint || env.cur.jmp_history.len() > 40;
    let mut add_new_state = force_new_state;
    if env.jmps_processed - env.prev_jmps_processed >= 2 && env.insn_processed - env.prev_insn_processed >= 8
    {
        add_new_state = true;
    }
    clean_live_states(env, insn_u);

    let bucket = explored_bucket(env, insn_u, &env.cur);
    let ids: Vec<StateId> = env.explored[bucket].iter().rev().copied().collect();
    let mut states_cnt = 0u32;
    let mut loop_ = false;
    for id in ids {
        if env.states[id].in_free_list {
            continue;
        }
        states_cnt += 1;
        if env.states[id].state.insn_idx != insn_u {
            continue;
        }
        let mut hit = false;
        let mut skip_inf = false;
        if env.states[id].state.branches != 0 {
            let old = &env.states[id].state;
            let of = old.cur();
            if of.in_async_callback_fn && of.async_entry_cnt != env.cur.cur().async_entry_cnt {
                skip_inf = true;
            } else if env.aux[insn_idx].is_iter_next {
                // Open-coded iterators: an iter_next() call reached again in a state equivalent
                // to one on the current path, with the iterator still active, proves the loop
                // converges (process_iter_next_call()).
                if states_equal(env, old, &env.cur, Exact::RangeWithin) && iter_next_active(env) {
                    loop_ = true;
                    hit = true;
                } else {
                    skip_inf = true;
                }
            } else if is_may_goto_insn_at(env, insn_idx)
                && old.may_goto_depth != env.cur.may_goto_depth
                && states_equal(env, old, &env.cur, Exact::RangeWithin)
            {
                loop_ = true;
                hit = true;
            } else if env.calls_callback(insn_idx) {
                // The live kernel gives callback-calling instructions no SCC: no backedge here.
                if states_equal(env, old, &env.cur, Exact::RangeWithin) {
                    hit = true;
                } else {
                    skip_inf = true;
                }
            }
            if !hit {
                if !skip_inf {
                    let old = &env.states[id].state;
                    if states_maybe_looping(old, &env.cur)
                        && states_equal(env, old, &env.cur, Exact::Exact)
                        && !iter_active_depths_differ(old, &env.cur)
                        && old.may_goto_depth == env.cur.may_goto_depth
                        && old.callback_unroll_depth == env.cur.callback_unroll_depth
                    {
                        env.log.verbose_linfo(insn_idx, format_args!("; "));
                        verbose!(env.log, "infinite loop detected at insn {insn_idx}\n");
                        verbose!(env.log, "cur state:");
                        let f = env.cur.curframe();
                        env.print_verifier_state(None, f, true);
                        verbose!(env.log, "old state:");
                        let old = env.states[id].state.clone();
                        env.print_verifier_state(Some(&old), f, true);
                        return Err(
                            env.rejected(Errno::Inval, format!("infinite loop detected at insn {insn_idx}"))
                        );
                    }
                }
                if !force_new_state
                    && env.jmps_processed - env.prev_jmps_processed < 20
                    && env.insn_processed - env.prev_insn_processed < 100
                {
                    add_new_state = false;
                }
                // miss:
                miss(env, id, add_new_state, insn_idx);
                continue;
            }
        } else {
            loop_ = incomplete_read_marks(env, id);
            let exact = if loop_ { Exact::RangeWithin } else { Exact::NotExact };
            if states_equal(env, &env.states[id].state, &env.cur, exact) {
                hit = true;
            }
        }
        if hit {
            env.states[id].hit_cnt += 1;
            if env.is_jmp_point(insn_idx) {
                env.push_jmp_history(0, 0)?;
            }
            let old = env.states[id].state.clone();
            let mut changed = false;
            crate::precision::with_cur(env, |env, cur| propagate_precision(env, &old, cur, &mut changed))?;
            if loop_ {
                let mut be = env.cur.clone();
                be.equal_state = Some(id);
                be.insn_idx = insn_u;
                add_scc_backedge(env, id, be)?;
            }
            return Ok(1);
        }
        miss(env, id, add_new_state, insn_idx);
    }

    env.max_states_per_insn = env.max_states_per_insn.max(states_cnt);
    if !env.bpf_capable && states_cnt as usize > BPF_COMPLEXITY_LIMIT_STATES {
        return Ok(0);
    }
    if !add_new_state {
        return Ok(0);
    }
    env.total_states += 1;
    env.explored_states_size += 1;
    update_peak_states(env);
    env.prev_jmps_processed = env.jmps_processed;
    env.prev_insn_processed = env.insn_processed;
    if env.bpf_capable {
        mark_all_scalars_imprecise(&mut env.cur);
    }
    let mut new = env.cur.clone();
    new.insn_idx = insn_u;
    if new.branches != 1 {
        return Err(env
            .verifier_bug(format!("is_state_visited:branches_to_explore={} insn {insn_idx}", new.branches)));
    }
    let id = env.states.len();
    env.states.push(StateListEntry {
        state: new,
        miss_cnt: 0,
        hit_cnt: 0,
        in_free_list: false,
        freed: false,
    });
    maybe_enter_scc(env, id);
    env.cur.parent = Some(id);
    env.cur.first_insn_idx = insn_u;
    env.cur.dfs_depth = env.states[id].state.dfs_depth + 1;
    env.cur.jmp_history.clear();
    env.cur_hist_ent = None;
    env.explored[bucket].push(id);
    Ok(0)
}

/// The `miss:` part of `is_state_visited()` for checkpoint `id`.
fn miss(env: &mut Env<'_>, id: StateId, add_new_state: bool, insn_idx: usize) {
    if add_new_state {
        env.states[id].miss_cnt += 1;
    }
    let n = if env.aux[insn_idx].force_checkpoint && env.states[id].state.branches > 0 { 64 } else { 3 };
    let e = &env.states[id];
    if e.miss_cnt > e.hit_cnt * n + n {
        let bucket = explored_bucket(env, env.states[id].state.insn_idx, &env.states[id].state);
        if let Some(p) = env.explored[bucket].iter().position(|&x| x == id) {
            env.explored[bucket].remove(p);
        }
        env.states[id].in_free_list = true;
        env.free_list_size += 1;
        env.explored_states_size -= 1;
        maybe_free_verifier_state(env, id);
    }
}

/// Whether the instruction is `may_goto` (`is_may_goto_insn_at()`).
fn is_may_goto_insn_at(env: &Env<'_>, idx: usize) -> bool {
    env.insns[idx].code == 0x05 | 0xe0
}

/// Mirrors `mark_all_scalars_imprecise()`.
fn mark_all_scalars_imprecise(st: &mut VerifierState) {
    st.for_each_reg(|_, r| {
        if r.ty == SCALAR_VALUE {
            r.precise = false;
        }
    });
}

/// Whether incomplete read marks hold for a state outside the arena (for the back-edge copies).
pub fn backedge_incomplete(env: &Env<'_>, st: &VerifierState) -> bool {
    incomplete_read_marks_of(env, st)
}

/// Mirrors `compute_scc()`.
pub fn compute_scc(env: &mut Env<'_>) {
    const NOT_ON_STACK: u32 = u32::MAX;
    let n = env.insns.len();
    let mut pre = vec![0u32; n];
    let mut low = vec![0u32; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut next_pre = 1;
    let mut next_scc = 1;
    for i in 0..n {
        if pre[i] != 0 {
            continue;
        }
        stack.clear();
        let mut dfs: Vec<u32> = vec![i as u32];
        'outer: while let Some(&w) = dfs.last() {
            let wu = w as usize;
            if pre[wu] == 0 {
                low[wu] = next_pre;
                pre[wu] = next_pre;
                next_pre += 1;
                stack.push(w);
            }
            let succ = crate::liveness::insn_successors(&env.insns, wu);
            for &s in &succ {
                if pre[s] != 0 {
                    low[wu] = low[wu].min(low[s]);
                } else {
                    dfs.push(s as u32);
                    continue 'outer;
                }
            }
            if low[wu] < pre[wu] {
                dfs.pop();
                continue;
            }
            let mut assign = *stack.last().expect("on stack") != w;
            if succ.contains(&wu) {
                assign = true;
            }
            // Newer kernels also give a callback-calling instruction an SCC of its own (an
            // implicit loop); the live kernel does not.
            loop {
                let t = stack.pop().expect("on stack");
                low[t as usize] = NOT_ON_STACK;
                if assign {
                    env.aux[t as usize].scc = next_scc;
                }
                if t == w {
                    break;
                }
            }
            if assign {
                next_scc += 1;
            }
            dfs.pop();
        }
    }
    env.scc_cnt = next_scc;
    env.scc_visits = vec![Vec::new(); next_scc as usize];
}
