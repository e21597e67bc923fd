//! ALU instructions: `check_alu_op()`, `adjust_reg_min_max_vals()` (scalars through
//! [`crate::scalar`], with the linked-register bookkeeping of `rX += const`) and
//! `adjust_ptr_min_max_vals()` (pointer arithmetic and its prohibitions).

use crate::check::RegArg;
use crate::env::Env;
use crate::error::{Errno, Result};
use crate::precision::mark_chain_precision;
use crate::print::reg_type_str;
use crate::scalar::Scalar;
use crate::state::*;
use crate::verbose;
use kfvm_isa::{AluOp, EndKind, Insn, RawInsn, Reg, Src, Width};

/// `BPF_MAX_VAR_OFF`.
pub const BPF_MAX_VAR_OFF: i64 = 1 << 29;

const OP_ADD: u8 = 0x00;
const OP_SUB: u8 = 0x10;
const OP_MUL: u8 = 0x20;
const OP_DIV: u8 = 0x30;
const OP_OR: u8 = 0x40;
const OP_AND: u8 = 0x50;
const OP_LSH: u8 = 0x60;
const OP_RSH: u8 = 0x70;
const OP_NEG: u8 = 0x80;
const OP_MOD: u8 = 0x90;
const OP_XOR: u8 = 0xa0;
const OP_MOV: u8 = 0xb0;
const OP_ARSH: u8 = 0xc0;
const OP_END: u8 = 0xd0;

/// `bpf_alu_string[]`.
fn alu_string(op: u8) -> &'static str {
    match op {
        OP_ADD => "+=",
        OP_SUB => "-=",
        OP_MUL => "*=",
        OP_DIV => "/=",
        OP_OR => "|=",
        OP_AND => "&=",
        OP_LSH => "<<=",
        OP_RSH => ">>=",
        OP_NEG => "neg",
        OP_MOD => "%=",
        OP_XOR => "^=",
        OP_MOV => "=",
        OP_ARSH => "s>>=",
        OP_END => "endian",
        _ => "?",
    }
}

fn reg_of(n: u8) -> Reg {
    Reg::new(n).unwrap_or(Reg::R0)
}

/// The decoded form of an ALU instruction whose reserved fields were checked, for the scalar
/// domain.
fn scalar_insn(insn: RawInsn) -> Insn {
    let width = if insn.code & 7 == kfvm_isa::opcode::class::ALU64 { Width::W64 } else { Width::W32 };
    let dst = reg_of(insn.dst());
    let op = insn.code & 0xf0;
    if op == OP_NEG {
        return Insn::Neg { width, dst };
    }
    if op == OP_END {
        let kind = if width == Width::W64 {
            EndKind::Bswap
        } else if insn.code & 0x08 != 0 {
            EndKind::ToBe
        } else {
            EndKind::ToLe
        };
        return Insn::End { kind, bits: insn.imm as u8, dst };
    }
    let src = if insn.code & 0x08 != 0 { Src::Reg(reg_of(insn.src())) } else { Src::Imm(insn.imm) };
    let op = match op {
        OP_ADD => AluOp::Add,
        OP_SUB => AluOp::Sub,
        OP_MUL => AluOp::Mul,
        OP_DIV if insn.off == 1 => AluOp::Sdiv,
        OP_DIV => AluOp::Div,
        OP_OR => AluOp::Or,
        OP_AND => AluOp::And,
        OP_LSH => AluOp::Lsh,
        OP_RSH => AluOp::Rsh,
        OP_MOD if insn.off == 1 => AluOp::Smod,
        OP_MOD => AluOp::Mod,
        OP_XOR => AluOp::Xor,
        OP_ARSH => AluOp::Arsh,
        _ => AluOp::Mov,
    };
    Insn::Alu { width, op, dst, src }
}

/// Mirrors `assign_scalar_id_before_mov()`.
pub fn assign_scalar_id_before_mov(env: &mut Env<'_>, reg: &mut RegState) {
    if reg.ty != SCALAR_VALUE {
        return;
    }
    if reg.id & BPF_ADD_CONST != 0 {
        reg.id = 0;
        reg.off = 0;
    }
    if reg.id == 0 && !reg.s.var_off.is_const() {
        reg.id = env.new_id();
    }
}

/// [`assign_scalar_id_before_mov`] on register `regno` of the current frame.
fn assign_id_of(env: &mut Env<'_>, regno: usize) {
    let mut r = env.reg(regno).clone();
    assign_scalar_id_before_mov(env, &mut r);
    *env.reg_mut(regno) = r;
}

/// Mirrors `reg_bounds_sanity_check()`: on a violation the kernel logs a verifier bug and resets
/// the bounds.
pub fn reg_bounds_sanity_check(env: &mut Env<'_>, regno: usize, ctx: &str) {
    if env.reg(regno).ty != SCALAR_VALUE {
        return;
    }
    let mut s = env.reg(regno).s;
    if let Err(v) = s.reg_bounds_sanity_check(ctx) {
        verbose!(env.log, "verifier bug: {}\n", v.detail);
        env.reg_mut(regno).s = s;
    }
}

/// Mirrors `check_alu_op()`.
pub fn check_alu_op(env: &mut Env<'_>, insn: RawInsn) -> Result<()> {
    let op = insn.code & 0xf0;
    let is_x = insn.code & 0x08 != 0;
    let alu64 = insn.code & 7 == kfvm_isa::opcode::class::ALU64;
    let dst = insn.dst() as usize;
    let src = insn.src() as usize;

    if op == OP_END || op == OP_NEG {
        if op == OP_NEG {
            if is_x || insn.src() != 0 || insn.off != 0 || insn.imm != 0 {
                return Err(env.reject(Errno::Inval, "BPF_NEG uses reserved fields"));
            }
        } else if insn.src() != 0
            || insn.off != 0
            || (insn.imm != 16 && insn.imm != 32 && insn.imm != 64)
            || (alu64 && is_x)
        {
            return Err(env.reject(Errno::Inval, "BPF_END uses reserved fields"));
        }
        env.check_reg_arg(dst, RegArg::Src)?;
        if env.is_pointer_value(dst) {
            return Err(env.reject(Errno::Acces, format!("R{dst} pointer arithmetic prohibited")));
        }
        if env.reg(dst).ty == SCALAR_VALUE {
            env.check_reg_arg(dst, RegArg::DstNoMark)?;
            let si = scalar_insn(insn);
            let mut s = env.reg(dst).s;
            let copy = s;
            s.adjust_scalar_min_max_vals(&si, &copy);
            let r = env.reg_mut(dst);
            r.s = s;
            // The kernel's wrapper keeps the id except for `neg` and swaps other than le64.
            let keeps_id = matches!(si, Insn::End { kind: EndKind::ToLe, bits: 64, .. });
            if !keeps_id {
                r.id = 0;
                r.off = 0;
            }
        } else {
            env.check_reg_arg(dst, RegArg::Dst)?;
        }
    } else if op == OP_MOV {
        if is_x {
            if !alu64 {
                if (insn.off != 0 && insn.off != 8 && insn.off != 16) || insn.imm != 0 {
                    return Err(env.reject(Errno::Inval, "BPF_MOV uses reserved fields"));
                }
            } else if insn.off == 1 {
                if insn.imm != 1 && insn.imm != 1 << 16 {
                    return Err(env.reject(
                        Errno::Inval,
                        "addr_space_cast insn can only convert between address space 1 and 0",
                    ));
                }
                return Err(env.reject(
                    Errno::Inval,
                    "addr_space_cast insn can only be used in a program that has an associated arena",
                ));
            } else if (insn.off != 0 && insn.off != 8 && insn.off != 16 && insn.off != 32) || insn.imm != 0 {
                return Err(env.reject(Errno::Inval, "BPF_MOV uses reserved fields"));
            }
            env.check_reg_arg(src, RegArg::Src)?;
        } else if insn.src() != 0 || insn.off != 0 {
            return Err(env.reject(Errno::Inval, "BPF_MOV uses reserved fields"));
        }
        env.check_reg_arg(dst, RegArg::DstNoMark)?;
        if is_x {
            if alu64 {
                if insn.off == 0 {
                    assign_id_of(env, src);
                    let s = env.reg(src).clone();
                    *env.reg_mut(dst) = s;
                } else if env.is_pointer_value(src) {
                    return Err(env.reject(Errno::Acces, format!("R{src} sign-extension part of pointer")));
                } else if env.reg(src).ty == SCALAR_VALUE {
                    let no_sext = env.reg(src).s.umax_value < (1u64 << (insn.off - 1));
                    if no_sext {
                        assign_id_of(env, src);
                    }
                    let mut d = env.reg(src).clone();
                    if !no_sext {
                        d.id = 0;
                        d.off = 0;
                    }
                    d.s.coerce_reg_to_size_sx((insn.off >> 3) as u8);
                    *env.reg_mut(dst) = d;
                } else {
                    env.mark_reg_unknown(dst);
                }
            } else {
                if env.is_pointer_value(src) {
                    return Err(env.reject(Errno::Acces, format!("R{src} partial copy of pointer")));
                } else if env.reg(src).ty == SCALAR_VALUE {
                    if insn.off == 0 {
                        let is_u32 = env.reg(src).s.get_reg_width() <= 32;
                        if is_u32 {
                            assign_id_of(env, src);
                        }
                        let mut d = env.reg(src).clone();
                        if !is_u32 {
                            d.id = 0;
                            d.off = 0;
                        }
                        *env.reg_mut(dst) = d;
                    } else {
                        let no_sext = env.reg(src).s.umax_value < (1u64 << (insn.off - 1));
                        if no_sext {
                            assign_id_of(env, src);
                        }
                        let mut d = env.reg(src).clone();
                        if !no_sext {
                            d.id = 0;
                            d.off = 0;
                        }
                        d.s.coerce_subreg_to_size_sx((insn.off >> 3) as u8);
                        *env.reg_mut(dst) = d;
                    }
                } else {
                    env.mark_reg_unknown(dst);
                }
                let d = env.reg_mut(dst);
                d.s.zext_32_to_64();
                d.s.reg_bounds_sync();
            }
        } else {
            env.mark_reg_unknown(dst);
            let imm = if alu64 { insn.imm as i64 as u64 } else { insn.imm as u32 as u64 };
            let d = env.reg_mut(dst);
            d.ty = SCALAR_VALUE;
            d.mark_known(imm);
        }
    } else if op > OP_END {
        return Err(env.reject(Errno::Inval, format!("invalid BPF_ALU opcode {:x}", op)));
    } else {
        let bad_off = (insn.off != 0 && insn.off != 1) || (insn.off == 1 && op != OP_MOD && op != OP_DIV);
        if is_x {
            if insn.imm != 0 || bad_off {
                return Err(env.reject(Errno::Inval, "BPF_ALU uses reserved fields"));
            }
            env.check_reg_arg(src, RegArg::Src)?;
        } else if insn.src() != 0 || bad_off {
            return Err(env.reject(Errno::Inval, "BPF_ALU uses reserved fields"));
        }
        env.check_reg_arg(dst, RegArg::Src)?;
        if (op == OP_MOD || op == OP_DIV) && !is_x && insn.imm == 0 {
            return Err(env.reject(Errno::Inval, "div by zero"));
        }
        if (op == OP_LSH || op == OP_RSH || op == OP_ARSH) && !is_x {
            let size = if alu64 { 64 } else { 32 };
            if insn.imm < 0 || insn.imm >= size {
                return Err(env.reject(Errno::Inval, format!("invalid shift {}", insn.imm)));
            }
        }
        env.check_reg_arg(dst, RegArg::DstNoMark)?;
        adjust_reg_min_max_vals(env, insn)?;
    }
    reg_bounds_sanity_check(env, dst, "alu");
    Ok(())
}

/// Mirrors `adjust_reg_min_max_vals()`.
fn adjust_reg_min_max_vals(env: &mut Env<'_>, insn: RawInsn) -> Result<()> {
    let alu32 = insn.code & 7 != kfvm_isa::opcode::class::ALU64;
    let op = insn.code & 0xf0;
    let dst = insn.dst() as usize;
    let is_x = insn.code & 0x08 != 0;
    let dst_is_ptr = env.reg(dst).ty != SCALAR_VALUE;

    if env.reg(dst).ty == PTR_TO_ARENA {
        return Err(crate::error::VerifyError::Unsupported("arena pointers".into()));
    }
    let src_reg: RegState = if is_x {
        let src = insn.src() as usize;
        let s = env.reg(src).clone();
        if s.ty != SCALAR_VALUE {
            if dst_is_ptr {
                if op == OP_SUB && env.allow_ptr_leaks {
                    env.mark_reg_unknown(dst);
                    return Ok(());
                }
                return Err(
                    env.reject(Errno::Acces, format!("R{dst} pointer {} pointer prohibited", alu_string(op)))
                );
            }
            // scalar += pointer
            mark_chain_precision(env, dst as i32)?;
            let off = env.reg(dst).clone();
            return adjust_ptr_min_max_vals(env, insn, &s, &off, true);
        } else if dst_is_ptr {
            mark_chain_precision(env, src as i32)?;
            let p = env.reg(dst).clone();
            return adjust_ptr_min_max_vals(env, insn, &p, &s, false);
        } else if env.reg(dst).precise {
            mark_chain_precision(env, src as i32)?;
        }
        env.reg(src).clone()
    } else {
        let mut off = RegState::not_init();
        off.ty = SCALAR_VALUE;
        off.mark_known(insn.imm as i64 as u64);
        if dst_is_ptr {
            let p = env.reg(dst).clone();
            return adjust_ptr_min_max_vals(env, insn, &p, &off, false);
        }
        off
    };

    // Two scalars: adjust_scalar_min_max_vals().
    let si = scalar_insn(insn);
    let mut d = env.reg(dst).clone();
    let before = d.clone();
    let dst_umax = d.s.umax_value;
    let fork_is64 = d.s.smin_value == -1 && d.s.smax_value == 0;
    let unsafe_op = !is_safe_to_compute_dst_reg_range(op, alu32, &src_reg.s);
    let fork = d.s.adjust_scalar_min_max_vals(&si, &src_reg.s);
    if unsafe_op {
        // __mark_reg_unknown(): also the id, `off` and the precision of an unprivileged loader.
        let cap = env.bpf_capable;
        d.mark_unknown(cap);
    }
    if let Some(f) = fork {
        // maybe_fork_scalars(): the 0 case is explored later from this same instruction.
        let mut pushed = before;
        pushed.s = f;
        if fork_is64 {
            pushed.id = 0;
            pushed.off = 0;
        }
        // The current state is unchanged so far but for the destination register.
        let cur_dst = std::mem::replace(env.reg_mut(dst), pushed);
        let r = env.push_stack(env.insn_idx, env.insn_idx as i32, false);
        *env.reg_mut(dst) = cur_dst;
        r?;
    }
    // Linked registers through `rX += const`.
    if env.bpf_capable && (op == OP_ADD || op == OP_SUB) && d.id != 0 && src_reg.s.is_reg_const(alu32) {
        let val = src_reg.s.reg_const_value(alu32);
        let mut clear = (!alu32 && ((val as i64) < i32::MIN as i64 || (val as i64) > i32::MAX as i64))
            || (alu32 && dst_umax > u32::MAX as u64);
        let mut off = val as i32;
        if op == OP_SUB {
            if off == i32::MIN {
                clear = true;
            }
            off = off.wrapping_neg();
        }
        if clear || d.id & BPF_ADD_CONST != 0 {
            d.off = 0;
            d.id = 0;
        } else {
            d.id |= if alu32 { BPF_ADD_CONST32 } else { BPF_ADD_CONST64 };
            d.off = off;
        }
    } else {
        // The live kernel clears the delta with the id (clear_scalar_id()).
        d.id = 0;
        d.off = 0;
    }
    *env.reg_mut(dst) = d;
    Ok(())
}

/// Mirrors `is_safe_to_compute_dst_reg_range()`.
fn is_safe_to_compute_dst_reg_range(op: u8, alu32: bool, src: &Scalar) -> bool {
    let src_is_const = if alu32 {
        src.var_off.subreg_is_const()
            && src.s32_min_value == src.s32_max_value
            && src.u32_min_value == src.u32_max_value
    } else {
        src.var_off.is_const() && src.smin_value == src.smax_value && src.umin_value == src.umax_value
    };
    match op {
        OP_ADD | OP_SUB | OP_AND | OP_XOR | OP_OR | OP_MUL => true,
        OP_LSH | OP_RSH | OP_ARSH => src_is_const && src.umax_value < if alu32 { 32 } else { 64 },
        _ => false,
    }
}

/// Mirrors `check_reg_sane_offset()`.
fn check_reg_sane_offset(env: &mut Env<'_>, reg: &RegState, ty: u32) -> Result<()> {
    let known = reg.s.var_off.is_const();
    let val = reg.s.var_off.value as i64;
    let smin = reg.s.smin_value;
    let t = reg_type_str(ty);
    if known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF) {
        return Err(env.reject(Errno::Inval, format!("math between {t} pointer and {val} is not allowed")));
    }
    if reg.off as i64 >= BPF_MAX_VAR_OFF || reg.off as i64 <= -BPF_MAX_VAR_OFF {
        return Err(env.reject(Errno::Inval, format!("{t} pointer offset {} is not allowed", reg.off)));
    }
    if smin == i64::MIN {
        return Err(env.reject(
            Errno::Inval,
            format!("math between {t} pointer and register with unbounded min value is not allowed"),
        ));
    }
    if smin >= BPF_MAX_VAR_OFF || smin <= -BPF_MAX_VAR_OFF {
        return Err(env.reject(Errno::Inval, format!("value {smin} makes {t} pointer be out of bounds")));
    }
    Ok(())
}

/// Mirrors `adjust_ptr_min_max_vals()`: `ptr op off` into the instruction's destination.
/// `dst_is_off`: the destination held the scalar (`scalar += pointer`).
fn adjust_ptr_min_max_vals(
    env: &mut Env<'_>,
    insn: RawInsn,
    ptr_reg: &RegState,
    off_reg: &RegState,
    dst_is_off: bool,
) -> Result<()> {
    let dst = insn.dst() as usize;
    let op = insn.code & 0xf0;
    let known = off_reg.s.var_off.is_const();
    let (smin_val, smax_val) = (off_reg.s.smin_value, off_reg.s.smax_value);
    let (umin_val, umax_val) = (off_reg.s.umin_value, off_reg.s.umax_value);
    let (smin_ptr, smax_ptr) = (ptr_reg.s.smin_value, ptr_reg.s.smax_value);
    let (umin_ptr, umax_ptr) = (ptr_reg.s.umin_value, ptr_reg.s.umax_value);

    if (known && (smin_val != smax_val || umin_val != umax_val)) || smin_val > smax_val || umin_val > umax_val
    {
        let cap = env.bpf_capable;
        env.reg_mut(dst).mark_unknown(cap);
        return Ok(());
    }
    if insn.code & 7 != kfvm_isa::opcode::class::ALU64 {
        if op == OP_SUB && env.allow_ptr_leaks {
            let cap = env.bpf_capable;
            env.reg_mut(dst).mark_unknown(cap);
            return Ok(());
        }
        return Err(env.reject(Errno::Acces, format!("R{dst} 32-bit pointer arithmetic prohibited")));
    }
    if ptr_reg.ty & PTR_MAYBE_NULL != 0 {
        return Err(env.reject(
            Errno::Acces,
            format!(
                "R{dst} pointer arithmetic on {} prohibited, null-check it first",
                reg_type_str(ptr_reg.ty)
            ),
        ));
    }
    if base_type(ptr_reg.ty) == PTR_TO_MEM && ptr_reg.ty & PTR_UNTRUSTED != 0 {
        return Ok(());
    }
    let allowed = match base_type(ptr_reg.ty) {
        PTR_TO_CTX | PTR_TO_MAP_VALUE | PTR_TO_MAP_KEY | PTR_TO_STACK | PTR_TO_PACKET_META
        | PTR_TO_PACKET | PTR_TO_TP_BUFFER | PTR_TO_BTF_ID | PTR_TO_MEM | PTR_TO_BUF | PTR_TO_FUNC
        | CONST_PTR_TO_DYNPTR => true,
        PTR_TO_FLOW_KEYS if known => true,
        PTR_TO_FLOW_KEYS | CONST_PTR_TO_MAP => known && smin_val == 0 && op == OP_ADD,
        _ => false,
    };
    if !allowed {
        return Err(env.reject(
            Errno::Acces,
            format!("R{dst} pointer arithmetic on {} prohibited", reg_type_str(ptr_reg.ty)),
        ));
    }
    let mut d = env.reg(dst).clone();
    d.ty = ptr_reg.ty;
    d.id = ptr_reg.id;
    check_reg_sane_offset(env, off_reg, ptr_reg.ty)?;
    check_reg_sane_offset(env, ptr_reg, ptr_reg.ty)?;
    d.s.mark_reg32_unbounded();
    let copy_union = |d: &mut RegState| {
        d.range = ptr_reg.range;
        d.map = ptr_reg.map;
        d.map_uid = ptr_reg.map_uid;
        d.btf = ptr_reg.btf;
        d.btf_id = ptr_reg.btf_id;
        d.mem_size = ptr_reg.mem_size;
        d.dynptr_id = ptr_reg.dynptr_id;
        d.dynptr_type = ptr_reg.dynptr_type;
        d.dynptr_first_slot = ptr_reg.dynptr_first_slot;
        d.iter_state = ptr_reg.iter_state;
        d.iter_depth = ptr_reg.iter_depth;
        d.irq_kfunc_class = ptr_reg.irq_kfunc_class;
        d.subprogno = ptr_reg.subprogno;
    };
    let clear_union = |d: &mut RegState| {
        d.range = 0;
        d.map = 0;
        d.map_uid = 0;
        d.btf = 0;
        d.btf_id = 0;
        d.mem_size = 0;
        d.dynptr_id = 0;
        d.subprogno = 0;
    };
    let is_pkt = type_is_pkt_pointer(ptr_reg.ty) && ptr_reg.ty & PTR_MAYBE_NULL == 0;
    match op {
        OP_ADD => {
            let sum = ptr_reg.off as i64 + smin_val;
            if known && sum == sum as i32 as i64 {
                d.s.smin_value = smin_ptr;
                d.s.smax_value = smax_ptr;
                d.s.umin_value = umin_ptr;
                d.s.umax_value = umax_ptr;
                d.s.var_off = ptr_reg.s.var_off;
                d.off = sum as i32;
                copy_union(&mut d);
            } else {
                match (smin_ptr.checked_add(smin_val), smax_ptr.checked_add(smax_val)) {
                    (Some(a), Some(b)) => {
                        d.s.smin_value = a;
                        d.s.smax_value = b;
                    }
                    _ => {
                        d.s.smin_value = i64::MIN;
                        d.s.smax_value = i64::MAX;
                    }
                }
                match (umin_ptr.checked_add(umin_val), umax_ptr.checked_add(umax_val)) {
                    (Some(a), Some(b)) => {
                        d.s.umin_value = a;
                        d.s.umax_value = b;
                    }
                    _ => {
                        d.s.umin_value = 0;
                        d.s.umax_value = u64::MAX;
                    }
                }
                d.s.var_off = ptr_reg.s.var_off.add(off_reg.s.var_off);
                d.off = ptr_reg.off;
                copy_union(&mut d);
                if is_pkt {
                    d.id = env.new_id();
                    clear_union(&mut d);
                }
            }
        }
        OP_SUB => {
            if dst_is_off {
                return Err(env.reject(Errno::Acces, format!("R{dst} tried to subtract pointer from scalar")));
            }
            if ptr_reg.ty == PTR_TO_STACK {
                return Err(
                    env.reject(Errno::Acces, format!("R{dst} subtraction from stack pointer prohibited"))
                );
            }
            let diff = ptr_reg.off as i64 - smin_val;
            if known && diff == diff as i32 as i64 {
                d.s.smin_value = smin_ptr;
                d.s.smax_value = smax_ptr;
                d.s.umin_value = umin_ptr;
                d.s.umax_value = umax_ptr;
                d.s.var_off = ptr_reg.s.var_off;
                d.id = ptr_reg.id;
                d.off = diff as i32;
                copy_union(&mut d);
            } else {
                match (smin_ptr.checked_sub(smax_val), smax_ptr.checked_sub(smin_val)) {
                    (Some(a), Some(b)) => {
                        d.s.smin_value = a;
                        d.s.smax_value = b;
                    }
                    _ => {
                        d.s.smin_value = i64::MIN;
                        d.s.smax_value = i64::MAX;
                    }
                }
                if umin_ptr < umax_val {
                    d.s.umin_value = 0;
                    d.s.umax_value = u64::MAX;
                } else {
                    d.s.umin_value = umin_ptr - umax_val;
                    d.s.umax_value = umax_ptr.wrapping_sub(umin_val);
                }
                d.s.var_off = ptr_reg.s.var_off.sub(off_reg.s.var_off);
                d.off = ptr_reg.off;
                copy_union(&mut d);
                if is_pkt {
                    d.id = env.new_id();
                    if smin_val < 0 {
                        clear_union(&mut d);
                    }
                }
            }
        }
        OP_AND | OP_OR | OP_XOR => {
            return Err(env.reject(
                Errno::Acces,
                format!("R{dst} bitwise operator {} on pointer prohibited", alu_string(op)),
            ));
        }
        _ => {
            return Err(env.reject(
                Errno::Acces,
                format!("R{dst} pointer arithmetic with {} operator prohibited", alu_string(op)),
            ));
        }
    }
    check_reg_sane_offset(env, &d, ptr_reg.ty)?;
    d.s.reg_bounds_sync();
    *env.reg_mut(dst) = d;
    if !env.bypass_spec_v1 {
        sanitize_check_bounds(env, dst)?;
    }
    Ok(())
}

/// Mirrors `sanitize_check_bounds()` for loaders without `CAP_PERFMON`.
fn sanitize_check_bounds(env: &mut Env<'_>, dst: usize) -> Result<()> {
    let r = env.reg(dst).clone();
    match r.ty {
        PTR_TO_STACK => {
            if !r.s.var_off.is_const() {
                let tn = crate::print::tnum_strn(r.s.var_off);
                return Err(env.reject(
                    Errno::Acces,
                    format!("R{dst} variable stack access prohibited for !root, var_off={tn} off={}", r.off),
                ));
            }
            let off = r.off as i64 + r.s.var_off.value as i64;
            if off >= 0 || off < -(MAX_BPF_STACK as i64) {
                return Err(env.reject(
                    Errno::Acces,
                    format!(
                        "R{dst} stack pointer arithmetic goes out of range, prohibited for !root; off={off}"
                    ),
                ));
            }
        }
        PTR_TO_MAP_VALUE => {
            let vs = env.map(r.map).value_size as i64;
            let lo = r.s.smin_value + r.off as i64;
            let hi = r.s.umax_value as i64 + r.off as i64;
            if lo < 0 || hi + 1 > vs {
                return Err(env.reject(
                    Errno::Acces,
                    format!("R{dst} pointer arithmetic of map value goes out of range, prohibited for !root"),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}
