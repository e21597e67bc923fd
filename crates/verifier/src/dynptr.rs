//! Dynptrs (`struct bpf_dynptr`): a dynptr lives in two `STACK_DYNPTR` stack slots (or arrives
//! as a `CONST_PTR_TO_DYNPTR` callback argument). Constructors (`bpf_dynptr_from_xdp()`,
//! `bpf_dynptr_from_skb()`, `bpf_dynptr_from_mem()`, ...) take an uninitialised one
//! (`__uninit`, `MEM_UNINIT`); everything else an initialised one. Slices
//! (`bpf_dynptr_slice()`, `bpf_dynptr_slice_rdwr()`) carry the dynptr's id in `dynptr_id` and
//! die with it: overwriting the dynptr's slots (`destroy_if_dynptr_stack_slot()`) or releasing
//! a referenced (ring buffer) dynptr invalidates them.

use crate::env::Env;
use crate::error::{Errno, Result};
use crate::iter::{mark_stack_slot_obj_read, stack_slot_obj_get_spi, SpiError};
use crate::state::*;
use crate::verbose;

/// `BPF_DYNPTR_NR_SLOTS`.
pub const BPF_DYNPTR_NR_SLOTS: i32 = 2;
/// `BPF_DYNPTR_SIZE`.
pub const BPF_DYNPTR_SIZE: i32 = 16;

/// `ARG_PTR_TO_DYNPTR` with its modifiers: the argument type of a dynptr argument
/// (`enum bpf_arg_type` bits: [`MEM_UNINIT`], [`MEM_RDONLY`] and a `DYNPTR_TYPE_*` flag).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct DynptrArgType(pub u32);

impl DynptrArgType {
    /// `ARG_PTR_TO_DYNPTR` with modifiers `flags`.
    pub const fn new(flags: u32) -> DynptrArgType {
        DynptrArgType(flags)
    }

    /// Whether modifier `f` is set.
    pub const fn has(self, f: u32) -> bool {
        self.0 & f != 0
    }
}

/// Mirrors `dynptr_get_spi()`.
pub fn dynptr_get_spi(env: &mut Env<'_>, reg: &RegState) -> std::result::Result<usize, SpiError> {
    stack_slot_obj_get_spi(env, reg, "dynptr", BPF_DYNPTR_NR_SLOTS)
}

/// Mirrors `arg_to_dynptr_type()`.
pub fn arg_to_dynptr_type(arg_type: DynptrArgType) -> DynptrType {
    match arg_type.0 & DYNPTR_TYPE_FLAG_MASK {
        DYNPTR_TYPE_LOCAL => DynptrType::Local,
        DYNPTR_TYPE_RINGBUF => DynptrType::Ringbuf,
        DYNPTR_TYPE_SKB => DynptrType::Skb,
        DYNPTR_TYPE_XDP => DynptrType::Xdp,
        DYNPTR_TYPE_SKB_META => DynptrType::SkbMeta,
        _ => DynptrType::Invalid,
    }
}

/// Mirrors `get_dynptr_type_flag()`.
pub fn get_dynptr_type_flag(t: DynptrType) -> u32 {
    match t {
        DynptrType::Local => DYNPTR_TYPE_LOCAL,
        DynptrType::Ringbuf => DYNPTR_TYPE_RINGBUF,
        DynptrType::Skb => DYNPTR_TYPE_SKB,
        DynptrType::Xdp => DYNPTR_TYPE_XDP,
        DynptrType::SkbMeta => DYNPTR_TYPE_SKB_META,
        _ => 0,
    }
}

/// Mirrors `dynptr_type_refcounted()`: only ring buffer dynptrs hold a reference.
pub fn dynptr_type_refcounted(t: DynptrType) -> bool {
    t == DynptrType::Ringbuf
}

/// Mirrors `__mark_dynptr_reg()`.
pub fn mark_dynptr_reg(reg: &mut RegState, t: DynptrType, first_slot: bool, dynptr_id: u32) {
    reg.mark_known_zero();
    // Meaningless for STACK_DYNPTR slots, but what callback arguments need.
    reg.ty = CONST_PTR_TO_DYNPTR;
    // Each dynptr gets an id of its own, which its slices carry.
    reg.id = dynptr_id;
    reg.dynptr_type = t;
    reg.dynptr_first_slot = first_slot;
}

/// Mirrors `mark_dynptr_cb_reg()`: a `CONST_PTR_TO_DYNPTR` callback argument.
pub fn mark_dynptr_cb_reg(env: &mut Env<'_>, reg: &mut RegState, t: DynptrType) {
    let id = env.new_id();
    mark_dynptr_reg(reg, t, true, id);
}

fn spi_or_reject(env: &mut Env<'_>, reg: &RegState) -> Result<usize> {
    match dynptr_get_spi(env, reg) {
        Ok(s) => Ok(s),
        Err(SpiError::Inval) => Err(env.rejected(Errno::Inval, "invalid dynptr slot")),
        Err(SpiError::Range) => Err(env.verifier_bug("dynptr slots beyond the allocated stack")),
    }
}

/// Mirrors `mark_stack_slots_dynptr()`: the two slots at `reg` become a dynptr of the type
/// `arg_type` names (a referenced one for ring buffers, sharing `clone_ref_obj_id` for a clone).
pub fn mark_stack_slots_dynptr(
    env: &mut Env<'_>,
    reg: &RegState,
    arg_type: DynptrArgType,
    insn_idx: u32,
    clone_ref_obj_id: u32,
) -> Result<()> {
    let spi = spi_or_reject(env, reg)?;
    let fr = reg.frameno as usize;
    // spi and spi - 1 may belong to two different dynptrs: destroy both.
    destroy_if_dynptr_stack_slot(env, fr, spi)?;
    destroy_if_dynptr_stack_slot(env, fr, spi - 1)?;
    env.cur.frame[fr].stack[spi].slot_type = [slot::DYNPTR; BPF_REG_SIZE];
    env.cur.frame[fr].stack[spi - 1].slot_type = [slot::DYNPTR; BPF_REG_SIZE];
    let t = arg_to_dynptr_type(arg_type);
    if t == DynptrType::Invalid {
        return Err(env.rejected(Errno::Inval, "invalid dynptr type"));
    }
    // mark_dynptr_stack_regs()
    let id = env.new_id();
    mark_dynptr_reg(&mut env.cur.frame[fr].stack[spi].spilled_ptr, t, true, id);
    mark_dynptr_reg(&mut env.cur.frame[fr].stack[spi - 1].spilled_ptr, t, false, id);
    if dynptr_type_refcounted(t) {
        // The id tracks the release.
        let id = if clone_ref_obj_id != 0 {
            clone_ref_obj_id
        } else {
            crate::call::acquire_reference(env, insn_idx)
        };
        env.cur.frame[fr].stack[spi].spilled_ptr.ref_obj_id = id;
        env.cur.frame[fr].stack[spi - 1].spilled_ptr.ref_obj_id = id;
    }
    crate::liveness::bpf_mark_stack_write(env, reg.frameno, (1 << (spi - 1)) | (1 << spi));
    Ok(())
}

/// Mirrors `invalidate_dynptr()`.
fn invalidate_dynptr(env: &mut Env<'_>, fr: usize, spi: usize) {
    let cap = env.bpf_capable;
    for s in [spi, spi - 1] {
        let st = &mut env.cur.frame[fr].stack[s];
        st.slot_type = [slot::INVALID; BPF_REG_SIZE];
        st.spilled_ptr.mark_not_init(cap);
    }
    let frameno = env.cur.frame[fr].frameno;
    crate::liveness::bpf_mark_stack_write(env, frameno, (1 << (spi - 1)) | (1 << spi));
}

/// Mirrors `unmark_stack_slots_dynptr()`: the dynptr at `reg` is released; for a referenced
/// one, its clones and its slices die with it.
pub fn unmark_stack_slots_dynptr(env: &mut Env<'_>, reg: &RegState) -> Result<()> {
    let spi = spi_or_reject(env, reg)?;
    let fr = reg.frameno as usize;
    let t = env.cur.frame[fr].stack[spi].spilled_ptr.dynptr_type;
    if !dynptr_type_refcounted(t) {
        invalidate_dynptr(env, fr, spi);
        return Ok(());
    }
    let ref_obj_id = env.cur.frame[fr].stack[spi].spilled_ptr.ref_obj_id;
    // Slices of this dynptr.
    if !crate::call::release_reference(env, ref_obj_id) {
        return Err(env.verifier_bug(format!("dynptr reference {ref_obj_id} was not held")));
    }
    // Clones.
    for i in 1..env.cur.frame[fr].stack.len() {
        if env.cur.frame[fr].stack[i].spilled_ptr.ref_obj_id != ref_obj_id {
            continue;
        }
        if env.cur.frame[fr].stack[i].slot_type[0] != slot::DYNPTR {
            return Err(env.verifier_bug("misconfigured ref_obj_id"));
        }
        if env.cur.frame[fr].stack[i].spilled_ptr.dynptr_first_slot {
            invalidate_dynptr(env, fr, i);
        }
    }
    Ok(())
}

/// Mirrors `mark_reg_invalid()`.
fn mark_reg_invalid(allow_ptr_leaks: bool, bpf_capable: bool, reg: &mut RegState) {
    if !allow_ptr_leaks {
        reg.mark_not_init(bpf_capable);
    } else {
        reg.mark_unknown(bpf_capable);
    }
}

/// Mirrors `destroy_if_dynptr_stack_slot()`: a write to (part of) an unreferenced dynptr's
/// slots destroys it and its slices; a referenced one may not be overwritten.
pub fn destroy_if_dynptr_stack_slot(env: &mut Env<'_>, fr: usize, spi: usize) -> Result<()> {
    // STACK_DYNPTR is never set partially: slot_type[0] tells.
    if env.cur.frame[fr].stack.get(spi).is_none_or(|s| s.slot_type[0] != slot::DYNPTR) {
        return Ok(());
    }
    // The first slot.
    let spi = if env.cur.frame[fr].stack[spi].spilled_ptr.dynptr_first_slot { spi } else { spi + 1 };
    if spi == 0 || spi >= env.cur.frame[fr].stack.len() {
        return Err(env.verifier_bug("dynptr slots out of place"));
    }
    if dynptr_type_refcounted(env.cur.frame[fr].stack[spi].spilled_ptr.dynptr_type) {
        env.hint = Some(
            "submit or discard the ring buffer dynptr (bpf_ringbuf_submit_dynptr(), bpf_ringbuf_discard_dynptr()) \
             before its stack slots are reused"
                .into(),
        );
        return Err(env.reject(Errno::Inval, "cannot overwrite referenced dynptr"));
    }
    env.mark_stack_slot_scratched(spi);
    env.mark_stack_slot_scratched(spi - 1);
    // A partial write to one slot of a dynptr destroys both.
    env.cur.frame[fr].stack[spi].slot_type = [slot::INVALID; BPF_REG_SIZE];
    env.cur.frame[fr].stack[spi - 1].slot_type = [slot::INVALID; BPF_REG_SIZE];
    let dynptr_id = env.cur.frame[fr].stack[spi].spilled_ptr.id;
    // Its slices.
    let (leaks, cap) = (env.allow_ptr_leaks, env.bpf_capable);
    env.cur.for_each_reg(|_, r| {
        if r.ty != (PTR_TO_MEM | PTR_MAYBE_NULL) && r.ty != PTR_TO_MEM {
            return;
        }
        if r.dynptr_id == dynptr_id {
            mark_reg_invalid(leaks, cap, r);
        }
    });
    // The reference state is not released: the dynptr is destroyed, not released.
    env.cur.frame[fr].stack[spi].spilled_ptr.mark_not_init(cap);
    env.cur.frame[fr].stack[spi - 1].spilled_ptr.mark_not_init(cap);
    let frameno = env.cur.frame[fr].frameno;
    crate::liveness::bpf_mark_stack_write(env, frameno, (1 << (spi - 1)) | (1 << spi));
    Ok(())
}

/// Mirrors `is_dynptr_reg_valid_uninit()`. Existing unreferenced dynptrs may be overwritten
/// ([`mark_stack_slots_dynptr`] destroys them first); slots beyond the allocated stack are
/// uninitialised.
pub fn is_dynptr_reg_valid_uninit(env: &mut Env<'_>, reg: &RegState) -> bool {
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return false;
    }
    !matches!(dynptr_get_spi(env, reg), Err(SpiError::Inval))
}

/// Mirrors `is_dynptr_reg_valid_init()`.
pub fn is_dynptr_reg_valid_init(env: &mut Env<'_>, reg: &RegState) -> bool {
    // A CONST_PTR_TO_DYNPTR is the first slot of an initialised dynptr, at offset 0.
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return true;
    }
    let Ok(spi) = dynptr_get_spi(env, reg) else { return false };
    let state = &env.cur.frame[reg.frameno as usize];
    if !state.stack[spi].spilled_ptr.dynptr_first_slot {
        return false;
    }
    state.stack[spi].slot_type.iter().all(|&t| t == slot::DYNPTR)
        && state.stack[spi - 1].slot_type.iter().all(|&t| t == slot::DYNPTR)
}

/// Mirrors `is_dynptr_type_expected()`.
pub fn is_dynptr_type_expected(env: &mut Env<'_>, reg: &RegState, arg_type: DynptrArgType) -> bool {
    // Without a type flag, any dynptr will do.
    if arg_type.0 & DYNPTR_TYPE_FLAG_MASK == 0 {
        return true;
    }
    let want = arg_to_dynptr_type(arg_type);
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return reg.dynptr_type == want;
    }
    match dynptr_get_spi(env, reg) {
        Ok(spi) => env.cur.frame[reg.frameno as usize].stack[spi].spilled_ptr.dynptr_type == want,
        Err(_) => false,
    }
}

/// Mirrors `mark_dynptr_read()`.
pub fn mark_dynptr_read(env: &mut Env<'_>, reg: &RegState) -> Result<()> {
    // For CONST_PTR_TO_DYNPTR the register read was marked already.
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return Ok(());
    }
    let spi = spi_or_reject(env, reg)?;
    mark_stack_slot_obj_read(env, reg, spi, BPF_DYNPTR_NR_SLOTS as usize)
}

/// Mirrors `process_dynptr_func()`: argument `regno` of a helper or kfunc taking a dynptr.
/// `MEM_UNINIT`: it must point to stack the call makes a dynptr of; `MEM_RDONLY`: an
/// initialised dynptr the call does not change (a `CONST_PTR_TO_DYNPTR` will do); neither: an
/// initialised dynptr on the stack.
pub fn process_dynptr_func(
    env: &mut Env<'_>,
    regno: usize,
    insn_idx: u32,
    arg_type: DynptrArgType,
    clone_ref_obj_id: u32,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    if reg.ty != PTR_TO_STACK && reg.ty != CONST_PTR_TO_DYNPTR {
        env.hint = Some("a struct bpf_dynptr lives on the stack: declare it as a local variable".into());
        return Err(env.reject(
            Errno::Inval,
            format!("arg#{} expected pointer to stack or const struct bpf_dynptr", regno - 1),
        ));
    }
    if arg_type.has(MEM_UNINIT) && arg_type.has(MEM_RDONLY) {
        return Err(env.verifier_bug("misconfigured dynptr helper type flags"));
    }
    if arg_type.has(MEM_UNINIT) {
        if !is_dynptr_reg_valid_uninit(env, &reg) {
            env.hint = Some(
                "pass the address of a struct bpf_dynptr local variable, at an 8-byte aligned offset".into(),
            );
            return Err(env.reject(Errno::Inval, "Dynptr has to be an uninitialized dynptr"));
        }
        // 8 bytes at a time.
        crate::mem::check_stack_slots_writable(env, insn_idx as usize, regno, BPF_DYNPTR_SIZE)?;
        let reg = env.reg(regno).clone();
        mark_stack_slots_dynptr(env, &reg, arg_type, insn_idx, clone_ref_obj_id)
    } else {
        // A dynptr on the stack is never const.
        if reg.ty == CONST_PTR_TO_DYNPTR && !arg_type.has(MEM_RDONLY) {
            return Err(
                env.reject(Errno::Inval, "cannot pass pointer to const bpf_dynptr, the helper mutates it")
            );
        }
        if !is_dynptr_reg_valid_init(env, &reg) {
            env.hint = Some(
                "initialise the dynptr first (bpf_dynptr_from_xdp(), bpf_dynptr_from_skb(), bpf_dynptr_from_mem(), \
                 bpf_ringbuf_reserve_dynptr()), and do not write over it afterwards"
                    .into(),
            );
            return Err(
                env.reject(Errno::Inval, format!("Expected an initialized dynptr as arg #{}", regno - 1))
            );
        }
        if !is_dynptr_type_expected(env, &reg, DynptrArgType(arg_type.0 & !MEM_RDONLY)) {
            let t = arg_to_dynptr_type(arg_type).as_str();
            verbose!(env.log, "Expected a dynptr of type {t} as arg #{}\n", regno - 1);
            return Err(
                env.rejected(Errno::Inval, format!("Expected a dynptr of type {t} as arg #{}", regno - 1))
            );
        }
        mark_dynptr_read(env, &reg)
    }
}

/// Mirrors `dynptr_id()`: the id of the dynptr at `reg`.
pub fn dynptr_id(env: &mut Env<'_>, reg: &RegState) -> Option<u32> {
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return Some(reg.id);
    }
    let spi = dynptr_get_spi(env, reg).ok()?;
    Some(env.cur.frame[reg.frameno as usize].stack[spi].spilled_ptr.id)
}

/// Mirrors `dynptr_ref_obj_id()`.
pub fn dynptr_ref_obj_id(env: &mut Env<'_>, reg: &RegState) -> Option<u32> {
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return Some(reg.ref_obj_id);
    }
    let spi = dynptr_get_spi(env, reg).ok()?;
    Some(env.cur.frame[reg.frameno as usize].stack[spi].spilled_ptr.ref_obj_id)
}

/// Mirrors `dynptr_get_type()`.
pub fn dynptr_get_type(env: &mut Env<'_>, reg: &RegState) -> DynptrType {
    if reg.ty == CONST_PTR_TO_DYNPTR {
        return reg.dynptr_type;
    }
    match dynptr_get_spi(env, reg) {
        Ok(spi) => env.cur.frame[reg.frameno as usize].stack[spi].spilled_ptr.dynptr_type,
        Err(_) => DynptrType::Invalid,
    }
}

/// `meta->initialized_dynptr`: the initialised dynptr a kfunc was given.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct InitializedDynptr {
    /// `id`.
    pub id: u32,
    /// `type`.
    pub ty: DynptrType,
    /// `ref_obj_id`.
    pub ref_obj_id: u32,
}

/// Which constructor a kfunc dynptr argument belongs to (`special_kfunc_list` entries the
/// `KF_ARG_PTR_TO_DYNPTR` case of `check_kfunc_args()` tells apart).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DynptrKfunc {
    /// `bpf_dynptr_from_skb`.
    FromSkb,
    /// `bpf_dynptr_from_xdp`.
    FromXdp,
    /// `bpf_dynptr_from_skb_meta`.
    FromSkbMeta,
    /// `bpf_dynptr_clone`.
    Clone,
    /// Any other kfunc.
    Other,
}

impl DynptrKfunc {
    /// The kind of kfunc `name` is.
    pub fn of(name: &str) -> DynptrKfunc {
        match name {
            "bpf_dynptr_from_skb" => DynptrKfunc::FromSkb,
            "bpf_dynptr_from_xdp" => DynptrKfunc::FromXdp,
            "bpf_dynptr_from_skb_meta" => DynptrKfunc::FromSkbMeta,
            "bpf_dynptr_clone" => DynptrKfunc::Clone,
            _ => DynptrKfunc::Other,
        }
    }
}

/// The `KF_ARG_PTR_TO_DYNPTR` case of `check_kfunc_args()`: argument `regno` (a `struct
/// bpf_dynptr *` parameter, `uninit` for `__uninit`) of kfunc `kind`. Records the dynptr in
/// `initialized` when the argument is an initialised one (for `bpf_dynptr_clone()` and the
/// slices `bpf_dynptr_slice()` returns).
pub fn process_kfunc_dynptr_arg(
    env: &mut Env<'_>,
    regno: usize,
    insn_idx: u32,
    uninit: bool,
    kind: DynptrKfunc,
    initialized: &mut InitializedDynptr,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let mut arg_type = 0u32;
    let mut clone_ref_obj_id = 0;
    if reg.ty == CONST_PTR_TO_DYNPTR {
        arg_type |= MEM_RDONLY;
    }
    if uninit {
        arg_type |= MEM_UNINIT;
    }
    match kind {
        DynptrKfunc::FromSkb => arg_type |= DYNPTR_TYPE_SKB,
        DynptrKfunc::FromXdp => arg_type |= DYNPTR_TYPE_XDP,
        DynptrKfunc::FromSkbMeta => arg_type |= DYNPTR_TYPE_SKB_META,
        DynptrKfunc::Clone if uninit => {
            let parent = initialized.ty;
            if parent == DynptrType::Invalid {
                return Err(env.verifier_bug("no dynptr type for parent of clone"));
            }
            arg_type |= get_dynptr_type_flag(parent);
            clone_ref_obj_id = initialized.ref_obj_id;
            if dynptr_type_refcounted(parent) && clone_ref_obj_id == 0 {
                return Err(env.verifier_bug("missing ref obj id for parent of clone"));
            }
        }
        _ => {}
    }
    process_dynptr_func(env, regno, insn_idx, DynptrArgType(arg_type), clone_ref_obj_id)?;
    if arg_type & MEM_UNINIT == 0 {
        let Some(id) = dynptr_id(env, &reg) else {
            return Err(env.verifier_bug("failed to obtain dynptr id"));
        };
        initialized.id = id;
        initialized.ty = dynptr_get_type(env, &reg);
        initialized.ref_obj_id = dynptr_ref_obj_id(env, &reg).unwrap_or(0);
    }
    Ok(())
}

/// The return value of `bpf_dynptr_slice()` / `bpf_dynptr_slice_rdwr()` (the special-kfunc part
/// of `check_kfunc_call()`): `R0` is memory of the constant `__szk` size `size`, of the dynptr's
/// kind, read-only for `bpf_dynptr_slice()`, tied to the dynptr by `dynptr_id`. The caller adds
/// `PTR_MAYBE_NULL` and a fresh id (`KF_RET_NULL`).
pub fn mark_dynptr_slice_ret(
    env: &mut Env<'_>,
    rdwr: bool,
    size: Option<u64>,
    initialized: &InitializedDynptr,
) -> Result<()> {
    let type_flag = get_dynptr_type_flag(initialized.ty);
    let Some(size) = size else {
        return Err(env.verifier_bug("bpf_dynptr_slice(_rdwr) no constant size"));
    };
    let r0 = env.reg_mut(0);
    r0.mark_known_zero();
    r0.mem_size = size as u32;
    r0.ty = PTR_TO_MEM | type_flag;
    if !rdwr {
        env.reg_mut(0).ty |= MEM_RDONLY;
    } else if !crate::mem::may_access_direct_pkt_data(env, None, crate::mem::Access::Write) {
        // This sets seen_direct_write.
        return Err(env.reject(Errno::Inval, "the prog does not allow writes to packet data"));
    }
    if initialized.id == 0 {
        return Err(env.verifier_bug("no dynptr id"));
    }
    // Packet slices are not refcounted: no ref_obj_id.
    env.reg_mut(0).dynptr_id = initialized.id;
    Ok(())
}
