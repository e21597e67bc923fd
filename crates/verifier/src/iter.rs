//! Open-coded iterators (`KF_ITER_NEW`/`KF_ITER_NEXT`/`KF_ITER_DESTROY` kfuncs such as
//! `bpf_iter_num_new/next/destroy`): iterator state in `STACK_ITER` stack slots
//! (`mark_stack_slots_iter()`, `unmark_stack_slots_iter()`, `is_iter_reg_valid_uninit()`,
//! `is_iter_reg_valid_init()`), the iterator argument of a kfunc (`process_iter_arg()`), and the
//! fork at every `iter_next()` call that lets the verifier prove an iterator loop converges
//! (`process_iter_next_call()`, `widen_imprecise_scalars()`). The convergence check itself is
//! in [`crate::prune::is_state_visited`].
//!
//! An iterator lives in `nr_slots` 8-byte stack slots (the size of `struct bpf_iter_<type>`);
//! the first (highest) slot carries the reference that makes a forgotten
//! `bpf_iter_<type>_destroy()` an `Unreleased reference` at exit.

use crate::env::{Env, BTF_VMLINUX};
use crate::error::{Errno, Result, VerifyError};
use crate::prune::{regs_exact, same_callsites, IdMap};
use crate::state::*;
use crate::verbose;

/// `KF_ITER_NEW`.
pub const KF_ITER_NEW: u32 = 1 << 8;
/// `KF_ITER_NEXT`.
pub const KF_ITER_NEXT: u32 = 1 << 9;
/// `KF_ITER_DESTROY`.
pub const KF_ITER_DESTROY: u32 = 1 << 10;
/// `KF_RCU_PROTECTED`.
pub const KF_RCU_PROTECTED: u32 = 1 << 11;

/// `ITER_PREFIX`.
const ITER_PREFIX: &str = "bpf_iter_";

/// The iterator part of `struct bpf_kfunc_call_arg_meta` and what the iterator rules read of the
/// rest: the kfunc's name, flags and prototype, and (filled by [`process_iter_arg`]) where the
/// iterator is.
#[derive(Clone, Debug, Default)]
pub struct IterMeta {
    /// `func_name`.
    pub func_name: String,
    /// `kfunc_flags`.
    pub kfunc_flags: u32,
    /// `func_proto`: the kfunc's `FUNC_PROTO` id in the kernel BTF (`meta->btf`).
    pub func_proto: u32,
    /// `iter.spi`.
    pub spi: usize,
    /// `iter.frameno`.
    pub frameno: u32,
    /// `ref_obj_id`: the iterator's reference.
    pub ref_obj_id: u32,
}

impl IterMeta {
    /// `is_iter_kfunc()`.
    pub fn is_iter_kfunc(&self) -> bool {
        self.kfunc_flags & (KF_ITER_NEW | KF_ITER_NEXT | KF_ITER_DESTROY) != 0
    }

    /// `is_iter_new_kfunc()`.
    pub fn is_iter_new_kfunc(&self) -> bool {
        self.kfunc_flags & KF_ITER_NEW != 0
    }

    /// `is_iter_next_kfunc()`.
    pub fn is_iter_next_kfunc(&self) -> bool {
        self.kfunc_flags & KF_ITER_NEXT != 0
    }

    /// `is_iter_destroy_kfunc()`.
    pub fn is_iter_destroy_kfunc(&self) -> bool {
        self.kfunc_flags & KF_ITER_DESTROY != 0
    }

    /// `is_kfunc_rcu_protected()`.
    pub fn is_kfunc_rcu_protected(&self) -> bool {
        self.kfunc_flags & KF_RCU_PROTECTED != 0
    }
}

/// Why [`stack_slot_obj_get_spi`] found no slot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SpiError {
    /// `-EINVAL`: a variable or misaligned offset (already logged).
    Inval,
    /// `-ERANGE`: the slots lie beyond the stack allocated so far.
    Range,
}

/// Mirrors `__get_spi()`.
pub const fn get_spi(off: i32) -> i32 {
    (-off - 1) / BPF_REG_SIZE as i32
}

/// Mirrors `is_spi_bounds_valid()`.
pub fn is_spi_bounds_valid(state: &FuncState, spi: i32, nr_slots: i32) -> bool {
    let allocated_slots = (state.allocated_stack() / BPF_REG_SIZE) as i32;
    spi - nr_slots + 1 >= 0 && spi < allocated_slots
}

/// Mirrors `stack_slot_obj_get_spi()`: the slot index of the first (highest) of the `nr_slots`
/// slots a stack object at `reg` occupies.
pub fn stack_slot_obj_get_spi(
    env: &mut Env<'_>,
    reg: &RegState,
    obj_kind: &str,
    nr_slots: i32,
) -> std::result::Result<usize, SpiError> {
    if !reg.s.var_off.is_const() {
        verbose!(env.log, "{obj_kind} has to be at a constant offset\n");
        return Err(SpiError::Inval);
    }
    let off = reg.off.wrapping_add(reg.s.var_off.value as i32);
    if off % BPF_REG_SIZE as i32 != 0 {
        verbose!(env.log, "cannot pass in {obj_kind} at an offset={off}\n");
        return Err(SpiError::Inval);
    }
    let spi = get_spi(off);
    if spi + 1 < nr_slots {
        verbose!(env.log, "cannot pass in {obj_kind} at an offset={off}\n");
        return Err(SpiError::Inval);
    }
    if !is_spi_bounds_valid(&env.cur.frame[reg.frameno as usize], spi, nr_slots) {
        return Err(SpiError::Range);
    }
    Ok(spi as usize)
}

/// Mirrors `iter_get_spi()`.
pub fn iter_get_spi(
    env: &mut Env<'_>,
    reg: &RegState,
    nr_slots: i32,
) -> std::result::Result<usize, SpiError> {
    stack_slot_obj_get_spi(env, reg, "iter", nr_slots)
}

/// Mirrors `in_rcu_cs()` ([`Env::in_rcu_cs`]): inside `bpf_rcu_read_lock()`, a spin-locked
/// region, or a non-sleepable program.
pub fn in_rcu_cs(env: &Env<'_>) -> bool {
    env.in_rcu_cs()
}

/// Mirrors `iter_type_str()`: `num` for `struct bpf_iter_num`.
pub fn iter_type_str(env: &Env<'_>, btf: u32, btf_id: u32) -> String {
    let name = match (btf, env.opts.kernel_btf.as_deref()) {
        (BTF_VMLINUX, Some(b)) => b.get(btf_id).map(|t| t.name().to_string()),
        _ => None,
    };
    let name = name.unwrap_or_else(|| env.btf_type_name(btf, btf_id));
    name.strip_prefix(ITER_PREFIX).map(str::to_string).unwrap_or(name)
}

/// Mirrors `iter_state_str()`.
pub fn iter_state_str(s: IterState) -> &'static str {
    match s {
        IterState::Active => "active",
        IterState::Drained => "drained",
        IterState::Invalid => "<invalid>",
    }
}

/// Mirrors `mark_stack_slots_iter()`: `nr_slots` slots at `reg` become an active iterator of
/// type `btf_id`, holding a new reference acquired at `insn_idx`.
pub fn mark_stack_slots_iter(
    env: &mut Env<'_>,
    meta: &IterMeta,
    reg: &RegState,
    insn_idx: u32,
    btf: u32,
    btf_id: u32,
    nr_slots: i32,
) -> Result<()> {
    let spi = match iter_get_spi(env, reg, nr_slots) {
        Ok(s) => s,
        Err(SpiError::Inval) => return Err(env.rejected(Errno::Inval, "invalid iterator slot")),
        Err(SpiError::Range) => return Err(env.verifier_bug("iterator slots beyond the allocated stack")),
    };
    let id = crate::call::acquire_reference(env, insn_idx);
    let extra = if meta.is_kfunc_rcu_protected() {
        if in_rcu_cs(env) {
            MEM_RCU
        } else {
            PTR_UNTRUSTED
        }
    } else {
        0
    };
    let fr = reg.frameno as usize;
    for i in 0..nr_slots as usize {
        let slot = &mut env.cur.frame[fr].stack[spi - i];
        let st = &mut slot.spilled_ptr;
        st.mark_known_zero();
        // There is no register type of its own for an iterator.
        st.ty = PTR_TO_STACK | extra;
        st.ref_obj_id = if i == 0 { id } else { 0 };
        st.btf = btf;
        st.btf_id = btf_id;
        st.iter_state = IterState::Active;
        st.iter_depth = 0;
        slot.slot_type = [slot::ITER; BPF_REG_SIZE];
        crate::liveness::bpf_mark_stack_write(env, reg.frameno, 1 << (spi - i));
        env.mark_stack_slot_scratched(spi - i);
    }
    Ok(())
}

/// Mirrors `unmark_stack_slots_iter()`: the iterator at `reg` is destroyed and its reference
/// released.
pub fn unmark_stack_slots_iter(env: &mut Env<'_>, reg: &RegState, nr_slots: i32) -> Result<()> {
    let spi = match iter_get_spi(env, reg, nr_slots) {
        Ok(s) => s,
        Err(SpiError::Inval) => return Err(env.rejected(Errno::Inval, "invalid iterator slot")),
        Err(SpiError::Range) => return Err(env.verifier_bug("iterator slots beyond the allocated stack")),
    };
    let fr = reg.frameno as usize;
    for i in 0..nr_slots as usize {
        if i == 0 {
            let id = env.cur.frame[fr].stack[spi].spilled_ptr.ref_obj_id;
            if !crate::call::release_reference(env, id) {
                return Err(env.verifier_bug(format!("iterator reference {id} was not held")));
            }
        }
        let cap = env.bpf_capable;
        let slot = &mut env.cur.frame[fr].stack[spi - i];
        slot.spilled_ptr.mark_not_init(cap);
        slot.slot_type = [slot::INVALID; BPF_REG_SIZE];
        crate::liveness::bpf_mark_stack_write(env, reg.frameno, 1 << (spi - i));
        env.mark_stack_slot_scratched(spi - i);
    }
    Ok(())
}

/// Mirrors `is_iter_reg_valid_uninit()`: no slot at `reg` holds (part of) an iterator. Slots
/// beyond the allocated stack count as uninitialised (the write check grows the stack).
pub fn is_iter_reg_valid_uninit(env: &mut Env<'_>, reg: &RegState, nr_slots: i32) -> bool {
    let spi = match iter_get_spi(env, reg, nr_slots) {
        Ok(s) => s,
        Err(SpiError::Range) => return true,
        Err(SpiError::Inval) => return false,
    };
    let state = &env.cur.frame[reg.frameno as usize];
    (0..nr_slots as usize).all(|i| state.stack[spi - i].slot_type.iter().all(|&t| t != slot::ITER))
}

/// The answer of [`is_iter_reg_valid_init`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IterInit {
    /// 0: an initialised iterator of the expected type.
    Ok,
    /// `-EINVAL`: not one.
    Inval,
    /// `-EPROTO`: an RCU-protected iterator created outside an RCU critical section.
    Proto,
}

/// Mirrors `is_iter_reg_valid_init()`.
pub fn is_iter_reg_valid_init(
    env: &mut Env<'_>,
    reg: &RegState,
    btf: u32,
    btf_id: u32,
    nr_slots: i32,
) -> IterInit {
    let Ok(spi) = iter_get_spi(env, reg, nr_slots) else { return IterInit::Inval };
    let state = &env.cur.frame[reg.frameno as usize];
    for i in 0..nr_slots as usize {
        let slot = &state.stack[spi - i];
        let st = &slot.spilled_ptr;
        if st.ty & PTR_UNTRUSTED != 0 {
            return IterInit::Proto;
        }
        // Only the main (first) slot has the reference.
        if (i == 0) != (st.ref_obj_id != 0) {
            return IterInit::Inval;
        }
        if st.btf != btf || st.btf_id != btf_id {
            return IterInit::Inval;
        }
        if slot.slot_type.iter().any(|&t| t != slot::ITER) {
            return IterInit::Inval;
        }
    }
    IterInit::Ok
}

/// Mirrors `mark_stack_slot_obj_read()`: the slots of a stack object are read at the current
/// instruction.
pub fn mark_stack_slot_obj_read(
    env: &mut Env<'_>,
    reg: &RegState,
    spi: usize,
    nr_slots: usize,
) -> Result<()> {
    for i in 0..nr_slots {
        let insn_idx = env.insn_idx;
        crate::liveness::bpf_mark_stack_read(env, reg.frameno, insn_idx, 1 << (spi - i))?;
        env.mark_stack_slot_scratched(spi - i);
    }
    Ok(())
}

/// Mirrors `btf_check_iter_arg()` (kernel/bpf/btf.c): the type id of the `struct bpf_iter_*`
/// argument `arg_idx` of `func_proto` points to.
pub fn btf_check_iter_arg(btf: &kfvm_btf::Btf, func_proto: u32, arg_idx: usize) -> Option<u32> {
    let proto = btf.get(func_proto)?;
    let arg = proto.params().nth(arg_idx)?;
    let t = btf.skip_mods_and_typedefs(arg.type_id).ok()?;
    if t.kind() != kfvm_btf::Kind::Ptr {
        return None;
    }
    let t = btf.skip_mods_and_typedefs(t.size_or_type()).ok()?;
    if !matches!(t.kind(), kfvm_btf::Kind::Struct | kfvm_btf::Kind::Union) {
        return None;
    }
    if !t.name().starts_with(ITER_PREFIX) {
        return None;
    }
    Some(t.id())
}

/// Mirrors `process_iter_arg()`: argument `regno` of an iterator kfunc (or an `__iter`
/// argument) must point to an iterator on the stack: an uninitialised one for
/// `bpf_iter_<type>_new()` (which initialises it), an initialised one of the same type otherwise
/// (`bpf_iter_<type>_destroy()` destroys it).
pub fn process_iter_arg(env: &mut Env<'_>, regno: usize, insn_idx: u32, meta: &mut IterMeta) -> Result<()> {
    let reg = env.reg(regno).clone();
    if reg.ty != PTR_TO_STACK {
        env.hint = Some(format!(
            "declare the iterator as a local variable (struct bpf_iter_* on the stack) and pass its address to {}()",
            meta.func_name
        ));
        return Err(
            env.reject(Errno::Inval, format!("arg#{} expected pointer to an iterator on stack", regno - 1))
        );
    }
    let Some(kbtf) = env.opts.kernel_btf.clone() else {
        return Err(VerifyError::Unsupported("iterator kfuncs without the kernel BTF".into()));
    };
    let Some(btf_id) = btf_check_iter_arg(&kbtf, meta.func_proto, regno - 1) else {
        return Err(env.reject(Errno::Inval, format!("expected valid iter pointer as arg #{}", regno - 1)));
    };
    let size = kbtf.get(btf_id).and_then(|t| t.size()).unwrap_or(0);
    let nr_slots = (size / BPF_REG_SIZE as u32) as i32;
    let btf = BTF_VMLINUX;

    if meta.is_iter_new_kfunc() {
        // bpf_iter_<type>_new() expects a pointer to an uninitialised iterator.
        if !is_iter_reg_valid_uninit(env, &reg, nr_slots) {
            let t = iter_type_str(env, btf, btf_id);
            env.hint = Some(format!(
                "this iterator is still live: call bpf_iter_{t}_destroy() on it before {}() makes a new one in its place",
                meta.func_name
            ));
            return Err(
                env.reject(Errno::Inval, format!("expected uninitialized iter_{t} as arg #{}", regno - 1))
            );
        }
        crate::mem::check_stack_slots_writable(env, insn_idx as usize, regno, nr_slots * 8)?;
        let reg = env.reg(regno).clone();
        mark_stack_slots_iter(env, meta, &reg, insn_idx, btf, btf_id, nr_slots)?;
    } else {
        // iter_next(), iter_destroy() and other kfuncs taking an iterator expect it
        // initialised.
        match is_iter_reg_valid_init(env, &reg, btf, btf_id, nr_slots) {
            IterInit::Ok => {}
            IterInit::Inval => {
                let t = iter_type_str(env, btf, btf_id);
                env.hint = Some(format!(
                    "{}() needs an iterator made by bpf_iter_{t}_new() and not yet destroyed on this path",
                    meta.func_name
                ));
                return Err(env.reject(
                    Errno::Inval,
                    format!("expected an initialized iter_{t} as arg #{}", regno - 1),
                ));
            }
            IterInit::Proto => {
                let name = meta.func_name.clone();
                return Err(env.reject(Errno::Proto, format!("expected an RCU CS when using {name}")));
            }
        }
        let spi = match iter_get_spi(env, &reg, nr_slots) {
            Ok(s) => s,
            Err(_) => return Err(env.rejected(Errno::Inval, "invalid iterator slot")),
        };
        mark_stack_slot_obj_read(env, &reg, spi, nr_slots as usize)?;
        // Remembered for process_iter_next_call().
        meta.spi = spi;
        meta.frameno = reg.frameno;
        meta.ref_obj_id = env.cur.frame[reg.frameno as usize].stack[spi].spilled_ptr.ref_obj_id;
        if meta.is_iter_destroy_kfunc() {
            unmark_stack_slots_iter(env, &reg, nr_slots)?;
        }
    }
    Ok(())
}

/// Mirrors `find_prev_entry()`: the nearest checkpoint at `insn_idx` on the current path (a
/// loop entry), with the same call sites and a smaller DFS depth than `cur`.
pub fn find_prev_entry(env: &Env<'_>, cur: &VerifierState, insn_idx: u32) -> Option<StateId> {
    let bucket = crate::prune::explored_bucket(env, insn_idx, cur);
    env.explored[bucket].iter().rev().copied().find(|&id| {
        let st = &env.states[id].state;
        !env.states[id].in_free_list
            && st.insn_idx == insn_idx
            && st.branches != 0
            && same_callsites(st, cur)
            && st.dfs_depth < cur.dfs_depth
    })
}

/// Mirrors `maybe_widen_reg()`.
fn maybe_widen_reg(rold: &RegState, rcur: &mut RegState, idmap: &mut IdMap, bpf_capable: bool) {
    if rold.ty != SCALAR_VALUE || rold.ty != rcur.ty {
        return;
    }
    if rold.precise || rcur.precise || regs_exact(rold, rcur, idmap) {
        return;
    }
    rcur.mark_unknown(bpf_capable);
}

/// Mirrors `widen_imprecise_scalars()`: scalars of `cur` that are imprecise in both `old` (the
/// previous loop entry) and `cur` and differ forget their range, so that iterations converge.
pub fn widen_imprecise_scalars(env: &Env<'_>, old: &VerifierState, cur: &mut VerifierState) {
    let mut idmap = IdMap::new(env.id_gen);
    let cap = env.bpf_capable;
    for fr in (0..=old.curframe()).rev() {
        let (fold, fcur) = (&old.frame[fr], &mut cur.frame[fr]);
        for i in 0..MAX_BPF_REG {
            maybe_widen_reg(&fold.regs[i], &mut fcur.regs[i], &mut idmap, cap);
        }
        let num_slots = fold.stack.len().min(fcur.stack.len());
        for i in 0..num_slots {
            if !fold.stack[i].is_spilled_reg() || !fcur.stack[i].is_spilled_reg() {
                continue;
            }
            maybe_widen_reg(&fold.stack[i].spilled_ptr, &mut fcur.stack[i].spilled_ptr, &mut idmap, cap);
        }
    }
}

/// Mirrors `process_iter_next_call()`: at an `iter_next()` call the path forks. The current
/// path continues with the iterator drained and `R0` NULL; for an active iterator, a second path
/// (queued) continues with it still active one level deeper and `R0` not NULL, its imprecise
/// scalars widened against the previous loop entry. The loop converges when an `iter_next()`
/// call is reached in a state equivalent to an earlier one ([`crate::prune::is_state_visited`]).
pub fn process_iter_next_call(env: &mut Env<'_>, insn_idx: u32, meta: &IterMeta) -> Result<()> {
    let (fr, spi) = (meta.frameno as usize, meta.spi);
    let cur_state = env.cur.frame[fr].stack[spi].spilled_ptr.iter_state;
    if cur_state != IterState::Active && cur_state != IterState::Drained {
        return Err(env.verifier_bug(format!(
            "unexpected iterator state {} ({})",
            cur_state as u32,
            iter_state_str(cur_state)
        )));
    }
    if cur_state == IterState::Active {
        // The iter_next() call is a forced checkpoint: is_state_visited() made the parent state
        // at this very instruction.
        let parent = env.cur.parent;
        let ok = parent.is_some_and(|p| {
            let ps = &env.states[p].state;
            ps.insn_idx == insn_idx && same_callsites(ps, &env.cur)
        });
        let Some(parent) = parent.filter(|_| ok) else {
            return Err(env.verifier_bug("bad parent state for iter next call"));
        };
        // Skip the checkpoint is_state_visited() made for this call.
        let parent_state = env.states[parent].state.clone();
        let prev_st = find_prev_entry(env, &parent_state, insn_idx);
        let qi = env.push_stack(insn_idx + 1, insn_idx as i32, false)?;
        let mut queued =
            std::mem::replace(&mut env.stack[qi].st, VerifierState::new(FuncState::new(0, 0, 0)));
        {
            let it = &mut queued.frame[fr].stack[spi].spilled_ptr;
            it.iter_state = IterState::Active;
            it.iter_depth += 1;
        }
        if let Some(p) = prev_st {
            let old = env.states[p].state.clone();
            widen_imprecise_scalars(env, &old, &mut queued);
        }
        let qf = queued.curframe();
        queued.frame[qf].regs[0].clear_maybe_null();
        env.stack[qi].st = queued;
    }
    // The current path: the iterator is drained (same depth) and R0 is NULL.
    env.cur.frame[fr].stack[spi].spilled_ptr.iter_state = IterState::Drained;
    let cap = env.bpf_capable;
    let cf = env.cur.curframe();
    env.cur.frame[cf].regs[0].mark_const_zero(cap);
    Ok(())
}

/// The part of `visit_insn()` (`check_cfg()`) for kfunc calls: a call to an `iter_next()`
/// kfunc is a prune point and a forced checkpoint, which iterator loops need to converge
/// (and `insn_aux_data.is_iter_next`).
pub fn mark_iter_next_checkpoints(
    insns: &[kfvm_isa::RawInsn],
    opts: &crate::env::CheckOptions,
    aux: &mut [crate::env::InsnAux],
) {
    for (t, insn) in insns.iter().enumerate() {
        if insn.code != 0x85 || insn.src() != 2 || insn.off != 0 {
            continue;
        }
        // fetch_kfunc_meta() succeeds for the kfuncs the program may call.
        let next = opts.kfuncs.get(insn.imm as u32).is_some_and(|k| k.allowed && k.flags & KF_ITER_NEXT != 0);
        if next {
            aux[t].prune_point = true;
            aux[t].force_checkpoint = true;
            // check_kfunc_call() sets is_iter_next when it first walks the call; no checkpoint
            // can exist at the call before that, so setting it here is the same.
            aux[t].is_iter_next = true;
        }
    }
}
