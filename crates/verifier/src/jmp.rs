//! Conditional jumps: `check_cond_jmp_op()` — which way a jump goes (`is_branch_taken()`), what
//! each branch learns about scalars (`reg_set_min_max()` in [`crate::scalar`]) and the registers
//! linked to them (`collect_linked_regs()`, `sync_linked_regs()`), NULL checks of pointers
//! (`mark_ptr_or_null_regs()`), packet bounds checks (`try_match_pkt_pointers()`,
//! `find_good_pkt_pointers()`), and `may_goto`.

use crate::check::RegArg;
use crate::env::Env;
use crate::error::{Errno, Result};
use crate::precision::mark_chain_precision;
use crate::scalar::{flip_opcode, is_scalar_branch_taken, reg_set_min_max, sync_linked_scalar};
use crate::state::*;
use crate::verbose;
use kfvm_isa::{JmpOp, RawInsn};

/// `AT_PKT_END`: the packet pointer equals `data_end`.
pub const AT_PKT_END: i32 = -1;
/// `BEYOND_PKT_END`: the packet pointer is past `data_end`.
pub const BEYOND_PKT_END: i32 = -2;
/// `LINKED_REGS_MAX`.
pub const LINKED_REGS_MAX: usize = 6;

/// `struct linked_reg`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LinkedReg {
    /// `frameno`.
    pub frameno: u8,
    /// `regno` or `spi`.
    pub regno: u8,
    /// `is_reg`.
    pub is_reg: bool,
}

/// `struct linked_regs`.
#[derive(Clone, Debug, Default)]
pub struct LinkedRegs {
    /// The entries.
    pub entries: Vec<LinkedReg>,
}

impl LinkedRegs {
    /// Mirrors `linked_regs_pack()`: 10 bits per entry (frame, slot or register, is-register),
    /// then the count in the low 3 bits.
    pub fn pack(&self) -> u64 {
        let mut val = 0u64;
        for e in &self.entries {
            let tmp = e.frameno as u64 | ((e.regno as u64) << 3) | ((e.is_reg as u64) << 9);
            val = (val << 10) | tmp;
        }
        (val << 3) | self.entries.len() as u64
    }

    /// Mirrors `linked_regs_unpack()`.
    pub fn unpack(mut val: u64) -> LinkedRegs {
        let cnt = (val & 7) as usize;
        val >>= 3;
        let mut entries = vec![LinkedReg { frameno: 0, regno: 0, is_reg: false }; cnt];
        for i in (0..cnt).rev() {
            let tmp = val & 0x3ff;
            val >>= 10;
            entries[i] = LinkedReg {
                frameno: (tmp & 7) as u8,
                regno: ((tmp >> 3) & 0x3f) as u8,
                is_reg: tmp >> 9 != 0,
            };
        }
        LinkedRegs { entries }
    }
}

fn jmp_op(op: u8) -> Option<JmpOp> {
    JmpOp::from_op_bits(op)
}

/// Mirrors `is_reg_const()` for any register.
fn reg_is_const(r: &RegState, subreg32: bool) -> bool {
    r.ty == SCALAR_VALUE && r.s.is_reg_const(subreg32)
}

/// Mirrors `reg_not_null()`.
pub fn reg_not_null(r: &RegState) -> bool {
    if type_may_be_null(r.ty) {
        return false;
    }
    let t = base_type(r.ty);
    t == PTR_TO_SOCKET
        || t == PTR_TO_TCP_SOCK
        || t == PTR_TO_MAP_VALUE
        || t == PTR_TO_MAP_KEY
        || t == PTR_TO_SOCK_COMMON
        || (t == PTR_TO_BTF_ID && is_trusted_reg(r))
        || (t == PTR_TO_MEM && r.ty & PTR_UNTRUSTED == 0)
        || t == CONST_PTR_TO_MAP
}

/// Mirrors `is_trusted_reg()`.
pub fn is_trusted_reg(r: &RegState) -> bool {
    if r.ref_obj_id != 0 {
        return true;
    }
    let flags = type_flag(r.ty) & !PTR_MAYBE_NULL;
    if flags & (PTR_TRUSTED | MEM_ALLOC) != 0
        && flags & PTR_UNTRUSTED == 0
        && flags & !(PTR_TRUSTED | MEM_ALLOC | MEM_RCU | MEM_PERCPU | NON_OWN_REF) == 0
    {
        return true;
    }
    false
}

/// Mirrors `is_pkt_ptr_branch_taken()`.
fn is_pkt_ptr_branch_taken(dst: &RegState, src: &RegState, mut op: JmpOp) -> Option<bool> {
    let pkt = if src.ty == PTR_TO_PACKET_END {
        dst
    } else if dst.ty == PTR_TO_PACKET_END {
        op = flip_opcode(op);
        src
    } else {
        return None;
    };
    if pkt.range >= 0 {
        return None;
    }
    match op {
        JmpOp::Jle | JmpOp::Jlt if pkt.range == BEYOND_PKT_END => {
            return Some(op == JmpOp::Jgt);
        }
        JmpOp::Jgt | JmpOp::Jge if pkt.range == BEYOND_PKT_END || pkt.range == AT_PKT_END => {
            return Some(op == JmpOp::Jge);
        }
        _ => {}
    }
    None
}

/// Mirrors `is_branch_taken()`.
fn is_branch_taken(r1: &RegState, r2: &RegState, op: JmpOp, is_jmp32: bool) -> Option<bool> {
    let pkt_any = |r: &RegState| type_is_pkt_pointer(r.ty) || r.ty == PTR_TO_PACKET_END;
    if pkt_any(r1) && pkt_any(r2) && !is_jmp32 {
        return is_pkt_ptr_branch_taken(r1, r2, op);
    }
    if r1.ty != SCALAR_VALUE || r2.ty != SCALAR_VALUE {
        let (mut a, mut b, mut op) = (r1, r2, op);
        if !reg_is_const(b, is_jmp32) {
            op = flip_opcode(op);
            std::mem::swap(&mut a, &mut b);
        }
        if !reg_is_const(b, is_jmp32) {
            return None;
        }
        if !reg_not_null(a) {
            return None;
        }
        if b.s.reg_const_value(is_jmp32) != 0 {
            return None;
        }
        return match op {
            JmpOp::Jeq => Some(false),
            JmpOp::Jne => Some(true),
            _ => None,
        };
    }
    is_scalar_branch_taken(&r1.s, &r2.s, op, is_jmp32)
}

/// Mirrors `collect_linked_regs()`.
fn collect_linked_regs(env: &mut Env<'_>, id: u32, out: &mut LinkedRegs) {
    let id = id & !BPF_ADD_CONST;
    let nframes = env.cur.frame.len();
    for i in (0..nframes).rev() {
        let live = env.aux[env.cur.frame_insn_idx(i) as usize].live_regs_before;
        for j in 0..BPF_REG_FP {
            if live & (1 << j) == 0 {
                continue;
            }
            collect_one(&mut env.cur.frame[i].regs[j], out, id, i, j, true);
        }
        for j in 0..env.cur.frame[i].stack.len() {
            if !env.cur.frame[i].stack[j].is_spilled_reg() {
                continue;
            }
            collect_one(&mut env.cur.frame[i].stack[j].spilled_ptr, out, id, i, j, false);
        }
    }
}

/// Mirrors `__collect_linked_regs()`.
fn collect_one(reg: &mut RegState, out: &mut LinkedRegs, id: u32, frameno: usize, n: usize, is_reg: bool) {
    if reg.ty != SCALAR_VALUE || reg.id & !BPF_ADD_CONST != id {
        return;
    }
    if out.entries.len() < LINKED_REGS_MAX {
        out.entries.push(LinkedReg { frameno: frameno as u8, regno: n as u8, is_reg });
    } else {
        reg.id = 0;
        reg.off = 0;
    }
}

/// Where a linked register lives.
fn linked_reg_mut<'s>(st: &'s mut VerifierState, e: &LinkedReg) -> &'s mut RegState {
    if e.is_reg {
        &mut st.frame[e.frameno as usize].regs[e.regno as usize]
    } else {
        &mut st.frame[e.frameno as usize].stack[e.regno as usize].spilled_ptr
    }
}

/// Mirrors `sync_linked_regs()`: every register linked to `known` (which is in `st` at `known_at`)
/// takes its range, shifted by the difference of their deltas.
fn sync_linked_regs(env: &mut Env<'_>, in_cur: bool, known_at: LinkedReg, linked: &LinkedRegs) {
    let st = if in_cur { &mut env.cur } else { &mut env.stack.last_mut().expect("pushed branch").st };
    let known = linked_reg_mut(st, &known_at).clone();
    for e in &linked.entries {
        if *e == known_at {
            continue;
        }
        let reg = linked_reg_mut(st, e);
        if reg.ty != SCALAR_VALUE {
            continue;
        }
        if reg.id & !BPF_ADD_CONST != known.id & !BPF_ADD_CONST {
            continue;
        }
        let k32 = known.id & BPF_ADD_CONST32 != 0;
        let r_add = reg.id & BPF_ADD_CONST != 0;
        let r32 = reg.id & BPF_ADD_CONST32 != 0;
        // A register linked by a 64-bit add keeps its range when the known one was linked by a
        // 32-bit add (its 64-bit value cannot be recovered).
        if k32 && r_add && !r32 {
            continue;
        }
        let k_add = known.id & BPF_ADD_CONST != 0;
        if (!r_add && !k_add) || reg.off == known.off {
            *reg = known.clone();
        } else {
            let delta = reg.off as i64 - known.off as i64;
            let (off, id) = (reg.off, reg.id);
            *reg = known.clone();
            reg.off = off;
            reg.id = id;
            reg.s = sync_linked_scalar(&known.s, delta, k32 || r32);
        }
    }
}

/// Mirrors `mark_ptr_not_null_reg()`.
pub fn mark_ptr_not_null_reg(env: &Env<'_>, reg: &mut RegState) {
    mark_ptr_not_null_reg_in(&env.opts.maps, reg);
}

fn mark_ptr_not_null_reg_in(maps: &[crate::env::MapInfo], reg: &mut RegState) {
    if base_type(reg.ty) == PTR_TO_MAP_VALUE && reg.map != 0 {
        let m = &maps[(reg.map - 1) as usize];
        reg.ty = match m.map_type {
            17 => PTR_TO_XDP_SOCK,
            15 | 18 => PTR_TO_SOCKET,
            _ => PTR_TO_MAP_VALUE,
        };
        return;
    }
    reg.ty &= !PTR_MAYBE_NULL;
}

/// Mirrors `mark_ptr_or_null_regs()` on the current state (`in_cur`) or the branch just pushed.
fn mark_ptr_or_null_regs(env: &mut Env<'_>, in_cur: bool, regno: usize, is_null: bool) {
    let maps = &env.opts.maps;
    let prog_btf = env.opts.prog_btf.as_ref().map(|p| p.btf.clone());
    let st = if in_cur { &mut env.cur } else { &mut env.stack.last_mut().expect("pushed").st };
    let (ref_obj_id, id) = {
        let r = &st.cur().regs[regno];
        (r.ref_obj_id, r.id)
    };
    if ref_obj_id != 0 && ref_obj_id == id && is_null {
        crate::call::release_reference_nomark(st, id);
    }
    st.for_each_reg(|_, reg| {
        if type_may_be_null(reg.ty) && reg.id == id {
            if reg.s.smin_value != 0 || reg.s.smax_value != 0 || !reg.s.var_off.equals_const(0) {
                return;
            }
            if !(type_is_ptr_alloc_obj(reg.ty) || type_is_non_owning_ref(reg.ty)) && reg.off != 0 {
                return;
            }
            if is_null {
                reg.ty = SCALAR_VALUE;
                reg.id = 0;
                reg.ref_obj_id = 0;
                return;
            }
            mark_ptr_not_null_reg_in(maps, reg);
            // reg_may_point_to_spin_lock(): the id tells locks apart.
            let spin = (reg.ty == PTR_TO_MAP_VALUE
                && maps[(reg.map - 1) as usize].record.spin_lock_off.is_some())
                || (type_is_ptr_alloc_obj(reg.ty)
                    && reg.btf == crate::env::BTF_PROG
                    && prog_btf
                        .as_deref()
                        .is_some_and(|b| crate::obj::alloc_obj_spin_lock_off(b, reg.btf_id).is_some()));
            if !spin {
                reg.id = 0;
            }
        }
    });
}

/// Mirrors `find_good_pkt_pointers()`.
fn find_good_pkt_pointers(st: &mut VerifierState, dst: &RegState, ty: u32, range_right_open: bool) {
    if dst.off < 0 || (dst.off == 0 && range_right_open) {
        return;
    }
    if dst.s.umax_value > crate::mem::MAX_PACKET_OFF
        || dst.s.umax_value + dst.off as u64 > crate::mem::MAX_PACKET_OFF
    {
        return;
    }
    let mut new_range = dst.off;
    if range_right_open {
        new_range += 1;
    }
    let id = dst.id;
    st.for_each_reg(|_, reg| {
        if reg.ty == ty && reg.id == id {
            reg.range = reg.range.max(new_range);
        }
    });
}

/// Mirrors `mark_pkt_end()`.
fn mark_pkt_end(st: &mut VerifierState, regno: usize, range_open: bool) {
    let reg = &mut st.cur_mut().regs[regno];
    if reg.ty != PTR_TO_PACKET {
        return;
    }
    reg.range = if range_open { BEYOND_PKT_END } else { AT_PKT_END };
}

/// Mirrors `reg_is_init_pkt_pointer()`.
fn reg_is_init_pkt_pointer(r: &RegState, which: u32) -> bool {
    r.ty == which && r.id == 0 && r.off == 0 && r.s.var_off.equals_const(0)
}

/// Mirrors `try_match_pkt_pointers()`.
fn try_match_pkt_pointers(env: &mut Env<'_>, insn: RawInsn, dst: &RegState, src: &RegState) -> bool {
    if insn.code & 0x08 == 0 || insn.code & 7 == kfvm_isa::opcode::class::JMP32 {
        return false;
    }
    let (dr, sr) = (insn.dst() as usize, insn.src() as usize);
    let a = (dst.ty == PTR_TO_PACKET && src.ty == PTR_TO_PACKET_END)
        || (dst.ty == PTR_TO_PACKET_META && reg_is_init_pkt_pointer(src, PTR_TO_PACKET));
    let b = (dst.ty == PTR_TO_PACKET_END && src.ty == PTR_TO_PACKET)
        || (reg_is_init_pkt_pointer(dst, PTR_TO_PACKET) && src.ty == PTR_TO_PACKET_META);
    // (branch whose pointers get the range: this=false/other=true, pointer is dst?, right open,
    //  branch marked at pkt_end, open)
    let plan: (bool, bool, bool, bool) = match jmp_op(insn.code & 0xf0) {
        Some(JmpOp::Jgt) if a => (true, true, false, true),
        Some(JmpOp::Jgt) if b => (false, false, true, false),
        Some(JmpOp::Jlt) if a => (false, true, true, false),
        Some(JmpOp::Jlt) if b => (true, false, false, true),
        Some(JmpOp::Jge) if a => (true, true, true, false),
        Some(JmpOp::Jge) if b => (false, false, false, true),
        Some(JmpOp::Jle) if a => (false, true, false, true),
        Some(JmpOp::Jle) if b => (true, false, true, false),
        _ => return false,
    };
    let (range_in_this, ptr_is_dst, right_open, end_open) = plan;
    let ptr = if ptr_is_dst { dst } else { src };
    let ptr_regno = if ptr_is_dst { dr } else { sr };
    let other = &mut env.stack.last_mut().expect("pushed").st;
    if range_in_this {
        find_good_pkt_pointers(&mut env.cur, ptr, ptr.ty, right_open);
        mark_pkt_end(other, ptr_regno, end_open);
    } else {
        find_good_pkt_pointers(other, ptr, ptr.ty, right_open);
        mark_pkt_end(&mut env.cur, ptr_regno, end_open);
    }
    true
}

/// Mirrors `find_prev_entry()`: a checkpoint at `insn_idx` on the current path.
pub fn find_prev_entry(env: &Env<'_>, from: &VerifierState, insn_idx: u32) -> Option<StateId> {
    let bucket = crate::prune::explored_bucket(env, insn_idx, from);
    for &id in env.explored[bucket].iter().rev() {
        let st = &env.states[id].state;
        if st.insn_idx == insn_idx
            && st.branches != 0
            && crate::prune::same_callsites(st, from)
            && st.dfs_depth < from.dfs_depth
        {
            return Some(id);
        }
    }
    None
}

/// Mirrors `widen_imprecise_scalars()`: scalars that changed and are not precise become unknown
/// in `cur`.
pub fn widen_imprecise_scalars(env: &mut Env<'_>, old: &VerifierState, cur: &mut VerifierState) {
    let mut idmap = crate::prune::IdMap::new(env.id_gen);
    let cap = env.bpf_capable;
    for fr in (0..=old.curframe()).rev() {
        let (fold, fcur) = (&old.frame[fr], &mut cur.frame[fr]);
        for i in 0..MAX_BPF_REG {
            maybe_widen_reg(&fold.regs[i], &mut fcur.regs[i], &mut idmap, cap);
        }
        let n = fold.stack.len().min(fcur.stack.len());
        for i in 0..n {
            if !fold.stack[i].is_spilled_reg() || !fcur.stack[i].is_spilled_reg() {
                continue;
            }
            maybe_widen_reg(&fold.stack[i].spilled_ptr, &mut fcur.stack[i].spilled_ptr, &mut idmap, cap);
        }
    }
}

/// Mirrors `maybe_widen_reg()`.
fn maybe_widen_reg(rold: &RegState, rcur: &mut RegState, idmap: &mut crate::prune::IdMap, cap: bool) {
    if rold.ty != SCALAR_VALUE || rold.ty != rcur.ty {
        return;
    }
    if rold.precise || rcur.precise || crate::prune::regs_exact(rold, rcur, idmap) {
        return;
    }
    rcur.mark_unknown(cap);
}

/// Mirrors `check_cond_jmp_op()`.
pub fn check_cond_jmp_op(env: &mut Env<'_>, insn: RawInsn, insn_idx: &mut u32) -> Result<()> {
    let op = insn.code & 0xf0;
    let is_x = insn.code & 0x08 != 0;
    if op == 0xe0 {
        // BPF_JCOND: may_goto.
        if insn.code != 0x05 | 0xe0 || insn.src() != 0 || insn.dst() != 0 || insn.imm != 0 {
            return Err(env.reject(Errno::Inval, format!("invalid may_goto imm {}", insn.imm)));
        }
        let idx = *insn_idx;
        let prev = env.cur.parent.and_then(|p| {
            let from = env.states[p].state.clone();
            find_prev_entry(env, &from, idx)
        });
        let e = env.push_stack(idx + 1, idx as i32, false)?;
        env.stack[e].st.may_goto_depth += 1;
        if let Some(p) = prev {
            let old = env.states[p].state.clone();
            let mut q = std::mem::replace(&mut env.stack[e].st, env.cur.clone());
            widen_imprecise_scalars(env, &old, &mut q);
            env.stack[e].st = q;
        }
        *insn_idx = (*insn_idx as i64 + insn.off as i64) as u32;
        return Ok(());
    }
    let Some(jop) = jmp_op(op) else {
        return Err(env.reject(Errno::Inval, format!("invalid BPF_JMP/JMP32 opcode {:x}", op)));
    };
    let (dr, sr) = (insn.dst() as usize, insn.src() as usize);
    env.check_reg_arg(dr, RegArg::Src)?;
    let mut insn_flags = 0;
    let src_reg: RegState;
    if is_x {
        if insn.imm != 0 {
            return Err(env.reject(Errno::Inval, "BPF_JMP/JMP32 uses reserved fields"));
        }
        env.check_reg_arg(sr, RegArg::Src)?;
        let (d, s) = (env.reg(dr), env.reg(sr));
        let pkt_any = |r: &RegState| type_is_pkt_pointer(r.ty) || r.ty == PTR_TO_PACKET_END;
        if !(pkt_any(d) && pkt_any(s)) && env.is_pointer_value(sr) {
            return Err(env.reject(Errno::Acces, format!("R{sr} pointer comparison prohibited")));
        }
        if env.reg(sr).ty == PTR_TO_STACK {
            insn_flags |= insn_f::SRC_REG_STACK;
        }
        if env.reg(dr).ty == PTR_TO_STACK {
            insn_flags |= insn_f::DST_REG_STACK;
        }
        src_reg = env.reg(sr).clone();
    } else {
        if insn.src() != 0 {
            return Err(env.reject(Errno::Inval, "BPF_JMP/JMP32 uses reserved fields"));
        }
        let mut f = RegState::not_init();
        f.ty = SCALAR_VALUE;
        f.mark_known(insn.imm as i64 as u64);
        src_reg = f;
        if env.reg(dr).ty == PTR_TO_STACK {
            insn_flags |= insn_f::DST_REG_STACK;
        }
    }
    if insn_flags != 0 {
        env.push_jmp_history(insn_flags, 0)?;
    }
    let is_jmp32 = insn.code & 7 == kfvm_isa::opcode::class::JMP32;
    let dst_reg = env.reg(dr).clone();
    let pred = is_branch_taken(&dst_reg, &src_reg, jop, is_jmp32);
    if pred.is_some() {
        if dst_reg.ty == SCALAR_VALUE {
            mark_chain_precision(env, dr as i32)?;
        }
        if is_x && src_reg.ty == SCALAR_VALUE {
            mark_chain_precision(env, sr as i32)?;
        }
    }
    match pred {
        Some(true) => {
            if env.log.level12() {
                let f = env.cur.curframe();
                env.print_insn_state(f);
            }
            *insn_idx = (*insn_idx as i64 + insn.off as i64) as u32;
            return Ok(());
        }
        Some(false) => {
            if env.log.level12() {
                let f = env.cur.curframe();
                env.print_insn_state(f);
            }
            return Ok(());
        }
        None => {}
    }

    let mut linked = LinkedRegs::default();
    if is_x && src_reg.ty == SCALAR_VALUE && src_reg.id != 0 {
        collect_linked_regs(env, src_reg.id, &mut linked);
    }
    if dst_reg.ty == SCALAR_VALUE && dst_reg.id != 0 {
        collect_linked_regs(env, dst_reg.id, &mut linked);
    }
    if linked.entries.len() > 1 {
        env.push_jmp_history(0, linked.pack())?;
    }
    let target = (*insn_idx as i64 + insn.off as i64 + 1) as u32;
    env.push_stack(target, *insn_idx as i32, false)?;
    // Re-read the registers: collecting linked registers may have cleared ids.
    let dst_reg = env.reg(dr).clone();
    let src_reg = if is_x { env.reg(sr).clone() } else { src_reg };

    if dst_reg.ty == SCALAR_VALUE && src_reg.ty == SCALAR_VALUE {
        let same = is_x && dr == sr;
        let b = reg_set_min_max(&dst_reg.s, &src_reg.s, jop, is_jmp32, same);
        for v in &b.violations {
            verbose!(env.log, "verifier bug: {}\n", v.detail);
        }
        env.reg_mut(dr).s = b.false_reg1;
        env.stack.last_mut().expect("pushed").st.cur_mut().regs[dr].s = b.true_reg1;
        if is_x && !same {
            env.reg_mut(sr).s = b.false_reg2;
            env.stack.last_mut().expect("pushed").st.cur_mut().regs[sr].s = b.true_reg2;
        }
    }
    let cf = env.cur.curframe() as u8;
    if is_x && src_reg.ty == SCALAR_VALUE && src_reg.id != 0 {
        let at = LinkedReg { frameno: cf, regno: sr as u8, is_reg: true };
        sync_linked_regs(env, true, at, &linked);
        sync_linked_regs(env, false, at, &linked);
    }
    if dst_reg.ty == SCALAR_VALUE && dst_reg.id != 0 {
        let at = LinkedReg { frameno: cf, regno: dr as u8, is_reg: true };
        sync_linked_regs(env, true, at, &linked);
        sync_linked_regs(env, false, at, &linked);
    }

    // Comparing a maybe-NULL pointer with a non-NULL one.
    if !is_jmp32
        && is_x
        && src_reg.ty != SCALAR_VALUE
        && dst_reg.ty != SCALAR_VALUE
        && type_may_be_null(src_reg.ty) != type_may_be_null(dst_reg.ty)
        && base_type(src_reg.ty) != PTR_TO_BTF_ID
        && base_type(dst_reg.ty) != PTR_TO_BTF_ID
    {
        let eq_in_cur = match jop {
            JmpOp::Jeq => Some(false),
            JmpOp::Jne => Some(true),
            _ => None,
        };
        if let Some(in_cur) = eq_in_cur {
            let regno = if type_may_be_null(src_reg.ty) { sr } else { dr };
            let mut r = if in_cur {
                env.reg(regno).clone()
            } else {
                env.stack.last().expect("pushed").st.cur().regs[regno].clone()
            };
            mark_ptr_not_null_reg(env, &mut r);
            if in_cur {
                *env.reg_mut(regno) = r;
            } else {
                env.stack.last_mut().expect("pushed").st.cur_mut().regs[regno] = r;
            }
        }
    }

    if !is_jmp32
        && !is_x
        && insn.imm == 0
        && (jop == JmpOp::Jeq || jop == JmpOp::Jne)
        && type_may_be_null(dst_reg.ty)
    {
        mark_ptr_or_null_regs(env, true, dr, jop == JmpOp::Jne);
        mark_ptr_or_null_regs(env, false, dr, jop == JmpOp::Jeq);
    } else {
        let src_any = env.reg(sr).clone();
        if !try_match_pkt_pointers(env, insn, &dst_reg, &src_any) && env.is_pointer_value(dr) {
            return Err(env.reject(Errno::Acces, format!("R{dr} pointer comparison prohibited")));
        }
    }
    if env.log.level12() {
        let f = env.cur.curframe();
        env.print_insn_state(f);
    }
    Ok(())
}
