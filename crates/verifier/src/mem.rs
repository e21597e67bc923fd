//! Memory accesses: `check_mem_access()` and the checks per pointer kind — the stack (spills and
//! fills, `check_stack_read`/`check_stack_write`, `check_stack_range_initialized`), map keys and
//! values (`check_map_access`), packets (`check_packet_access`), sized memory
//! (`check_mem_region_access`), the context (`check_ctx_access`, see [`crate::ctx`]) — plus
//! alignment, helper memory arguments (`check_helper_mem_access`), loads and stores
//! (`check_load_mem`, `check_store_reg`), atomics (`check_atomic`) and legacy packet loads
//! (`check_ld_abs`).

use crate::alu::{assign_scalar_id_before_mov, reg_bounds_sanity_check, BPF_MAX_VAR_OFF};
use crate::check::RegArg;
use crate::env::*;
use crate::error::{Errno, Result, VerifyError};
use crate::precision::mark_chain_precision;
use crate::print::{reg_type_str, tnum_strn};
use crate::state::*;
use crate::tnum::Tnum;
use crate::verbose;
use kfvm_isa::RawInsn;

/// `enum bpf_access_type`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    /// `BPF_READ`.
    Read,
    /// `BPF_WRITE`.
    Write,
}

/// `enum bpf_access_src`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AccessSrc {
    /// `ACCESS_DIRECT`: a load or store.
    Direct,
    /// `ACCESS_HELPER`: a helper's memory argument.
    Helper,
}

/// `MAX_PACKET_OFF`.
pub const MAX_PACKET_OFF: u64 = 0xffff;
/// `BPF_MAX_VAR_SIZ`.
pub const BPF_MAX_VAR_SIZ: u64 = 1 << 29;

/// `bpf_size_to_bytes()` of the size bits of an opcode.
pub fn size_bytes(size_bits: u8) -> i32 {
    match size_bits & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

/// `struct bpf_call_arg_meta`, the parts the memory checks fill in.
#[derive(Clone, Debug, Default)]
pub struct CallArgMeta {
    /// `map.ptr` (index + 1).
    pub map: u32,
    /// `map.uid`.
    pub map_uid: u32,
    /// `raw_mode`: the helper writes the memory (`MEM_UNINIT`).
    pub raw_mode: bool,
    /// `pkt_access`.
    pub pkt_access: bool,
    /// `release_regno`.
    pub release_regno: usize,
    /// `regno` of the raw-mode buffer.
    pub regno: usize,
    /// `access_size` of the raw-mode buffer.
    pub access_size: i32,
    /// `mem_size`.
    pub mem_size: u64,
    /// `msize_max_value`.
    pub msize_max_value: u64,
    /// `ref_obj_id`.
    pub ref_obj_id: u32,
    /// `func_id`.
    pub func_id: i32,
    /// `subprogno`.
    pub subprogno: u32,
    /// `const_map_key`.
    pub const_map_key: i64,
    /// `kptr_field`: the destination of `bpf_kptr_xchg()`.
    pub kptr_field: Option<KptrField>,
}

/// The frame a stack pointer points into (`func(env, reg)`).
fn frame_of(_env: &Env<'_>, reg: &RegState) -> usize {
    reg.frameno as usize
}

/// Mirrors `check_generic_ptr_alignment()` / `check_pkt_ptr_alignment()` in
/// `check_ptr_alignment()`.
fn check_ptr_alignment(
    env: &mut Env<'_>,
    reg: &RegState,
    off: i32,
    size: i32,
    strict_once: bool,
) -> Result<()> {
    let mut strict = strict_once;
    let desc = match reg.ty {
        PTR_TO_PACKET | PTR_TO_PACKET_META => {
            if !strict || size == 1 {
                return Ok(());
            }
            let reg_off = reg.s.var_off.add(Tnum::constant((2 + reg.off + off) as i64 as u64));
            if !reg_off.is_aligned(size as u64) {
                return Err(env.reject(
                    Errno::Acces,
                    format!(
                        "misaligned packet access off 2+{}+{}+{} size {size}",
                        tnum_strn(reg.s.var_off),
                        reg.off,
                        off
                    ),
                ));
            }
            return Ok(());
        }
        PTR_TO_FLOW_KEYS => "flow keys ",
        PTR_TO_MAP_KEY => "key ",
        PTR_TO_MAP_VALUE => "value ",
        PTR_TO_CTX => "context ",
        PTR_TO_STACK => {
            strict = true;
            "stack "
        }
        PTR_TO_SOCKET => "sock ",
        PTR_TO_SOCK_COMMON => "sock_common ",
        PTR_TO_TCP_SOCK => "tcp_sock ",
        PTR_TO_XDP_SOCK => "xdp_sock ",
        PTR_TO_ARENA => return Ok(()),
        _ => "",
    };
    if !strict || size == 1 {
        return Ok(());
    }
    let reg_off = reg.s.var_off.add(Tnum::constant((reg.off + off) as i64 as u64));
    if !reg_off.is_aligned(size as u64) {
        return Err(env.reject(
            Errno::Acces,
            format!(
                "misaligned {desc}access off {}+{}+{} size {size}",
                tnum_strn(reg.s.var_off),
                reg.off,
                off
            ),
        ));
    }
    Ok(())
}

/// Mirrors `__check_mem_access()`.
fn check_mem_access_bounds(
    env: &mut Env<'_>,
    regno: usize,
    off: i64,
    size: i32,
    mem_size: u32,
    zero_size_allowed: bool,
) -> Result<()> {
    let size_ok = size > 0 || (size == 0 && zero_size_allowed);
    if off >= 0 && size_ok && (off as u64).wrapping_add(size as i64 as u64) <= mem_size as u64 {
        return Ok(());
    }
    let reg = env.reg(regno).clone();
    let off = off as i32;
    let msg = match reg.ty {
        PTR_TO_MAP_KEY => format!("invalid access to map key, key_size={mem_size} off={off} size={size}"),
        PTR_TO_MAP_VALUE => {
            format!("invalid access to map value, value_size={mem_size} off={off} size={size}")
        }
        PTR_TO_PACKET | PTR_TO_PACKET_META | PTR_TO_PACKET_END => format!(
            "invalid access to packet, off={off} size={size}, R{regno}(id={},off={off},r={mem_size})",
            reg.id
        ),
        _ => format!("invalid access to memory, mem_size={mem_size} off={off} size={size}"),
    };
    verbose!(env.log, "{msg}\n");
    Err(env.rejected(Errno::Acces, msg))
}

/// Mirrors `check_mem_region_access()`.
pub fn check_mem_region_access(
    env: &mut Env<'_>,
    regno: usize,
    off: i32,
    size: i32,
    mem_size: u32,
    zero_size_allowed: bool,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let smin = reg.s.smin_value;
    if smin < 0
        && (smin == i64::MIN
            || (off as i64).wrapping_add(smin) != (off as i64).wrapping_add(smin) as i32 as i64
            || smin + (off as i64) < 0)
    {
        return Err(env.reject(
            Errno::Acces,
            format!(
                "R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."
            ),
        ));
    }
    if let Err(e) =
        check_mem_access_bounds(env, regno, smin.wrapping_add(off as i64), size, mem_size, zero_size_allowed)
    {
        verbose!(env.log, "R{regno} min value is outside of the allowed memory range\n");
        return Err(relabel(e, format!("R{regno} min value is outside of the allowed memory range")));
    }
    if reg.s.umax_value >= BPF_MAX_VAR_OFF as u64 {
        return Err(env.reject(
            Errno::Acces,
            format!("R{regno} unbounded memory access, make sure to bounds check any such access"),
        ));
    }
    if let Err(e) = check_mem_access_bounds(
        env,
        regno,
        (reg.s.umax_value as i64).wrapping_add(off as i64),
        size,
        mem_size,
        zero_size_allowed,
    ) {
        verbose!(env.log, "R{regno} max value is outside of the allowed memory range\n");
        return Err(relabel(e, format!("R{regno} max value is outside of the allowed memory range")));
    }
    Ok(())
}

/// A rejection with its message replaced by the last line the kernel logged for it.
fn relabel(e: VerifyError, msg: String) -> VerifyError {
    match e {
        VerifyError::Rejected(r) => VerifyError::reject(r.errno, r.insn, msg),
        e => e,
    }
}

/// Mirrors `check_map_access_type()`.
fn check_map_access_type(env: &mut Env<'_>, regno: usize, off: i32, size: i32, t: Access) -> Result<()> {
    let map = env.map(env.reg(regno).map).clone();
    let can_write = map.map_flags & BPF_F_RDONLY_PROG == 0;
    let can_read = map.map_flags & BPF_F_WRONLY_PROG == 0;
    if t == Access::Write && !can_write {
        return Err(env.reject(
            Errno::Acces,
            format!("write into map forbidden, value_size={} off={off} size={size}", map.value_size),
        ));
    }
    if t == Access::Read && !can_read {
        return Err(env.reject(
            Errno::Acces,
            format!("read from map forbidden, value_size={} off={off} size={size}", map.value_size),
        ));
    }
    Ok(())
}

/// Mirrors `check_map_access()`.
pub fn check_map_access(
    env: &mut Env<'_>,
    regno: usize,
    off: i32,
    size: i32,
    zero_size_allowed: bool,
    src: AccessSrc,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let map = env.map(reg.map).clone();
    check_mem_region_access(env, regno, off, size, map.value_size, zero_size_allowed)?;
    for (p, fsize, name) in map.record.fields() {
        let p = p as i64;
        if reg.s.smin_value + (off as i64) < p + fsize as i64
            && p < (reg.s.umax_value as i64) + off as i64 + size as i64
        {
            if name.ends_with("kptr") {
                if src != AccessSrc::Direct {
                    return Err(
                        env.reject(Errno::Acces, format!("{name} cannot be accessed indirectly by helper"))
                    );
                }
                if !reg.s.var_off.is_const() {
                    return Err(
                        env.reject(Errno::Acces, format!("{name} access cannot have variable offset"))
                    );
                }
                let at = off as i64 + reg.s.var_off.value as i64;
                if p != at {
                    return Err(
                        env.reject(Errno::Acces, format!("{name} access misaligned expected={p} off={at}"))
                    );
                }
                if size != 8 {
                    return Err(env.reject(Errno::Acces, format!("{name} access size must be BPF_DW")));
                }
            } else {
                return Err(
                    env.reject(Errno::Acces, format!("{name} cannot be accessed directly by load/store"))
                );
            }
        }
    }
    Ok(())
}

/// Mirrors `may_access_direct_pkt_data()`.
pub fn may_access_direct_pkt_data(env: &mut Env<'_>, meta: Option<&CallArgMeta>, t: Access) -> bool {
    match env.opts.prog_type {
        prog_type::SOCKET_FILTER | prog_type::CGROUP_SKB => {
            if t == Access::Write {
                return false;
            }
            meta.is_some_and(|m| m.pkt_access)
        }
        prog_type::SCHED_CLS | prog_type::SCHED_ACT | prog_type::XDP => {
            if meta.is_some() {
                return meta.is_some_and(|m| m.pkt_access);
            }
            env.seen_direct_write = true;
            true
        }
        _ => false,
    }
}

/// Mirrors `check_packet_access()`.
fn check_packet_access(
    env: &mut Env<'_>,
    regno: usize,
    off: i32,
    size: i32,
    zero_size_allowed: bool,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    if reg.s.smin_value < 0 {
        return Err(env.reject(
            Errno::Acces,
            format!(
                "R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."
            ),
        ));
    }
    let r = if reg.range < 0 {
        Err(env.rejected(Errno::Inval, ""))
    } else {
        check_mem_access_bounds(env, regno, off as i64, size, reg.range as u32, zero_size_allowed)
    };
    if let Err(e) = r {
        verbose!(env.log, "R{regno} offset is outside of the packet\n");
        return Err(relabel(e, format!("R{regno} offset is outside of the packet")));
    }
    Ok(())
}

/// Mirrors `__check_ptr_off_reg()`.
pub fn check_ptr_off_reg(env: &mut Env<'_>, reg: &RegState, regno: usize, fixed_off_ok: bool) -> Result<()> {
    let t = reg_type_str(reg.ty);
    if reg.off < 0 {
        return Err(
            env.reject(Errno::Acces, format!("negative offset {t} ptr R{regno} off={} disallowed", reg.off))
        );
    }
    if !fixed_off_ok && reg.off != 0 {
        return Err(env.reject(
            Errno::Acces,
            format!("dereference of modified {t} ptr R{regno} off={} disallowed", reg.off),
        ));
    }
    if !reg.s.var_off.equals_const(0) {
        return Err(env.reject(
            Errno::Acces,
            format!("variable {t} access var_off={} disallowed", tnum_strn(reg.s.var_off)),
        ));
    }
    Ok(())
}

/// Mirrors `check_stack_slot_within_bounds()`.
fn check_stack_slot_within_bounds(env: &Env<'_>, off: i64, state_alloc: usize, t: Access) -> bool {
    let min_valid_off = if t == Access::Write || env.allow_uninit_stack {
        -(MAX_BPF_STACK as i64)
    } else {
        -(state_alloc as i64)
    };
    !(off < min_valid_off || off > -1)
}

/// Mirrors `check_stack_access_within_bounds()` (and `grow_stack_state()`).
pub fn check_stack_access_within_bounds(
    env: &mut Env<'_>,
    regno: usize,
    off: i32,
    size: i32,
    t: Access,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let fr = frame_of(env, &reg);
    let extra = if t == Access::Read { " read from" } else { " write to" };
    let (min_off, max_off) = if reg.s.var_off.is_const() {
        let m = reg.s.var_off.value as i64 + off as i64;
        (m, m + size as i64)
    } else {
        if reg.s.smax_value >= BPF_MAX_VAR_OFF || reg.s.smin_value <= -BPF_MAX_VAR_OFF {
            return Err(
                env.reject(Errno::Acces, format!("invalid unbounded variable-offset{extra} stack R{regno}"))
            );
        }
        (reg.s.smin_value + off as i64, reg.s.smax_value + off as i64 + size as i64)
    };
    let alloc = env.cur.frame[fr].allocated_stack();
    // -EACCES below the stack, -EINVAL into non-negative offsets, -EFAULT for a negative size.
    let errno = if !check_stack_slot_within_bounds(env, min_off, alloc, t) {
        Some(Errno::Acces)
    } else if max_off > 0 {
        Some(Errno::Inval)
    } else if size < 0 {
        Some(Errno::Fault)
    } else {
        None
    };
    if let Some(errno) = errno {
        let msg = if reg.s.var_off.is_const() {
            format!("invalid{extra} stack R{regno} off={min_off} size={size}")
        } else {
            format!(
                "invalid variable-offset{extra} stack R{regno} var_off={} off={off} size={size}",
                tnum_strn(reg.s.var_off)
            )
        };
        return Err(env.reject(errno, msg));
    }
    grow_stack_state(env, fr, (-min_off) as usize);
    Ok(())
}

/// Mirrors `grow_stack_state()`: also the subprogram's `stack_depth`.
pub fn grow_stack_state(env: &mut Env<'_>, fr: usize, size: usize) {
    let size = size.next_multiple_of(BPF_REG_SIZE);
    let f = &mut env.cur.frame[fr];
    if f.allocated_stack() >= size {
        return;
    }
    f.grow_stack(size);
    let sp = f.subprogno as usize;
    if env.subprogs[sp].stack_depth < size as u32 {
        env.subprogs[sp].stack_depth = size as u32;
    }
}

/// Mirrors `save_register_state()`.
fn save_register_state(env: &mut Env<'_>, fr: usize, spi: usize, reg: &RegState, size: usize) {
    let st = &mut env.cur.frame[fr].stack[spi];
    st.spilled_ptr = reg.clone();
    let mut i = BPF_REG_SIZE;
    while i > BPF_REG_SIZE - size {
        st.slot_type[i - 1] = slot::SPILL;
        i -= 1;
    }
    while i > 0 {
        let t = &mut st.slot_type[i - 1];
        if *t != slot::ZERO && *t != slot::INVALID {
            *t = slot::MISC;
        }
        i -= 1;
    }
}

/// Mirrors `scrub_spilled_slot()`.
fn scrub(t: &mut u8) {
    if *t != slot::INVALID {
        *t = slot::MISC;
    }
}

/// Mirrors `check_stack_write_fixed_off()`.
fn check_stack_write_fixed_off(
    env: &mut Env<'_>,
    fr: usize,
    off: i32,
    size: i32,
    value_regno: i32,
    insn_idx: usize,
) -> Result<()> {
    let slot_i = (-off - 1) as usize;
    let spi = slot_i / BPF_REG_SIZE;
    let insn = env.insns[insn_idx];
    let frameno = env.cur.frame[fr].frameno;
    let mut insn_flags = insn_f::stack_access(frameno, spi as u32);
    {
        let st = &env.cur.frame[fr].stack[spi];
        if !env.allow_ptr_leaks && st.is_spilled_reg() && !st.is_spilled_scalar_reg() && size != 8 {
            return Err(env.reject(Errno::Acces, "attempt to corrupt spilled pointer on stack"));
        }
    }
    let reg = if value_regno >= 0 { Some(env.reg(value_regno as usize).clone()) } else { None };
    crate::call::destroy_if_dynptr_stack_slot(env, fr, spi)?;
    if off % 8 == 0 && size == 8 {
        crate::liveness::bpf_mark_stack_write(env, frameno, 1u64 << spi);
    }
    env.mark_stack_slot_scratched(spi);
    let is_st_mem = insn.code & 7 == kfvm_isa::opcode::class::ST;
    let aligned = off % 8 == 0;
    if let Some(r) = reg.as_ref().filter(|r| aligned && r.ty == SCALAR_VALUE && env.bpf_capable) {
        let mut r = r.clone();
        let fits = r.s.get_reg_width() <= 8 * size as u32;
        if fits {
            assign_scalar_id_before_mov(env, &mut r);
            *env.reg_mut(value_regno as usize) = r.clone();
        }
        save_register_state(env, fr, spi, &r, size as usize);
        if !fits {
            env.cur.frame[fr].stack[spi].spilled_ptr.id = 0;
            env.cur.frame[fr].stack[spi].spilled_ptr.off = 0;
        }
    } else if reg.is_none() && aligned && is_st_mem && env.bpf_capable {
        let mut tmp = RegState::not_init();
        tmp.mark_known(insn.imm as i64 as u64);
        tmp.ty = SCALAR_VALUE;
        save_register_state(env, fr, spi, &tmp, size as usize);
    } else if let Some(r) = reg.as_ref().filter(|r| is_spillable_regtype(r.ty)) {
        if size != 8 {
            env.log.verbose_linfo(insn_idx, format_args!("; "));
            return Err(env.reject(Errno::Acces, "invalid size of register spill"));
        }
        if fr != env.cur.curframe() && r.ty == PTR_TO_STACK {
            return Err(
                env.reject(Errno::Inval, "cannot spill pointers to stack into stack frame of the caller")
            );
        }
        let r = r.clone();
        save_register_state(env, fr, spi, &r, size as usize);
    } else {
        let mut ty = slot::MISC;
        {
            let st = &mut env.cur.frame[fr].stack[spi];
            st.spilled_ptr.ty = NOT_INIT;
            if st.is_special() {
                for t in st.slot_type.iter_mut() {
                    scrub(t);
                }
            }
        }
        let writes_zero =
            reg.as_ref().is_some_and(|r| r.is_null()) || (reg.is_none() && is_st_mem && insn.imm == 0);
        if writes_zero {
            mark_chain_precision(env, value_regno)?;
            ty = slot::ZERO;
        }
        let st = &mut env.cur.frame[fr].stack[spi];
        for i in 0..size as usize {
            st.slot_type[(slot_i - i) % BPF_REG_SIZE] = ty;
        }
        insn_flags = 0;
    }
    if insn_flags != 0 {
        env.push_jmp_history(insn_flags, 0)?;
    }
    Ok(())
}

/// Mirrors `is_spillable_regtype()`.
fn is_spillable_regtype(t: u32) -> bool {
    matches!(
        base_type(t),
        PTR_TO_MAP_VALUE
            | PTR_TO_STACK
            | PTR_TO_CTX
            | PTR_TO_PACKET
            | PTR_TO_PACKET_META
            | PTR_TO_PACKET_END
            | PTR_TO_FLOW_KEYS
            | CONST_PTR_TO_MAP
            | PTR_TO_SOCKET
            | PTR_TO_SOCK_COMMON
            | PTR_TO_TCP_SOCK
            | PTR_TO_XDP_SOCK
            | PTR_TO_BTF_ID
            | PTR_TO_BUF
            | PTR_TO_MEM
            | PTR_TO_FUNC
            | PTR_TO_MAP_KEY
            | PTR_TO_ARENA
    )
}

/// Mirrors `check_stack_write_var_off()`.
fn check_stack_write_var_off(
    env: &mut Env<'_>,
    fr: usize,
    ptr_regno: usize,
    off: i32,
    size: i32,
    value_regno: i32,
    insn_idx: usize,
) -> Result<()> {
    let ptr = env.reg(ptr_regno).clone();
    let min_off = ptr.s.smin_value + off as i64;
    let max_off = ptr.s.smax_value + off as i64 + size as i64;
    let insn = env.insns[insn_idx];
    let value = if value_regno >= 0 { Some(env.reg(value_regno as usize).clone()) } else { None };
    let writing_zero = value.as_ref().is_some_and(|r| r.is_null())
        || (value.is_none() && insn.code & 7 == kfvm_isa::opcode::class::ST && insn.imm == 0);
    for i in min_off..max_off {
        let spi = ((-i - 1) / 8) as usize;
        crate::call::destroy_if_dynptr_stack_slot(env, fr, spi)?;
    }
    let mut zero_used = false;
    for i in min_off..max_off {
        let slot_i = (-i - 1) as usize;
        let spi = slot_i / BPF_REG_SIZE;
        env.mark_stack_slot_scratched(spi);
        let stype = env.cur.frame[fr].stack[spi].slot_type[slot_i % BPF_REG_SIZE];
        if !env.allow_ptr_leaks && stype != slot::MISC && stype != slot::ZERO {
            return Err(env.reject(
                Errno::Inval,
                format!("spilled ptr in range of var-offset stack write; insn {insn_idx}, ptr off: {i}"),
            ));
        }
        let st = &env.cur.frame[fr].stack[spi];
        if writing_zero
            && stype == slot::SPILL
            && st.is_spilled_scalar_reg()
            && st.spilled_ptr.s.var_off.equals_const(0)
        {
            zero_used = true;
            continue;
        }
        let st = &mut env.cur.frame[fr].stack[spi];
        st.spilled_ptr.ty = NOT_INIT;
        let mut new_type = slot::MISC;
        if writing_zero && stype == slot::ZERO {
            new_type = slot::ZERO;
            zero_used = true;
        }
        if stype == slot::INVALID && !env.allow_uninit_stack {
            return Err(env.reject(
                Errno::Inval,
                format!("uninit stack in range of var-offset write prohibited for !root; insn {insn_idx}, off: {i}"),
            ));
        }
        env.cur.frame[fr].stack[spi].slot_type[slot_i % BPF_REG_SIZE] = new_type;
    }
    if zero_used {
        mark_chain_precision(env, value_regno)?;
    }
    Ok(())
}

/// Mirrors `mark_reg_stack_read()`.
fn mark_reg_stack_read(env: &mut Env<'_>, fr: usize, min_off: i64, max_off: i64, dst_regno: usize) {
    let mut zeros = 0;
    for i in min_off..max_off {
        let slot_i = (-i - 1) as usize;
        let spi = slot_i / BPF_REG_SIZE;
        env.mark_stack_slot_scratched(spi);
        if env.cur.frame[fr].stack[spi].slot_type[slot_i % BPF_REG_SIZE] != slot::ZERO {
            break;
        }
        zeros += 1;
    }
    let cap = env.bpf_capable;
    if zeros == max_off - min_off {
        env.reg_mut(dst_regno).mark_const_zero(cap);
    } else {
        env.reg_mut(dst_regno).mark_unknown(cap);
    }
}

/// Mirrors `check_stack_read_fixed_off()`.
fn check_stack_read_fixed_off(
    env: &mut Env<'_>,
    fr: usize,
    off: i32,
    size: i32,
    dst_regno: i32,
) -> Result<()> {
    let slot_i = (-off - 1) as usize;
    let spi = slot_i / BPF_REG_SIZE;
    let frameno = env.cur.frame[fr].frameno;
    let mut insn_flags = insn_f::stack_access(frameno, spi as u32);
    env.mark_stack_slot_scratched(spi);
    let insn_idx = env.insn_idx;
    crate::liveness::bpf_mark_stack_read(env, frameno, insn_idx, 1u64 << spi)?;
    let st = env.cur.frame[fr].stack[spi].clone();
    let stype = st.slot_type;
    let cap = env.bpf_capable;
    if st.is_spilled_reg() {
        let mut spill_size = 1;
        let mut i = BPF_REG_SIZE - 1;
        while i > 0 && stype[i - 1] == slot::SPILL {
            spill_size += 1;
            i -= 1;
        }
        let reg = st.spilled_ptr.clone();
        if size != 8 || spill_size != 8 {
            if reg.ty != SCALAR_VALUE {
                let idx = env.insn_idx as usize;
                env.log.verbose_linfo(idx, format_args!("; "));
                return Err(env.reject(Errno::Acces, "invalid size of register fill"));
            }
            if dst_regno < 0 {
                return Ok(());
            }
            let dst = dst_regno as usize;
            if size <= spill_size && off % 8 == 0 {
                let mut r = reg.clone();
                if env.bpf_capable && size == 4 && spill_size == 4 && r.s.get_reg_width() <= 32 {
                    assign_scalar_id_before_mov(env, &mut r);
                    env.cur.frame[fr].stack[spi].spilled_ptr = r.clone();
                }
                *env.reg_mut(dst) = r.clone();
                if r.s.get_reg_width() > size as u32 * 8 {
                    env.reg_mut(dst).id = 0;
                    env.reg_mut(dst).off = 0;
                }
            } else {
                let (mut spill_cnt, mut zero_cnt) = (0, 0);
                for i in 0..size as usize {
                    let t = stype[(slot_i - i) % BPF_REG_SIZE];
                    match t {
                        slot::SPILL => spill_cnt += 1,
                        slot::MISC => {}
                        slot::ZERO => zero_cnt += 1,
                        slot::INVALID if env.allow_uninit_stack => {}
                        _ => {
                            return Err(env.reject(
                                Errno::Acces,
                                format!("invalid read from stack off {off}+{i} size {size}"),
                            ))
                        }
                    }
                }
                if spill_cnt == size && reg.s.var_off.equals_const(0) {
                    env.reg_mut(dst).mark_const_zero(cap);
                } else if zero_cnt == size {
                    env.reg_mut(dst).mark_const_zero(cap);
                    insn_flags = 0;
                } else {
                    env.reg_mut(dst).mark_unknown(cap);
                    insn_flags = 0;
                }
            }
        } else if dst_regno >= 0 {
            // Restore the register state from the stack (the live kernel gives no id here).
            *env.reg_mut(dst_regno as usize) = reg.clone();
        } else if !env.allow_ptr_leaks && reg.ty != SCALAR_VALUE {
            return Err(env.reject(Errno::Acces, format!("leaking pointer from stack off {off}")));
        }
    } else {
        for i in 0..size as usize {
            let t = stype[(slot_i - i) % BPF_REG_SIZE];
            match t {
                slot::MISC | slot::ZERO => {}
                slot::INVALID if env.allow_uninit_stack => {}
                _ => {
                    return Err(env
                        .reject(Errno::Acces, format!("invalid read from stack off {off}+{i} size {size}")))
                }
            }
        }
        if dst_regno >= 0 {
            mark_reg_stack_read(env, fr, off as i64, (off + size) as i64, dst_regno as usize);
        }
        insn_flags = 0;
    }
    if insn_flags != 0 {
        env.push_jmp_history(insn_flags, 0)?;
    }
    Ok(())
}

/// Mirrors `check_stack_read()`.
fn check_stack_read(env: &mut Env<'_>, ptr_regno: usize, off: i32, size: i32, dst_regno: i32) -> Result<()> {
    let reg = env.reg(ptr_regno).clone();
    let fr = frame_of(env, &reg);
    let var_off = !reg.s.var_off.is_const();
    if dst_regno < 0 && var_off {
        return Err(env.reject(
            Errno::Acces,
            format!(
                "variable offset stack pointer cannot be passed into helper function; var_off={} off={off} size={size}",
                tnum_strn(reg.s.var_off)
            ),
        ));
    }
    if !var_off {
        let off = off + reg.s.var_off.value as i32;
        check_stack_read_fixed_off(env, fr, off, size, dst_regno)
    } else {
        check_stack_range_initialized(env, ptr_regno, off, size, false, Access::Read, None)?;
        let min_off = reg.s.smin_value + off as i64;
        let max_off = reg.s.smax_value + off as i64;
        mark_reg_stack_read(env, fr, min_off, max_off + size as i64, dst_regno as usize);
        Ok(())
    }
}

/// Mirrors `check_stack_write()`.
fn check_stack_write(
    env: &mut Env<'_>,
    ptr_regno: usize,
    off: i32,
    size: i32,
    value_regno: i32,
    insn_idx: usize,
) -> Result<()> {
    let reg = env.reg(ptr_regno).clone();
    let fr = frame_of(env, &reg);
    if reg.s.var_off.is_const() {
        let off = off + reg.s.var_off.value as i32;
        check_stack_write_fixed_off(env, fr, off, size, value_regno, insn_idx)
    } else {
        check_stack_write_var_off(env, fr, ptr_regno, off, size, value_regno, insn_idx)
    }
}

/// Mirrors `check_stack_range_initialized()`.
pub fn check_stack_range_initialized(
    env: &mut Env<'_>,
    regno: usize,
    off: i32,
    access_size: i32,
    zero_size_allowed: bool,
    t: Access,
    mut meta: Option<&mut CallArgMeta>,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let fr = frame_of(env, &reg);
    if access_size == 0 && !zero_size_allowed {
        return Err(env.reject(Errno::Acces, "invalid zero-sized read"));
    }
    let clobber = t == Access::Write;
    check_stack_access_within_bounds(env, regno, off, access_size, t)?;
    let (min_off, max_off) = if reg.s.var_off.is_const() {
        let m = reg.s.var_off.value as i64 + off as i64;
        (m, m)
    } else {
        if !env.bypass_spec_v1 {
            return Err(env.reject(
                Errno::Acces,
                format!(
                    "R{regno} variable offset stack access prohibited for !root, var_off={}",
                    tnum_strn(reg.s.var_off)
                ),
            ));
        }
        if meta.as_ref().is_some_and(|m| m.raw_mode) {
            meta = None;
        }
        (reg.s.smin_value + off as i64, reg.s.smax_value + off as i64)
    };
    if let Some(m) = meta.as_mut().filter(|m| m.raw_mode) {
        for i in min_off..max_off + access_size as i64 {
            let stack_off = (-i - 1) as usize;
            if env.cur.frame[fr].allocated_stack() <= stack_off {
                continue;
            }
            if env.cur.frame[fr].stack[stack_off / 8].slot_type[stack_off % 8] == slot::DYNPTR {
                return Err(
                    env.reject(Errno::Acces, format!("potential write to dynptr at off={i} disallowed"))
                );
            }
        }
        m.access_size = access_size;
        m.regno = regno;
        return Ok(());
    }
    for i in min_off..max_off + access_size as i64 {
        let slot_i = (-i - 1) as usize;
        let spi = slot_i / BPF_REG_SIZE;
        if env.cur.frame[fr].allocated_stack() <= slot_i {
            return Err(env.reject(Errno::Fault, "allocated_stack too small"));
        }
        let stype = env.cur.frame[fr].stack[spi].slot_type[slot_i % BPF_REG_SIZE];
        let ok = if stype == slot::MISC {
            true
        } else if stype == slot::ZERO || (stype == slot::INVALID && env.allow_uninit_stack) {
            if clobber {
                env.cur.frame[fr].stack[spi].slot_type[slot_i % BPF_REG_SIZE] = slot::MISC;
            }
            true
        } else {
            let st = &env.cur.frame[fr].stack[spi];
            if st.is_spilled_reg() && (st.spilled_ptr.ty == SCALAR_VALUE || env.allow_ptr_leaks) {
                if clobber {
                    let cap = env.bpf_capable;
                    let st = &mut env.cur.frame[fr].stack[spi];
                    st.spilled_ptr.mark_unknown(cap);
                    for t in st.slot_type.iter_mut() {
                        scrub(t);
                    }
                }
                true
            } else {
                false
            }
        };
        if !ok {
            let msg = if reg.s.var_off.is_const() {
                format!("invalid read from stack R{regno} off {min_off}+{} size {access_size}", i - min_off)
            } else {
                format!(
                    "invalid read from stack R{regno} var_off {}+{} size {access_size}",
                    tnum_strn(reg.s.var_off),
                    i - min_off
                )
            };
            return Err(env.reject(Errno::Acces, msg));
        }
        let insn_idx = env.insn_idx;
        crate::liveness::bpf_mark_stack_read(env, reg.frameno, insn_idx, 1u64 << spi)?;
    }
    Ok(())
}

/// Mirrors `check_helper_mem_access()`.
pub fn check_helper_mem_access(
    env: &mut Env<'_>,
    regno: usize,
    access_size: i32,
    t: Access,
    zero_size_allowed: bool,
    meta: Option<&mut CallArgMeta>,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    match base_type(reg.ty) {
        PTR_TO_PACKET | PTR_TO_PACKET_META => {
            check_packet_access(env, regno, reg.off, access_size, zero_size_allowed)
        }
        PTR_TO_MAP_KEY => {
            if t == Access::Write {
                return Err(
                    env.reject(Errno::Acces, format!("R{regno} cannot write into {}", reg_type_str(reg.ty)))
                );
            }
            let ks = env.map(reg.map).key_size;
            check_mem_region_access(env, regno, reg.off, access_size, ks, false)
        }
        PTR_TO_MAP_VALUE => {
            check_map_access_type(env, regno, reg.off, access_size, t)?;
            check_map_access(env, regno, reg.off, access_size, zero_size_allowed, AccessSrc::Helper)
        }
        PTR_TO_MEM => {
            if reg.ty & MEM_RDONLY != 0 && t == Access::Write {
                return Err(
                    env.reject(Errno::Acces, format!("R{regno} cannot write into {}", reg_type_str(reg.ty)))
                );
            }
            check_mem_region_access(env, regno, reg.off, access_size, reg.mem_size, zero_size_allowed)
        }
        PTR_TO_STACK => {
            check_stack_range_initialized(env, regno, reg.off, access_size, zero_size_allowed, t, meta)
        }
        PTR_TO_BTF_ID => {
            crate::btf_access::check_ptr_to_btf_access(env, regno, reg.off, access_size, Access::Read, -1)
        }
        PTR_TO_CTX if !crate::ctx::has_convert_ctx_access(env.opts.prog_type) => {
            if access_size == 0 {
                return if zero_size_allowed {
                    Ok(())
                } else {
                    Err(env.rejected(Errno::Acces, "zero-sized ctx"))
                };
            }
            let idx = env.insn_idx as usize;
            check_mem_access(env, idx, regno, access_size - 1, 0x10, t, -1, false, false)
        }
        _ => {
            if zero_size_allowed && access_size == 0 && reg.is_null() {
                return Ok(());
            }
            verbose!(env.log, "R{regno} type={} ", reg_type_str(reg.ty));
            Err(env.reject(Errno::Acces, format!("expected={}", reg_type_str(PTR_TO_STACK))))
        }
    }
}

/// Mirrors `check_mem_size_reg()`.
pub fn check_mem_size_reg(
    env: &mut Env<'_>,
    regno: usize,
    t: Access,
    zero_size_allowed: bool,
    meta: &mut CallArgMeta,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    meta.msize_max_value = reg.s.umax_value;
    let use_meta = reg.s.var_off.is_const();
    if reg.s.smin_value < 0 {
        return Err(env.reject(
            Errno::Acces,
            format!("R{regno} min value is negative, either use unsigned or 'var &= const'"),
        ));
    }
    if reg.s.umin_value == 0 && !zero_size_allowed {
        return Err(env.reject(
            Errno::Acces,
            format!(
                "R{regno} invalid zero-sized read: u64=[{},{}]",
                reg.s.umin_value as i64, reg.s.umax_value as i64
            ),
        ));
    }
    if reg.s.umax_value >= BPF_MAX_VAR_SIZ {
        return Err(env.reject(
            Errno::Acces,
            format!("R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'"),
        ));
    }
    check_helper_mem_access(
        env,
        regno - 1,
        reg.s.umax_value as i32,
        t,
        zero_size_allowed,
        if use_meta { Some(meta) } else { None },
    )?;
    mark_chain_precision(env, regno as i32)
}

/// The `BPF_DW` write check at every 8 bytes of `len` bytes from `R{regno}`, which
/// `process_iter_arg()` and `process_dynptr_func()` run before stack slots become iterator or
/// dynptr slots (so the stack is sized and the writes are checked as the kernel does).
pub fn check_stack_slots_writable(env: &mut Env<'_>, insn_idx: usize, regno: usize, len: i32) -> Result<()> {
    for off in (0..len).step_by(crate::state::BPF_REG_SIZE) {
        check_mem_access(env, insn_idx, regno, off, 0x18, Access::Write, -1, false, false)?;
    }
    Ok(())
}

/// Mirrors `check_mem_access()`.
#[allow(clippy::too_many_arguments)]
pub fn check_mem_access(
    env: &mut Env<'_>,
    insn_idx: usize,
    regno: usize,
    off: i32,
    bpf_size: u8,
    t: Access,
    value_regno: i32,
    strict_alignment_once: bool,
    is_ldsx: bool,
) -> Result<()> {
    let size = size_bytes(bpf_size);
    let reg = env.reg(regno).clone();
    check_ptr_alignment(env, &reg, off, size, strict_alignment_once)?;
    let off = off + reg.off;
    let cap = env.bpf_capable;
    let leaks = |env: &Env<'_>| value_regno >= 0 && env.is_pointer_value(value_regno as usize);

    if reg.ty == PTR_TO_MAP_KEY {
        if t == Access::Write {
            return Err(env.reject(Errno::Acces, format!("write to change key R{regno} not allowed")));
        }
        let ks = env.map(reg.map).key_size;
        check_mem_region_access(env, regno, off, size, ks, false)?;
        if value_regno >= 0 {
            env.mark_reg_unknown(value_regno as usize);
        }
    } else if reg.ty == PTR_TO_MAP_VALUE {
        if t == Access::Write && leaks(env) {
            return Err(env.reject(Errno::Acces, format!("R{value_regno} leaks addr into map")));
        }
        check_map_access_type(env, regno, off, size, t)?;
        check_map_access(env, regno, off, size, false, AccessSrc::Direct)?;
        let map = env.map(reg.map).clone();
        let kptr = if reg.s.var_off.is_const() {
            let at = off as i64 + reg.s.var_off.value as i64;
            map.record.kptrs.iter().find(|k| k.off as i64 == at).copied()
        } else {
            None
        };
        if let Some(k) = kptr {
            crate::btf_access::check_map_kptr_access(env, value_regno, insn_idx, &k)?;
        } else if t == Access::Read && value_regno >= 0 {
            // A read-only map's contents are tracked as constants.
            if reg.s.var_off.is_const() && bpf_map_is_rdonly(&map) && map.map_type == map_type::ARRAY {
                let at = off as i64 + reg.s.var_off.value as i64;
                let val = bpf_map_direct_read(&map, at, size as u32, is_ldsx)?;
                let r = env.reg_mut(value_regno as usize);
                r.ty = SCALAR_VALUE;
                r.mark_known(val);
            } else {
                env.mark_reg_unknown(value_regno as usize);
            }
        }
    } else if base_type(reg.ty) == PTR_TO_MEM {
        let rdonly = reg.ty & MEM_RDONLY != 0;
        let rdonly_untrusted = rdonly && reg.ty & PTR_UNTRUSTED != 0;
        if type_may_be_null(reg.ty) {
            return Err(
                env.reject(Errno::Acces, format!("R{regno} invalid mem access '{}'", reg_type_str(reg.ty)))
            );
        }
        if t == Access::Write && rdonly {
            return Err(
                env.reject(Errno::Acces, format!("R{regno} cannot write into {}", reg_type_str(reg.ty)))
            );
        }
        if t == Access::Write && leaks(env) {
            return Err(env.reject(Errno::Acces, format!("R{value_regno} leaks addr into mem")));
        }
        if !rdonly_untrusted {
            check_mem_region_access(env, regno, off, size, reg.mem_size, false)?;
        } else if t == Access::Read {
            env.aux[insn_idx].probe_mem = true;
        }
        if value_regno >= 0 && (t == Access::Read || rdonly) {
            env.mark_reg_unknown(value_regno as usize);
        }
    } else if reg.ty == PTR_TO_CTX {
        if t == Access::Write && leaks(env) {
            return Err(env.reject(Errno::Acces, format!("R{value_regno} leaks addr into ctx")));
        }
        check_ptr_off_reg(env, &reg, regno, false)?;
        let info = if env.opts.prog_type == prog_type::TRACING {
            // tracing_prog_is_valid_access()
            if crate::ctx::bpf_tracing_ctx_access(off, size, t) {
                crate::ctx::btf_ctx_access(env, off, size).inspect_err(|e| {
                    if matches!(e, VerifyError::Rejected(_)) {
                        env.log.verbose_linfo(insn_idx, format_args!("; "));
                    }
                })?
            } else {
                None
            }
        } else {
            crate::ctx::is_valid_access(env.opts, off, size, t, is_ldsx)
        };
        let info = match info {
            Some(i) => i,
            None => {
                let e = env.reject(Errno::Acces, format!("invalid bpf_context access off={off} size={size}"));
                // check_mem_access(): the source line after a failed check_ctx_access() (printed
                // already at levels 1 and 2, so it shows at BPF_LOG_STATS alone).
                env.log.verbose_linfo(insn_idx, format_args!("; "));
                return Err(e);
            }
        };
        if t == Access::Read && value_regno >= 0 {
            let v = value_regno as usize;
            if info.reg_type == SCALAR_VALUE {
                env.mark_reg_unknown(v);
            } else {
                env.reg_mut(v).mark_known_zero();
                if type_may_be_null(info.reg_type) {
                    let id = env.new_id();
                    env.reg_mut(v).id = id;
                }
            }
            let r = env.reg_mut(v);
            r.ty = info.reg_type;
            if base_type(info.reg_type) == PTR_TO_BTF_ID {
                r.btf = info.btf;
                r.btf_id = info.btf_id;
            }
        }
    } else if reg.ty == PTR_TO_STACK {
        check_stack_access_within_bounds(env, regno, off, size, t)?;
        if t == Access::Read {
            check_stack_read(env, regno, off, size, value_regno)?;
        } else {
            check_stack_write(env, regno, off, size, value_regno, insn_idx)?;
        }
    } else if type_is_pkt_pointer(reg.ty) && reg.ty & PTR_MAYBE_NULL == 0 {
        if t == Access::Write && !may_access_direct_pkt_data(env, None, t) {
            return Err(env.reject(Errno::Acces, "cannot write into packet"));
        }
        if t == Access::Write && leaks(env) {
            return Err(env.reject(Errno::Acces, format!("R{value_regno} leaks addr into packet")));
        }
        check_packet_access(env, regno, off, size, false)?;
        if t == Access::Read && value_regno >= 0 {
            env.mark_reg_unknown(value_regno as usize);
        }
    } else if base_type(reg.ty) == PTR_TO_BTF_ID && !type_may_be_null(reg.ty) {
        crate::btf_access::check_ptr_to_btf_access(env, regno, off, size, t, value_regno)?;
        if t == Access::Read {
            env.aux[insn_idx].probe_mem = true;
        }
    } else if reg.ty == CONST_PTR_TO_MAP {
        return Err(VerifyError::Unsupported("loads through map pointers (check_ptr_to_map_access)".into()));
    } else if reg.ty == PTR_TO_ARENA {
        if t == Access::Read && value_regno >= 0 {
            env.mark_reg_unknown(value_regno as usize);
        }
    } else {
        env.hint = crate::kfunc::null_deref_hint(env, &reg);
        return Err(
            env.reject(Errno::Acces, format!("R{regno} invalid mem access '{}'", reg_type_str(reg.ty)))
        );
    }
    let _ = cap;
    if size < 8 && value_regno >= 0 && t == Access::Read && env.reg(value_regno as usize).ty == SCALAR_VALUE {
        let r = env.reg_mut(value_regno as usize);
        if !is_ldsx {
            r.s.coerce_reg_to_size(size as u8);
        } else {
            r.s.coerce_reg_to_size_sx(size as u8);
        }
    }
    Ok(())
}

/// Mirrors `check_load_mem()`.
pub fn check_load_mem(
    env: &mut Env<'_>,
    insn: RawInsn,
    strict_alignment_once: bool,
    is_ldsx: bool,
    allow_trust_mismatch: bool,
    ctx: &str,
) -> Result<()> {
    let (src, dst) = (insn.src() as usize, insn.dst() as usize);
    env.check_reg_arg(src, RegArg::Src)?;
    env.check_reg_arg(dst, RegArg::DstNoMark)?;
    let src_ty = env.reg(src).ty;
    let idx = env.insn_idx as usize;
    check_mem_access(
        env,
        idx,
        src,
        insn.off as i32,
        insn.code & 0x18,
        Access::Read,
        dst as i32,
        strict_alignment_once,
        is_ldsx,
    )?;
    env.save_aux_ptr_type(src_ty, allow_trust_mismatch)?;
    reg_bounds_sanity_check(env, dst, ctx);
    Ok(())
}

/// Mirrors `check_store_reg()`.
pub fn check_store_reg(env: &mut Env<'_>, insn: RawInsn, strict_alignment_once: bool) -> Result<()> {
    let (src, dst) = (insn.src() as usize, insn.dst() as usize);
    env.check_reg_arg(src, RegArg::Src)?;
    env.check_reg_arg(dst, RegArg::Src)?;
    let dst_ty = env.reg(dst).ty;
    let idx = env.insn_idx as usize;
    check_mem_access(
        env,
        idx,
        dst,
        insn.off as i32,
        insn.code & 0x18,
        Access::Write,
        src as i32,
        strict_alignment_once,
        false,
    )?;
    env.save_aux_ptr_type(dst_ty, false)
}

/// Mirrors `atomic_ptr_type_ok()`.
fn atomic_ptr_type_ok(env: &Env<'_>, regno: usize) -> bool {
    let t = env.reg(regno).ty;
    !(t == PTR_TO_CTX || type_is_pkt_pointer(t) || t == PTR_TO_FLOW_KEYS || type_is_sk_pointer(t))
}

/// Mirrors `check_atomic()`.
pub fn check_atomic(env: &mut Env<'_>, insn: RawInsn) -> Result<()> {
    use kfvm_isa::AtomicOp;
    match insn.imm {
        0x00 | 0x01 | 0x40 | 0x41 | 0x50 | 0x51 | 0xa0 | 0xa1 | AtomicOp::XCHG | AtomicOp::CMPXCHG => {
            check_atomic_rmw(env, insn)
        }
        AtomicOp::LOAD_ACQ => {
            check_load_mem(env, insn, true, false, false, "atomic_load")?;
            let src = insn.src() as usize;
            if !atomic_ptr_type_ok(env, src) {
                let t = reg_type_str(env.reg(src).ty);
                return Err(
                    env.reject(Errno::Acces, format!("BPF_ATOMIC loads from R{src} {t} is not allowed"))
                );
            }
            Ok(())
        }
        AtomicOp::STORE_REL => {
            check_store_reg(env, insn, true)?;
            let dst = insn.dst() as usize;
            if !atomic_ptr_type_ok(env, dst) {
                let t = reg_type_str(env.reg(dst).ty);
                return Err(
                    env.reject(Errno::Acces, format!("BPF_ATOMIC stores into R{dst} {t} is not allowed"))
                );
            }
            Ok(())
        }
        imm => Err(env.reject(Errno::Inval, format!("BPF_ATOMIC uses invalid atomic opcode {imm:02x}"))),
    }
}

/// Mirrors `check_atomic_rmw()`.
fn check_atomic_rmw(env: &mut Env<'_>, insn: RawInsn) -> Result<()> {
    let size = insn.code & 0x18;
    if size != 0x00 && size != 0x18 {
        return Err(env.reject(Errno::Inval, "invalid atomic operand size"));
    }
    let (src, dst) = (insn.src() as usize, insn.dst() as usize);
    env.check_reg_arg(src, RegArg::Src)?;
    env.check_reg_arg(dst, RegArg::Src)?;
    if insn.imm == kfvm_isa::AtomicOp::CMPXCHG {
        env.check_reg_arg(0, RegArg::Src)?;
        if env.is_pointer_value(0) {
            return Err(env.reject(Errno::Acces, "R0 leaks addr into mem"));
        }
    }
    if env.is_pointer_value(src) {
        return Err(env.reject(Errno::Acces, format!("R{src} leaks addr into mem")));
    }
    if !atomic_ptr_type_ok(env, dst) {
        let t = reg_type_str(env.reg(dst).ty);
        return Err(env.reject(Errno::Acces, format!("BPF_ATOMIC stores into R{dst} {t} is not allowed")));
    }
    let load_reg: i32 = if insn.imm & 1 != 0 {
        let l = if insn.imm == kfvm_isa::AtomicOp::CMPXCHG { 0 } else { src };
        env.check_reg_arg(l, RegArg::Dst)?;
        l as i32
    } else {
        -1
    };
    let idx = env.insn_idx as usize;
    check_mem_access(env, idx, dst, insn.off as i32, size, Access::Read, -1, true, false)?;
    if load_reg >= 0 {
        check_mem_access(env, idx, dst, insn.off as i32, size, Access::Read, load_reg, true, false)?;
    }
    check_mem_access(env, idx, dst, insn.off as i32, size, Access::Write, -1, true, false)
}

/// Mirrors `check_ld_abs()`.
pub fn check_ld_abs(env: &mut Env<'_>, insn: RawInsn) -> Result<()> {
    if !matches!(env.opts.prog_type, prog_type::SOCKET_FILTER | prog_type::SCHED_CLS | prog_type::SCHED_ACT) {
        return Err(
            env.reject(Errno::Inval, "BPF_LD_[ABS|IND] instructions not allowed for this program type")
        );
    }
    let mode = insn.code & 0xe0;
    if insn.dst() != 0 || insn.off != 0 || insn.code & 0x18 == 0x18 || (mode == 0x20 && insn.src() != 0) {
        return Err(env.reject(Errno::Inval, "BPF_LD_[ABS|IND] uses reserved fields"));
    }
    env.check_reg_arg(6, RegArg::Src)?;
    env.check_resource_leak(false, true, "BPF_LD_[ABS|IND]")?;
    if env.reg(6).ty != PTR_TO_CTX {
        return Err(env.reject(Errno::Inval, "at the time of BPF_LD_ABS|IND R6 != pointer to skb"));
    }
    if mode == 0x40 {
        env.check_reg_arg(insn.src() as usize, RegArg::Src)?;
    }
    let r6 = env.reg(6).clone();
    check_ptr_off_reg(env, &r6, 6, false)?;
    for r in 0..6 {
        env.mark_reg_not_init(r);
        env.check_reg_arg(r, RegArg::DstNoMark)?;
    }
    env.mark_reg_unknown(0);
    Ok(())
}

/// Mirrors `bpf_map_is_rdonly()`: `BPF_F_RDONLY_PROG` and frozen (no writable mapping is
/// modelled, so `bpf_map_write_active()` is false).
pub fn bpf_map_is_rdonly(map: &MapInfo) -> bool {
    map.map_flags & BPF_F_RDONLY_PROG != 0 && map.frozen
}

/// Mirrors `bpf_map_direct_read()` for an array map: `size` bytes at `off` of the frozen value,
/// sign-extended for `BPF_MEMSX`.
pub fn bpf_map_direct_read(map: &MapInfo, off: i64, size: u32, is_ldsx: bool) -> Result<u64> {
    // array_map_direct_value_addr(): only single-element arrays have a direct value.
    if map.max_entries != 1 {
        return Err(VerifyError::reject(Errno::NotSupp, None, ""));
    }
    if off < 0 || off as u64 >= map.value_size as u64 {
        return Err(VerifyError::reject(Errno::Inval, None, ""));
    }
    let Some(data) = &map.frozen_value else {
        return Err(VerifyError::Unsupported(format!(
            "reads of the read-only map '{}' need its contents (MapInfo::frozen_value)",
            map.name
        )));
    };
    let off = off as usize;
    let byte = |i: usize| data.get(off + i).copied().unwrap_or(0) as u64;
    let raw = (0..size as usize).fold(0u64, |v, i| v | byte(i) << (8 * i));
    Ok(if is_ldsx && size < 8 {
        let shift = 64 - 8 * size;
        (((raw << shift) as i64) >> shift) as u64
    } else {
        raw
    })
}
