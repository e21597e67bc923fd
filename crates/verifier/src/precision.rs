//! Precision tracking: `mark_chain_precision()` and its backtracking (`backtrack_insn()`), which
//! walk back through the instructions of a path and its checkpoints (using the jump history) to
//! mark every scalar a precise value depends on, so that pruning compares those exactly.

use crate::env::Env;
use crate::error::Result;
use crate::state::*;
use crate::verbose;

/// `BPF_REGMASK_ARGS`: R1..R5.
const BPF_REGMASK_ARGS: u32 = 0b11_1110;

/// `struct backtrack_state`.
#[derive(Clone, Debug, Default)]
pub struct BacktrackState {
    /// `frame`.
    pub frame: usize,
    /// `reg_masks`.
    pub reg_masks: [u32; MAX_CALL_FRAMES],
    /// `stack_masks`.
    pub stack_masks: [u64; MAX_CALL_FRAMES],
}

impl BacktrackState {
    /// `bt_set_frame_reg()`.
    pub fn set_frame_reg(&mut self, frame: usize, reg: usize) {
        self.reg_masks[frame] |= 1 << reg;
    }

    /// `bt_set_frame_slot()`.
    pub fn set_frame_slot(&mut self, frame: usize, slot: usize) {
        self.stack_masks[frame] |= 1 << slot;
    }

    fn clear_frame_reg(&mut self, frame: usize, reg: usize) {
        self.reg_masks[frame] &= !(1 << reg);
    }

    fn clear_frame_slot(&mut self, frame: usize, slot: usize) {
        self.stack_masks[frame] &= !(1 << slot);
    }

    fn set_reg(&mut self, reg: usize) {
        self.set_frame_reg(self.frame, reg);
    }

    fn clear_reg(&mut self, reg: usize) {
        self.clear_frame_reg(self.frame, reg);
    }

    fn is_reg_set(&self, reg: usize) -> bool {
        self.reg_masks[self.frame] & (1 << reg) != 0
    }

    fn is_frame_reg_set(&self, frame: usize, reg: usize) -> bool {
        self.reg_masks[frame] & (1 << reg) != 0
    }

    fn is_frame_slot_set(&self, frame: usize, slot: usize) -> bool {
        self.stack_masks[frame] & (1 << slot) != 0
    }

    fn reg_mask(&self) -> u32 {
        self.reg_masks[self.frame]
    }

    fn stack_mask(&self) -> u64 {
        self.stack_masks[self.frame]
    }

    /// `bt_empty()`.
    fn empty(&self) -> bool {
        (0..=self.frame).all(|i| self.reg_masks[i] == 0 && self.stack_masks[i] == 0)
    }

    /// `bt_reset()`.
    fn reset(&mut self) {
        *self = BacktrackState::default();
    }

    fn subprog_enter(&mut self) -> std::result::Result<(), String> {
        if self.frame == MAX_CALL_FRAMES - 1 {
            return Err(format!("subprog enter from frame {}", self.frame));
        }
        self.frame += 1;
        Ok(())
    }

    fn subprog_exit(&mut self) -> std::result::Result<(), String> {
        if self.frame == 0 {
            return Err("subprog exit from frame 0".into());
        }
        self.frame -= 1;
        Ok(())
    }

    /// Mirrors `bt_sync_linked_regs()`.
    fn sync_linked_regs(&mut self, linked: u64) {
        if linked == 0 {
            return;
        }
        // The packed entries (`LinkedRegs::unpack`'s format), read in place: this runs at every
        // step of every backtracking walk.
        let cnt = (linked & 7) as usize;
        let entry = |i: usize| {
            let e = (linked >> (3 + 10 * i)) & 0x3ff;
            ((e & 7) as usize, ((e >> 3) & 0x3f) as usize, e >> 9 != 0)
        };
        let some = (0..cnt).map(entry).any(|(fr, no, is_reg)| {
            if is_reg {
                self.is_frame_reg_set(fr, no)
            } else {
                self.is_frame_slot_set(fr, no)
            }
        });
        if !some {
            return;
        }
        for (fr, no, is_reg) in (0..cnt).map(entry) {
            if is_reg {
                self.set_frame_reg(fr, no);
            } else {
                self.set_frame_slot(fr, no);
            }
        }
    }
}

/// `fmt_reg_mask()`.
fn fmt_reg_mask(mask: u32) -> String {
    (0..32).filter(|i| mask & (1 << i) != 0).map(|i| format!("r{i}")).collect::<Vec<_>>().join(",")
}

/// `bpf_fmt_stack_mask()`: `-8,-24`.
pub fn fmt_stack_mask(mask: u64) -> String {
    (0..64)
        .filter(|i| mask & (1u64 << i) != 0)
        .map(|i| format!("{}", -(i as i64 + 1) * 8))
        .collect::<Vec<_>>()
        .join(",")
}

/// What `backtrack_insn()` may end with besides success.
enum BtErr {
    /// `-ENOTSUPP`: fall back to marking everything precise.
    NotSupp,
    /// A verifier bug.
    Bug(String),
}

/// What the backtracking walk reads of a state: borrowed for the starting state, copied for a
/// checkpoint of the arena (which the walk marks precise as it goes).
struct Walked<'a> {
    first_insn_idx: u32,
    jmp_history: std::borrow::Cow<'a, [JmpHistoryEntry]>,
    parent: Option<StateId>,
    curframe: usize,
    subprogno0: u32,
    callsite0: i32,
}

impl<'a> Walked<'a> {
    fn borrowed(st: &'a VerifierState) -> Walked<'a> {
        Walked {
            first_insn_idx: st.first_insn_idx,
            jmp_history: std::borrow::Cow::Borrowed(&st.jmp_history),
            parent: st.parent,
            curframe: st.curframe(),
            subprogno0: st.frame[0].subprogno,
            callsite0: st.frame[0].callsite,
        }
    }

    fn copied(st: &VerifierState) -> Walked<'static> {
        Walked {
            first_insn_idx: st.first_insn_idx,
            jmp_history: std::borrow::Cow::Owned(st.jmp_history.clone()),
            parent: st.parent,
            curframe: st.curframe(),
            subprogno0: st.frame[0].subprogno,
            callsite0: st.frame[0].callsite,
        }
    }
}

/// Mirrors `get_prev_insn_idx()`.
fn get_prev_insn_idx(st: &Walked<'_>, i: i64, history: &mut usize) -> Option<i64> {
    let cnt = *history;
    if i == st.first_insn_idx as i64 {
        if cnt == 0 {
            return None;
        }
        if cnt == 1 && st.jmp_history[0].idx as i64 == i {
            return None;
        }
    }
    if cnt > 0 && st.jmp_history[cnt - 1].idx as i64 == i {
        *history -= 1;
        Some(st.jmp_history[cnt - 1].prev_idx as i64)
    } else {
        Some(i - 1)
    }
}

/// Mirrors `get_jmp_hist_entry()`.
fn get_hist(st: &Walked<'_>, hist_end: usize, idx: i64) -> Option<JmpHistoryEntry> {
    if hist_end > 0 && st.jmp_history[hist_end - 1].idx as i64 == idx {
        Some(st.jmp_history[hist_end - 1])
    } else {
        None
    }
}

/// Whether a call instruction calls a callback synchronously (`bpf_loop`, iterators, ...).
fn is_sync_callback_calling_insn(insn: kfvm_isa::RawInsn) -> bool {
    insn.code == 0x85 && insn.src() == 0 && matches!(insn.imm, 164 | 181 | 180 | 209)
}

/// Mirrors `backtrack_insn()`.
fn backtrack_insn(
    env: &mut Env<'_>,
    idx: i64,
    subseq_idx: i64,
    hist: Option<JmpHistoryEntry>,
    bt: &mut BacktrackState,
) -> std::result::Result<(), BtErr> {
    let insn = env.insns[idx as usize];
    let cls = insn.code & 7;
    let op = insn.code & 0xf0;
    let mode = insn.code & 0xe0;
    let dreg = insn.dst() as usize;
    let sreg = insn.src() as usize;
    if insn.code == 0 {
        return Ok(());
    }
    if env.log.level2() {
        let regs = fmt_reg_mask(bt.reg_mask());
        let stack = fmt_stack_mask(bt.stack_mask());
        verbose!(env.log, "mark_precise: frame{}: regs={regs} stack={stack} before {idx}: ", bt.frame);
        env.verbose_insn(idx as usize);
    }
    let linked = hist.map_or(0, |h| h.linked_regs);
    bt.sync_linked_regs(linked);

    use kfvm_isa::opcode::class;
    match cls {
        class::ALU | class::ALU64 => {
            if !bt.is_reg_set(dreg) {
                return Ok(());
            }
            if op == 0xd0 || op == 0x80 {
                return Ok(());
            } else if op == 0xb0 {
                if insn.code & 0x08 != 0 {
                    bt.clear_reg(dreg);
                    if sreg != BPF_REG_FP {
                        bt.set_reg(sreg);
                    }
                } else {
                    bt.clear_reg(dreg);
                }
            } else if insn.code & 0x08 != 0 && sreg != BPF_REG_FP {
                bt.set_reg(sreg);
            }
        }
        _ if cls == class::LDX
            || (cls == class::STX
                && mode == 0xc0
                && (insn.imm == kfvm_isa::AtomicOp::LOAD_ACQ || insn.imm & 1 != 0)) =>
        {
            let mut load_reg = dreg;
            if cls == class::STX && insn.imm != kfvm_isa::AtomicOp::LOAD_ACQ {
                load_reg = if insn.imm == kfvm_isa::AtomicOp::CMPXCHG { 0 } else { sreg };
            }
            if !bt.is_reg_set(load_reg) {
                return Ok(());
            }
            bt.clear_reg(load_reg);
            let Some(h) = hist.filter(|h| h.flags & insn_f::STACK_ACCESS != 0) else { return Ok(()) };
            let spi = ((h.flags >> insn_f::SPI_SHIFT) & insn_f::SPI_MASK) as usize;
            let fr = (h.flags & insn_f::FRAMENO_MASK) as usize;
            bt.set_frame_slot(fr, spi);
        }
        class::STX | class::ST => {
            if bt.is_reg_set(dreg) {
                return Err(BtErr::NotSupp);
            }
            let Some(h) = hist.filter(|h| h.flags & insn_f::STACK_ACCESS != 0) else { return Ok(()) };
            let spi = ((h.flags >> insn_f::SPI_SHIFT) & insn_f::SPI_MASK) as usize;
            let fr = (h.flags & insn_f::FRAMENO_MASK) as usize;
            if !bt.is_frame_slot_set(fr, spi) {
                return Ok(());
            }
            bt.clear_frame_slot(fr, spi);
            if cls == class::STX {
                bt.set_reg(sreg);
            }
        }
        class::JMP | class::JMP32 => {
            if insn.code == 0x85 && insn.src() == 1 {
                let target = idx + insn.imm as i64 + 1;
                let Some(subprog) = env.find_subprog(target as usize) else {
                    return Err(BtErr::Bug("backtracking call to unknown subprog".into()));
                };
                if env.subprog_is_global(subprog) {
                    // The next instruction after a global call is the caller's own.
                    if idx + 1 != subseq_idx {
                        return Err(BtErr::Bug("extra insn from subprog".into()));
                    }
                    // R1-R5 are invalidated by the call: nothing can still ask for them.
                    if bt.reg_mask() & BPF_REGMASK_ARGS != 0 {
                        return Err(BtErr::Bug(format!(
                            "global subprog unexpected regs {:x}",
                            bt.reg_mask()
                        )));
                    }
                    // A global subprogram always sets R0.
                    bt.clear_reg(0);
                    return Ok(());
                }
                // Static subprogram: we are leaving the callee.
                if bt.reg_mask() & !BPF_REGMASK_ARGS != 0 {
                    return Err(BtErr::Bug(format!("static subprog unexpected regs {:x}", bt.reg_mask())));
                }
                if bt.stack_mask() != 0 {
                    return Err(BtErr::Bug(format!(
                        "static subprog leftover stack slots {:x}",
                        bt.stack_mask()
                    )));
                }
                for i in 1..=5 {
                    if bt.is_reg_set(i) {
                        bt.clear_reg(i);
                        bt.set_frame_reg(bt.frame - 1, i);
                    }
                }
                bt.subprog_exit().map_err(BtErr::Bug)?;
                return Ok(());
            } else if is_sync_callback_calling_insn(insn) && idx != subseq_idx - 1 {
                if bt.reg_mask() & !BPF_REGMASK_ARGS != 0 {
                    return Err(BtErr::Bug(format!("callback unexpected regs {:x}", bt.reg_mask())));
                }
                if bt.stack_mask() != 0 {
                    return Err(BtErr::Bug(format!("callback leftover stack slots {:x}", bt.stack_mask())));
                }
                for i in 1..=5 {
                    bt.clear_reg(i);
                }
                bt.subprog_exit().map_err(BtErr::Bug)?;
                return Ok(());
            } else if op == 0x80 {
                if insn.src() == 2 && insn.imm == 0 {
                    return Err(BtErr::NotSupp);
                }
                bt.clear_reg(0);
                if bt.reg_mask() & BPF_REGMASK_ARGS != 0 {
                    return Err(BtErr::Bug(format!("backtracking call unexpected regs {:x}", bt.reg_mask())));
                }
            } else if op == 0x90 {
                if subseq_idx >= 0 && env.calls_callback(subseq_idx as usize) {
                    for i in 1..=5 {
                        bt.clear_reg(i);
                    }
                }
                if bt.reg_mask() & BPF_REGMASK_ARGS != 0 {
                    return Err(BtErr::Bug(format!("backtracking exit unexpected regs {:x}", bt.reg_mask())));
                }
                let r0_precise = subseq_idx >= 1
                    && {
                        let c = env.insns[(subseq_idx - 1) as usize];
                        c.code == 0x85 && c.src() == 1
                    }
                    && bt.is_reg_set(0);
                bt.clear_reg(0);
                bt.subprog_enter().map_err(BtErr::Bug)?;
                if r0_precise {
                    bt.set_reg(0);
                }
                return Ok(());
            } else if insn.code & 0x08 != 0 && op != 0x00 && op != 0xe0 {
                if !bt.is_reg_set(dreg) && !bt.is_reg_set(sreg) {
                    return Ok(());
                }
                if hist.is_none_or(|h| h.flags & insn_f::SRC_REG_STACK == 0) {
                    bt.set_reg(sreg);
                }
                if hist.is_none_or(|h| h.flags & insn_f::DST_REG_STACK == 0) {
                    bt.set_reg(dreg);
                }
            }
        }
        class::LD => {
            if !bt.is_reg_set(dreg) {
                return Ok(());
            }
            bt.clear_reg(dreg);
            if mode == 0x20 || mode == 0x40 {
                return Err(BtErr::NotSupp);
            }
        }
        _ => {}
    }
    bt.sync_linked_regs(linked);
    Ok(())
}

/// Mirrors `mark_all_scalars_precise()`: every scalar in the parents of `st` becomes precise.
pub fn mark_all_scalars_precise(env: &mut Env<'_>, st: &VerifierState) {
    if env.log.level2() {
        verbose!(
            env.log,
            "mark_precise: frame{}: falling back to forcing all scalars precise\n",
            st.curframe()
        );
    }
    let mut p = st.parent;
    while let Some(id) = p {
        let log2 = env.log.level2();
        let mut msgs = Vec::new();
        {
            let s = &mut env.states[id].state;
            for (i, f) in s.frame.iter_mut().enumerate() {
                for (j, r) in f.regs.iter_mut().enumerate().take(BPF_REG_FP) {
                    if r.ty != SCALAR_VALUE || r.precise {
                        continue;
                    }
                    r.precise = true;
                    if log2 {
                        msgs.push(format!("force_precise: frame{i}: forcing r{j} to be precise\n"));
                    }
                }
                for (j, st) in f.stack.iter_mut().enumerate() {
                    if !st.is_spilled_reg() {
                        continue;
                    }
                    let r = &mut st.spilled_ptr;
                    if r.ty != SCALAR_VALUE || r.precise {
                        continue;
                    }
                    r.precise = true;
                    if log2 {
                        msgs.push(format!(
                            "force_precise: frame{i}: forcing fp{} to be precise\n",
                            -(j as i64 + 1) * 8
                        ));
                    }
                }
            }
        }
        for m in msgs {
            env.log.push_str(&m);
        }
        p = env.states[id].state.parent;
    }
}

/// Mirrors `mark_chain_precision()`: register `regno` of the current state must be precise.
pub fn mark_chain_precision(env: &mut Env<'_>, regno: i32) -> Result<()> {
    let mut changed = false;
    with_cur(env, |env, cur| mark_chain_precision_from(env, cur, regno, &mut changed))
}

/// Mirrors `mark_chain_precision_batch()`: the marks already in `env.bt`.
pub fn mark_chain_precision_batch(env: &mut Env<'_>) -> Result<()> {
    let mut changed = false;
    with_cur(env, |env, cur| mark_chain_precision_from(env, cur, -1, &mut changed))
}

/// Runs `f` with the current state lent out of `env` (backtracking reads it while it updates
/// the checkpoints, and never looks at `env.cur`): no copy of the state per precision mark.
pub fn with_cur<T>(env: &mut Env<'_>, f: impl FnOnce(&mut Env<'_>, &VerifierState) -> T) -> T {
    thread_local! {
        // What stands in `env.cur` meanwhile, kept between calls.
        static STAND_IN: std::cell::Cell<Option<VerifierState>> = const { std::cell::Cell::new(None) };
    }
    let stand_in = STAND_IN.take().unwrap_or_else(|| VerifierState::new(FuncState::new(-1, 0, 0)));
    let cur = std::mem::replace(&mut env.cur, stand_in);
    let r = f(env, &cur);
    STAND_IN.set(Some(std::mem::replace(&mut env.cur, cur)));
    r
}

/// Mirrors `__mark_chain_precision()`.
pub fn mark_chain_precision_from(
    env: &mut Env<'_>,
    starting: &VerifierState,
    regno: i32,
    changed: &mut bool,
) -> Result<()> {
    if !env.bpf_capable {
        return Ok(());
    }
    let mut bt = std::mem::take(&mut env.bt);
    bt.frame = starting.curframe();
    if regno >= 0 {
        let r = &starting.frame[bt.frame].regs[regno as usize];
        if r.ty != SCALAR_VALUE {
            env.bt = BacktrackState::default();
            return Err(env.verifier_bug("backtracking misuse"));
        }
        bt.set_reg(regno as usize);
    }
    let r = backtrack(env, starting, &mut bt, changed);
    env.bt = BacktrackState::default();
    r
}

fn backtrack(
    env: &mut Env<'_>,
    starting: &VerifierState,
    bt: &mut BacktrackState,
    changed: &mut bool,
) -> Result<()> {
    if bt.empty() {
        return Ok(());
    }
    let mut first_idx = starting.first_insn_idx as i64;
    let mut last_idx = starting.insn_idx as i64;
    let mut subseq_idx: i64 = -1;
    let mut skip_first = true;
    // The state being walked: the starting one, then its parents in the arena (only what the
    // walk reads of them is copied out of the arena, which the walk updates).
    let mut st_id: Option<StateId> = None;
    loop {
        let st = match st_id {
            Some(id) => Walked::copied(&env.states[id].state),
            None => Walked::borrowed(starting),
        };
        let mut history = st.jmp_history.len();
        if env.log.level2() {
            verbose!(
                env.log,
                "mark_precise: frame{}: last_idx {last_idx} first_idx {first_idx} subseq_idx {subseq_idx} \n",
                bt.frame
            );
        }
        if last_idx < 0 {
            if st.curframe == 0
                && st.subprogno0 > 0
                && st.callsite0 == BPF_MAIN_FUNC
                && bt.stack_mask() == 0
                && bt.reg_mask() & !BPF_REGMASK_ARGS == 0
            {
                // Entry of a global function: its arguments.
                let mask = bt.reg_mask();
                for i in 0..32 {
                    if mask & (1 << i) != 0 {
                        bt.clear_reg(i);
                    }
                }
                return Ok(());
            }
            return Err(env.verifier_bug(format!(
                "backtracking func entry subprog {} reg_mask {:x} stack_mask {:x}",
                st.subprogno0,
                bt.reg_mask(),
                bt.stack_mask()
            )));
        }
        let mut i = last_idx;
        loop {
            let hist = get_hist(&st, history, i);
            let r = if skip_first {
                skip_first = false;
                Ok(())
            } else {
                backtrack_insn(env, i, subseq_idx, hist, bt)
            };
            match r {
                Err(BtErr::NotSupp) => {
                    mark_all_scalars_precise(env, starting);
                    bt.reset();
                    return Ok(());
                }
                Err(BtErr::Bug(m)) => return Err(env.verifier_bug(m)),
                Ok(()) => {}
            }
            if bt.empty() {
                return Ok(());
            }
            subseq_idx = i;
            match get_prev_insn_idx(&st, i, &mut history) {
                None => break,
                Some(p) => i = p,
            }
            if i < 0 || i as usize >= env.insns.len() {
                return Err(env.verifier_bug(format!("backtracking idx {i}")));
            }
        }
        let Some(parent) = st.parent else { break };
        st_id = Some(parent);
        for fr in (0..=bt.frame).rev() {
            let log2 = env.log.level2();
            let mut fmsg = None;
            {
                let s = &mut env.states[parent].state;
                let Some(func) = s.frame.get_mut(fr) else { continue };
                // The set bits only (the loops clear bits, never set them).
                let mut regs = bt.reg_masks[fr];
                while regs != 0 {
                    let i = regs.trailing_zeros() as usize;
                    regs &= regs - 1;
                    let r = &mut func.regs[i];
                    if r.ty != SCALAR_VALUE {
                        bt.clear_frame_reg(fr, i);
                        continue;
                    }
                    if r.precise {
                        bt.clear_frame_reg(fr, i);
                    } else {
                        r.precise = true;
                        *changed = true;
                    }
                }
                let mut slots = bt.stack_masks[fr];
                while slots != 0 {
                    let i = slots.trailing_zeros() as usize;
                    slots &= slots - 1;
                    if i >= func.stack.len() {
                        fmsg = Some(format!("stack slot {i}, total slots {}", func.stack.len()));
                        break;
                    }
                    if !func.stack[i].is_spilled_scalar_reg() {
                        bt.clear_frame_slot(fr, i);
                        continue;
                    }
                    let r = &mut func.stack[i].spilled_ptr;
                    if r.precise {
                        bt.clear_frame_slot(fr, i);
                    } else {
                        r.precise = true;
                        *changed = true;
                    }
                }
            }
            if let Some(m) = fmsg {
                return Err(env.verifier_bug(m));
            }
            if log2 {
                let regs = fmt_reg_mask(bt.reg_masks[fr]);
                let stack = fmt_stack_mask(bt.stack_masks[fr]);
                verbose!(env.log, "mark_precise: frame{fr}: parent state regs={regs} stack={stack}: ");
                let s = env.states[parent].state.clone();
                env.print_verifier_state(Some(&s), fr, true);
            }
        }
        if bt.empty() {
            return Ok(());
        }
        let ps = &env.states[parent].state;
        subseq_idx = first_idx;
        last_idx = ps.last_insn_idx as i64;
        first_idx = ps.first_insn_idx as i64;
    }
    if !bt.empty() {
        mark_all_scalars_precise(env, starting);
        bt.reset();
    }
    Ok(())
}
