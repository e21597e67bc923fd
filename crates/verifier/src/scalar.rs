//! The scalar part of `struct bpf_reg_state`: what the verifier knows about a number.
//!
//! A [`Scalar`] holds the five views the kernel keeps of one 64-bit value — its known bits
//! (`var_off`, a [`Tnum`]), signed and unsigned 64-bit bounds, and signed and unsigned bounds of
//! its low 32 bits — and the functions of `kernel/bpf/verifier.c` that move them: marking
//! (`__mark_reg_known`, `__mark_reg_unknown`), the cross-deductions that keep the views
//! consistent ([`Scalar::reg_bounds_sync`]), truncation and sign extension
//! ([`Scalar::coerce_reg_to_size`] and friends), the transfer function of every ALU operation
//! ([`Scalar::adjust_scalar_min_max_vals`]), and what a conditional jump decides and teaches
//! ([`is_scalar_branch_taken`], [`regs_refine_cond_op`], [`reg_set_min_max`]). The verifier log's
//! text for a scalar register is [`print_scalar_reg`]; [`parse_scalar_reg`] reads it back.
//!
//! Register identity (`id`, the linked-register delta, precision) belongs to the register state
//! around a `Scalar`; the functions here take it as arguments where the kernel's do.
//!
//! Every function mirrors the kernel function named in its doc line and computes the same
//! bounds, including the kernel's imprecisions, as the Linux 6.18 verifier running on the test
//! machine does (checked instruction by instruction against its log: `tests/scalar_logs.rs`).
//!
//! That kernel (6.18.44) carries verifier changes beyond the 6.18.0 release, and kfvm follows
//! the kernel, not the release: `__update_reg64_bounds()` turns a register into a constant when
//! its range and `var_off` share one value (`tnum_step()`); `__reg32_deduce_bounds()` and
//! `__reg64_deduce_bounds()` learn from a signed range that crosses the sign boundary;
//! `reg_bounds_sync()` runs three deduction rounds; byte swaps are tracked through `var_off`
//! (`tnum_bswap*`); `and`/`or` with a constant on a value in `[-1, 0]` forks
//! (`maybe_fork_scalars()`); `tnum_mul()` is the long-multiplication form with `tnum_union()`.
//! Division and modulo are not tracked (the result is unknown), and a comparison of a register
//! with itself is treated like any other comparison.

use crate::tnum::Tnum;
#[cfg(test)]
use kfvm_isa::Src;
use kfvm_isa::{AluOp, EndKind, Insn, JmpOp, Width};
use std::fmt::{self, Write as _};

/// The scalar part of `struct bpf_reg_state`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Scalar {
    /// Known bits.
    pub var_off: Tnum,
    /// Signed 64-bit lower bound.
    pub smin_value: i64,
    /// Signed 64-bit upper bound.
    pub smax_value: i64,
    /// Unsigned 64-bit lower bound.
    pub umin_value: u64,
    /// Unsigned 64-bit upper bound.
    pub umax_value: u64,
    /// Signed lower bound of the low 32 bits.
    pub s32_min_value: i32,
    /// Signed upper bound of the low 32 bits.
    pub s32_max_value: i32,
    /// Unsigned lower bound of the low 32 bits.
    pub u32_min_value: u32,
    /// Unsigned upper bound of the low 32 bits.
    pub u32_max_value: u32,
}

impl Default for Scalar {
    fn default() -> Self {
        Scalar::unknown()
    }
}

/// `reg_bounds_sanity_check()` found bounds that describe no value (a dead branch, or a kernel
/// imprecision). The kernel logs `verifier bug: REG INVARIANTS VIOLATION (ctx): msg ...` and
/// continues with the bounds reset ([`Scalar::reg_bounds_sanity_check`] has done that).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InvariantViolation {
    /// Which check failed: `range bounds violation`, `const tnum out of sync with range bounds`
    /// or `const subreg tnum out of sync with range bounds`.
    pub msg: &'static str,
    /// The message the kernel logs after `verifier bug: ` (without the caller's context).
    pub detail: String,
}

fn max_s32(a: i32, b: i32) -> i32 {
    a.max(b)
}

fn min_s32(a: i32, b: i32) -> i32 {
    a.min(b)
}

impl Scalar {
    /// A completely unknown scalar: `__mark_reg_unknown()` (the bounds of
    /// `__mark_reg_unbounded()`, `var_off` unknown).
    pub const fn unknown() -> Scalar {
        Scalar {
            var_off: Tnum::UNKNOWN,
            smin_value: i64::MIN,
            smax_value: i64::MAX,
            umin_value: 0,
            umax_value: u64::MAX,
            s32_min_value: i32::MIN,
            s32_max_value: i32::MAX,
            u32_min_value: 0,
            u32_max_value: u32::MAX,
        }
    }

    /// The constant `imm`: `___mark_reg_known()`.
    pub const fn known(imm: u64) -> Scalar {
        Scalar {
            var_off: Tnum::constant(imm),
            smin_value: imm as i64,
            smax_value: imm as i64,
            umin_value: imm,
            umax_value: imm,
            s32_min_value: imm as i32,
            s32_max_value: imm as i32,
            u32_min_value: imm as u32,
            u32_max_value: imm as u32,
        }
    }

    /// Mirrors `___mark_reg_known()` (the scalar part of `__mark_reg_known()`).
    pub fn mark_known(&mut self, imm: u64) {
        *self = Scalar::known(imm);
    }

    /// Mirrors `__mark_reg_unknown()` (the scalar part).
    pub fn mark_unknown(&mut self) {
        *self = Scalar::unknown();
    }

    /// Mirrors `__mark_reg32_known()`: the low 32 bits become the constant `imm`.
    pub fn mark_reg32_known(&mut self, imm: u64) {
        self.var_off = self.var_off.const_subreg(imm as u32);
        self.s32_min_value = imm as i32;
        self.s32_max_value = imm as i32;
        self.u32_min_value = imm as u32;
        self.u32_max_value = imm as u32;
    }

    /// Mirrors `__mark_reg_unbounded()`: all eight bounds reset, `var_off` kept.
    pub fn mark_unbounded(&mut self) {
        self.mark_reg64_unbounded();
        self.mark_reg32_unbounded();
    }

    /// Mirrors `__mark_reg64_unbounded()`.
    pub fn mark_reg64_unbounded(&mut self) {
        self.smin_value = i64::MIN;
        self.smax_value = i64::MAX;
        self.umin_value = 0;
        self.umax_value = u64::MAX;
    }

    /// Mirrors `__mark_reg32_unbounded()`.
    pub fn mark_reg32_unbounded(&mut self) {
        self.s32_min_value = i32::MIN;
        self.s32_max_value = i32::MAX;
        self.u32_min_value = 0;
        self.u32_max_value = u32::MAX;
    }

    /// Whether the value is one known constant (`tnum_is_const(reg->var_off)`).
    pub const fn is_const(&self) -> bool {
        self.var_off.is_const()
    }

    /// Mirrors `__update_reg32_bounds()`: 32-bit bounds tightened from `var_off`.
    pub fn update_reg32_bounds(&mut self) {
        let var32 = self.var_off.subreg();
        self.s32_min_value =
            max_s32(self.s32_min_value, (var32.value | (var32.mask & 0x8000_0000)) as u32 as i32);
        self.s32_max_value =
            min_s32(self.s32_max_value, (var32.value | (var32.mask & 0x7fff_ffff)) as u32 as i32);
        self.u32_min_value = self.u32_min_value.max(var32.value as u32);
        self.u32_max_value = self.u32_max_value.min((var32.value | var32.mask) as u32);
    }

    /// Mirrors `__update_reg64_bounds()`: 64-bit bounds tightened from `var_off`, and the
    /// register made a constant when the unsigned range and `var_off` share a single value.
    pub fn update_reg64_bounds(&mut self) {
        let t = self.var_off;
        self.smin_value = self.smin_value.max((t.value | (t.mask & (1 << 63))) as i64);
        self.smax_value = self.smax_value.min((t.value | (t.mask & (u64::MAX >> 1))) as i64);
        self.umin_value = self.umin_value.max(t.value);
        self.umax_value = self.umax_value.min(t.value | t.mask);

        let tnum_next = t.step(self.umin_value);
        let umin_in_tnum = (self.umin_value & !t.mask) == t.value;
        let tmax = t.value | t.mask;
        if umin_in_tnum && tnum_next > self.umax_value {
            // Only umin is in both.
            self.mark_known(self.umin_value);
        } else if !umin_in_tnum && tnum_next == tmax {
            // Only the tnum's maximum.
            self.mark_known(tmax);
        } else if !umin_in_tnum && tnum_next <= self.umax_value && t.step(tnum_next) > self.umax_value {
            // Only one value between umin and umax.
            self.mark_known(tnum_next);
        }
    }

    /// Mirrors `__update_reg_bounds()`.
    pub fn update_reg_bounds(&mut self) {
        self.update_reg32_bounds();
        self.update_reg64_bounds();
    }

    /// Mirrors `__reg32_deduce_bounds()`: 32-bit bounds from the 64-bit ones, and signed from
    /// unsigned and back within 32 bits.
    pub fn reg32_deduce_bounds(&mut self) {
        if (self.umin_value >> 32) == (self.umax_value >> 32) {
            // The low 32 bits of a u64 range with constant upper half form a range.
            self.u32_min_value = self.u32_min_value.max(self.umin_value as u32);
            self.u32_max_value = self.u32_max_value.min(self.umax_value as u32);
            if (self.umin_value as i32) <= (self.umax_value as i32) {
                self.s32_min_value = max_s32(self.s32_min_value, self.umin_value as i32);
                self.s32_max_value = min_s32(self.s32_max_value, self.umax_value as i32);
            }
        }
        if (self.smin_value >> 32) == (self.smax_value >> 32) {
            if (self.smin_value as u32) <= (self.smax_value as u32) {
                self.u32_min_value = self.u32_min_value.max(self.smin_value as u32);
                self.u32_max_value = self.u32_max_value.min(self.smax_value as u32);
            }
            if (self.smin_value as i32) <= (self.smax_value as i32) {
                self.s32_min_value = max_s32(self.s32_min_value, self.smin_value as i32);
                self.s32_max_value = min_s32(self.s32_max_value, self.smax_value as i32);
            }
        }
        // Upper halves two consecutive numbers, low halves crossing from negative to positive.
        if ((self.umin_value >> 32) as u32).wrapping_add(1) == (self.umax_value >> 32) as u32
            && (self.umin_value as i32) < 0
            && (self.umax_value as i32) >= 0
        {
            self.s32_min_value = max_s32(self.s32_min_value, self.umin_value as i32);
            self.s32_max_value = min_s32(self.s32_max_value, self.umax_value as i32);
        }
        if ((self.smin_value >> 32) as u32).wrapping_add(1) == (self.smax_value >> 32) as u32
            && (self.smin_value as i32) < 0
            && (self.smax_value as i32) >= 0
        {
            self.s32_min_value = max_s32(self.s32_min_value, self.smin_value as i32);
            self.s32_max_value = min_s32(self.s32_max_value, self.smax_value as i32);
        }
        // A u32 range that does not cross the sign bit is also an s32 range.
        if (self.u32_min_value as i32) <= (self.u32_max_value as i32) {
            self.s32_min_value = max_s32(self.s32_min_value, self.u32_min_value as i32);
            self.s32_max_value = min_s32(self.s32_max_value, self.u32_max_value as i32);
        }
        // And an s32 range that does not cross zero is also a u32 range; one that does cross
        // still bounds a u32 range that overlaps only one of its two halves.
        if (self.s32_min_value as u32) <= (self.s32_max_value as u32) {
            self.u32_min_value = (self.s32_min_value as u32).max(self.u32_min_value);
            self.u32_max_value = (self.s32_max_value as u32).min(self.u32_max_value);
        } else if self.u32_max_value < self.s32_min_value as u32 {
            // The u32 range overlaps only the non-negative part of the s32 range.
            self.s32_min_value = self.u32_min_value as i32;
            self.u32_max_value = self.u32_max_value.min(self.s32_max_value as u32);
        } else if (self.s32_max_value as u32) < self.u32_min_value {
            // The u32 range overlaps only the negative part of the s32 range.
            self.s32_max_value = self.u32_max_value as i32;
            self.u32_min_value = self.u32_min_value.max(self.s32_min_value as u32);
        }
    }

    /// Mirrors `__reg64_deduce_bounds()`: signed 64-bit bounds from unsigned and back, including
    /// the case of a signed range crossing the sign boundary that overlaps the unsigned range at
    /// one end only.
    pub fn reg64_deduce_bounds(&mut self) {
        if (self.umin_value as i64) <= (self.umax_value as i64) {
            self.smin_value = self.smin_value.max(self.umin_value as i64);
            self.smax_value = self.smax_value.min(self.umax_value as i64);
        }
        if (self.smin_value as u64) <= (self.smax_value as u64) {
            self.umin_value = (self.smin_value as u64).max(self.umin_value);
            self.umax_value = (self.smax_value as u64).min(self.umax_value);
        } else if self.umax_value < self.smin_value as u64 {
            // The u64 range overlaps only the non-negative part of the s64 range.
            self.smin_value = self.umin_value as i64;
            self.umax_value = self.umax_value.min(self.smax_value as u64);
        } else if (self.smax_value as u64) < self.umin_value {
            // The u64 range overlaps only the negative part of the s64 range.
            self.smax_value = self.umax_value as i64;
            self.umin_value = self.umin_value.max(self.smin_value as u64);
        }
    }

    /// Mirrors `__reg_deduce_mixed_bounds()`: 64-bit bounds tightened with the 32-bit ones.
    pub fn reg_deduce_mixed_bounds(&mut self) {
        const HI: u64 = !0xffff_ffffu64;
        let new_umin = (self.umin_value & HI) | self.u32_min_value as u64;
        let new_umax = (self.umax_value & HI) | self.u32_max_value as u64;
        self.umin_value = self.umin_value.max(new_umin);
        self.umax_value = self.umax_value.min(new_umax);
        let new_smin = ((self.smin_value as u64 & HI) | self.u32_min_value as u64) as i64;
        let new_smax = ((self.smax_value as u64 & HI) | self.u32_max_value as u64) as i64;
        self.smin_value = self.smin_value.max(new_smin);
        self.smax_value = self.smax_value.min(new_smax);

        // After a sign-extending load: the upper 32 bits are all ones or all zeros, and a
        // non-negative 32-bit range rules out the all-ones half.
        if self.s32_min_value >= 0 && self.smin_value >= i32::MIN as i64 && self.smax_value <= i32::MAX as i64
        {
            self.smin_value = self.s32_min_value as i64;
            self.smax_value = self.s32_max_value as i64;
            self.umin_value = self.s32_min_value as u64;
            self.umax_value = self.s32_max_value as u64;
            self.var_off =
                self.var_off.intersect(Tnum::range(self.smin_value as u64, self.smax_value as u64));
        }
    }

    /// Mirrors `__reg_deduce_bounds()`.
    pub fn reg_deduce_bounds(&mut self) {
        self.reg32_deduce_bounds();
        self.reg64_deduce_bounds();
        self.reg_deduce_mixed_bounds();
    }

    /// Mirrors `__reg_bound_offset()`: `var_off` tightened with the unsigned bounds.
    pub fn reg_bound_offset(&mut self) {
        let var64_off = self.var_off.intersect(Tnum::range(self.umin_value, self.umax_value));
        let var32_off =
            var64_off.subreg().intersect(Tnum::range(self.u32_min_value as u64, self.u32_max_value as u64));
        self.var_off = var64_off.clear_subreg().or(var32_off);
    }

    /// Mirrors `reg_bounds_sync()`: bounds from `var_off`, the cross-deductions (three rounds),
    /// `var_off` from the bounds, and bounds from `var_off` again.
    pub fn reg_bounds_sync(&mut self) {
        self.update_reg_bounds();
        self.reg_deduce_bounds();
        self.reg_deduce_bounds();
        self.reg_deduce_bounds();
        self.reg_bound_offset();
        self.update_reg_bounds();
    }

    /// Mirrors `reg_bounds_sanity_check()`: on bounds that describe no value, returns what the
    /// kernel logs and resets the bounds (`__mark_reg_unbounded()`, `var_off` kept) as the kernel
    /// does when it is not testing its invariants. `ctx` names the caller (`alu`, `true_reg1`...).
    pub fn reg_bounds_sanity_check(&mut self, ctx: &str) -> Result<(), InvariantViolation> {
        let msg = if self.umin_value > self.umax_value
            || self.smin_value > self.smax_value
            || self.u32_min_value > self.u32_max_value
            || self.s32_min_value > self.s32_max_value
        {
            Some("range bounds violation")
        } else if self.var_off.is_const()
            && (self.umin_value != self.var_off.value
                || self.umax_value != self.var_off.value
                || self.smin_value != self.var_off.value as i64
                || self.smax_value != self.var_off.value as i64)
        {
            Some("const tnum out of sync with range bounds")
        } else if self.var_off.subreg_is_const() && {
            let v = self.var_off.value as u32;
            self.u32_min_value != v
                || self.u32_max_value != v
                || self.s32_min_value != v as i32
                || self.s32_max_value != v as i32
        } {
            Some("const subreg tnum out of sync with range bounds")
        } else {
            None
        };
        let Some(msg) = msg else { return Ok(()) };
        let detail = format!(
            "REG INVARIANTS VIOLATION ({ctx}): {msg} u64=[{:#x}, {:#x}] s64=[{:#x}, {:#x}] u32=[{:#x}, {:#x}] s32=[{:#x}, {:#x}] var_off=({:#x}, {:#x})",
            self.umin_value,
            self.umax_value,
            self.smin_value,
            self.smax_value,
            self.u32_min_value,
            self.u32_max_value,
            self.s32_min_value,
            self.s32_max_value,
            self.var_off.value,
            self.var_off.mask
        );
        self.mark_unbounded();
        Err(InvariantViolation { msg, detail })
    }

    /// Mirrors `__reg_assign_32_into_64()`: 64-bit bounds from the 32-bit ones of a
    /// zero-extended value.
    pub fn reg_assign_32_into_64(&mut self) {
        self.umin_value = self.u32_min_value as u64;
        self.umax_value = self.u32_max_value as u64;
        if self.s32_min_value >= 0 && self.s32_max_value >= 0 {
            self.smin_value = self.s32_min_value as i64;
            self.smax_value = self.s32_max_value as i64;
        } else {
            self.smin_value = 0;
            self.smax_value = u32::MAX as i64;
        }
    }

    /// Mirrors `zext_32_to_64()`: the result of a 32-bit operation, zero-extended.
    pub fn zext_32_to_64(&mut self) {
        self.var_off = self.var_off.subreg();
        self.reg_assign_32_into_64();
    }

    /// Mirrors `coerce_reg_to_size()`: truncation to the low `size` bytes (1, 2 or 4), as a
    /// zero-extending load or `le16`/`le32` does.
    pub fn coerce_reg_to_size(&mut self, size: u8) {
        self.var_off = self.var_off.cast(size);
        let mask = (1u64 << (size as u32 * 8)) - 1;
        if (self.umin_value & !mask) == (self.umax_value & !mask) {
            self.umin_value &= mask;
            self.umax_value &= mask;
        } else {
            self.umin_value = 0;
            self.umax_value = mask;
        }
        self.smin_value = self.umin_value as i64;
        self.smax_value = self.umax_value as i64;
        if size < 4 {
            self.mark_reg32_unbounded();
        }
        self.reg_bounds_sync();
    }

    /// Mirrors `set_sext64_default_val()`.
    fn set_sext64_default_val(&mut self, size: u8) {
        let (lo, hi) = sext_limits(size);
        self.smin_value = lo;
        self.s32_min_value = lo as i32;
        self.smax_value = hi;
        self.s32_max_value = hi as i32;
        self.umin_value = 0;
        self.u32_min_value = 0;
        self.umax_value = u64::MAX;
        self.u32_max_value = u32::MAX;
        self.var_off = Tnum::UNKNOWN;
    }

    /// Mirrors `coerce_reg_to_size_sx()`: sign extension of the low `size` bytes (1, 2 or 4) to
    /// 64 bits, as `movsx` and sign-extending loads do.
    pub fn coerce_reg_to_size_sx(&mut self, size: u8) {
        let num_bits = size as u32 * 8;
        if self.var_off.is_const() {
            let v = sext(self.var_off.value, size);
            *self = Scalar::known(v as u64);
            return;
        }
        let top_smax = ((self.smax_value as u64) >> num_bits) << num_bits;
        let top_smin = ((self.smin_value as u64) >> num_bits) << num_bits;
        if top_smax == top_smin {
            let init_max = sext(self.smax_value as u64, size);
            let init_min = sext(self.smin_value as u64, size);
            let s64_max = init_max.max(init_min);
            let s64_min = init_max.min(init_min);
            if (s64_max >= 0) == (s64_min >= 0) {
                self.smin_value = s64_min;
                self.s32_min_value = s64_min as i32;
                self.smax_value = s64_max;
                self.s32_max_value = s64_max as i32;
                self.umin_value = s64_min as u64;
                self.u32_min_value = s64_min as u32;
                self.umax_value = s64_max as u64;
                self.u32_max_value = s64_max as u32;
                self.var_off = Tnum::range(s64_min as u64, s64_max as u64);
                return;
            }
        }
        self.set_sext64_default_val(size);
    }

    /// Mirrors `set_sext32_default_val()`.
    fn set_sext32_default_val(&mut self, size: u8) {
        let (lo, hi) = sext_limits(size);
        self.s32_min_value = lo as i32;
        self.s32_max_value = hi as i32;
        self.u32_min_value = 0;
        self.u32_max_value = u32::MAX;
        self.var_off = Tnum::UNKNOWN.subreg();
    }

    /// Mirrors `coerce_subreg_to_size_sx()`: sign extension of the low `size` bytes (1 or 2) to
    /// 32 bits (`w1 = (s8)w2`); the 64-bit bounds are left to the caller's zero extension.
    pub fn coerce_subreg_to_size_sx(&mut self, size: u8) {
        let num_bits = size as u32 * 8;
        if self.var_off.is_const() {
            // `tnum_const((s8)u32_val)`: the sign-extended constant, upper half included (the
            // caller's zero extension drops it).
            let v = sext(self.var_off.value, size);
            self.var_off = Tnum::constant(v as u64);
            self.s32_min_value = v as i32;
            self.s32_max_value = v as i32;
            self.u32_min_value = v as u32;
            self.u32_max_value = v as u32;
            return;
        }
        let top_smax = ((self.s32_max_value as u32) >> num_bits) << num_bits;
        let top_smin = ((self.s32_min_value as u32) >> num_bits) << num_bits;
        if top_smax == top_smin {
            let init_max = sext(self.s32_max_value as u32 as u64, size) as i32;
            let init_min = sext(self.s32_min_value as u32 as u64, size) as i32;
            let s32_max = init_max.max(init_min);
            let s32_min = init_max.min(init_min);
            if (s32_min >= 0) == (s32_max >= 0) {
                self.s32_min_value = s32_min;
                self.s32_max_value = s32_max;
                self.u32_min_value = s32_min as u32;
                self.u32_max_value = s32_max as u32;
                self.var_off = Tnum::range(s32_min as i64 as u64, s32_max as i64 as u64).subreg();
                return;
            }
        }
        self.set_sext32_default_val(size);
    }

    /// Mirrors `is_reg_const()`: the operand of a 32- or 64-bit comparison is one constant.
    pub const fn is_reg_const(&self, subreg32: bool) -> bool {
        if subreg32 {
            self.var_off.subreg_is_const()
        } else {
            self.var_off.is_const()
        }
    }

    /// Mirrors `reg_const_value()`.
    pub const fn reg_const_value(&self, subreg32: bool) -> u64 {
        if subreg32 {
            self.var_off.value as u32 as u64
        } else {
            self.var_off.value
        }
    }

    /// Mirrors `get_reg_width()`: the number of significant bits of `umax_value`.
    pub const fn get_reg_width(&self) -> u32 {
        64 - self.umax_value.leading_zeros()
    }

    /// Mirrors `adjust_scalar_min_max_vals()`: the effect of the ALU instruction `insn` (an
    /// `Insn::Alu` other than a move, an `Insn::Neg` or an `Insn::End`) on this register, with
    /// `src` the second operand (the immediate as `Scalar::known(imm as i64 as u64)`; for
    /// `neg` and byte swaps the register itself).
    ///
    /// Returns the register as it is in the state the kernel pushes to explore later
    /// (`maybe_fork_scalars()`: an `and`/`or` with a constant on a value in `[-1, 0]` is explored
    /// once with the value 0 and once with -1; the pushed state runs `insn` again at the same
    /// index); `self` is then the -1 case after the operation.
    pub fn adjust_scalar_min_max_vals(&mut self, insn: &Insn, src: &Scalar) -> Option<Scalar> {
        let (op, alu32) = match *insn {
            Insn::Alu { width, op, .. } => (ScalarOp::Alu(op), width == Width::W32),
            Insn::Neg { width, .. } => (ScalarOp::Neg, width == Width::W32),
            Insn::End { kind, bits, .. } => (ScalarOp::End(kind, bits), kind != EndKind::Bswap),
            _ => return None,
        };
        if !is_safe_to_compute_dst_reg_range(op, alu32, src) {
            self.mark_unknown();
            return None;
        }
        let mut fork = None;
        match op {
            ScalarOp::Alu(AluOp::Add) => {
                self.scalar32_min_max_add(src);
                self.scalar_min_max_add(src);
                self.var_off = self.var_off.add(src.var_off);
            }
            ScalarOp::Alu(AluOp::Sub) => {
                self.scalar32_min_max_sub(src);
                self.scalar_min_max_sub(src);
                self.var_off = self.var_off.sub(src.var_off);
            }
            ScalarOp::Neg => {
                let old = *self;
                self.mark_known(0);
                self.scalar32_min_max_sub(&old);
                self.scalar_min_max_sub(&old);
                self.var_off = old.var_off.neg();
            }
            ScalarOp::Alu(AluOp::Mul) => {
                self.var_off = self.var_off.mul(src.var_off);
                self.scalar32_min_max_mul(src);
                self.scalar_min_max_mul(src);
            }
            ScalarOp::Alu(AluOp::And) => {
                if src.var_off.is_const() {
                    if let Some(f) = self.maybe_fork_scalars() {
                        fork = Some(f);
                    }
                }
                self.var_off = self.var_off.and(src.var_off);
                self.scalar32_min_max_and(src);
                self.scalar_min_max_and(src);
            }
            ScalarOp::Alu(AluOp::Or) => {
                if src.var_off.is_const() {
                    if let Some(f) = self.maybe_fork_scalars() {
                        fork = Some(f);
                    }
                }
                self.var_off = self.var_off.or(src.var_off);
                self.scalar32_min_max_or(src);
                self.scalar_min_max_or(src);
            }
            ScalarOp::Alu(AluOp::Xor) => {
                self.var_off = self.var_off.xor(src.var_off);
                self.scalar32_min_max_xor(src);
                self.scalar_min_max_xor(src);
            }
            ScalarOp::Alu(AluOp::Lsh) => {
                if alu32 {
                    self.scalar32_min_max_lsh(src);
                } else {
                    self.scalar_min_max_lsh(src);
                }
            }
            ScalarOp::Alu(AluOp::Rsh) => {
                if alu32 {
                    self.scalar32_min_max_rsh(src);
                } else {
                    self.scalar_min_max_rsh(src);
                }
            }
            ScalarOp::Alu(AluOp::Arsh) => {
                if alu32 {
                    self.scalar32_min_max_arsh(src);
                } else {
                    self.scalar_min_max_arsh(src);
                }
            }
            ScalarOp::End(kind, bits) => self.scalar_byte_swap(kind, bits),
            _ => {}
        }
        if alu32 && !matches!(op, ScalarOp::End(..)) {
            self.zext_32_to_64();
        }
        self.reg_bounds_sync();
        fork
    }

    /// Mirrors `maybe_fork_scalars()`: for a value in `[-1, 0]` (64-bit, else 32-bit), returns
    /// the 0 case (the state the kernel pushes) and makes `self` the -1 case.
    fn maybe_fork_scalars(&mut self) -> Option<Scalar> {
        let alu32 = if self.smin_value == -1 && self.smax_value == 0 {
            false
        } else if self.s32_min_value == -1 && self.s32_max_value == 0 {
            true
        } else {
            return None;
        };
        let mut other = *self;
        if alu32 {
            other.mark_reg32_known(0);
            self.mark_reg32_known(u64::MAX);
        } else {
            other.mark_known(0);
            self.mark_known(u64::MAX);
        }
        Some(other)
    }

    /// Mirrors `scalar32_min_max_add()`.
    fn scalar32_min_max_add(&mut self, src: &Scalar) {
        match (
            self.s32_min_value.checked_add(src.s32_min_value),
            self.s32_max_value.checked_add(src.s32_max_value),
        ) {
            (Some(lo), Some(hi)) => {
                self.s32_min_value = lo;
                self.s32_max_value = hi;
            }
            _ => {
                self.s32_min_value = i32::MIN;
                self.s32_max_value = i32::MAX;
            }
        }
        let (lo, min_overflow) = self.u32_min_value.overflowing_add(src.u32_min_value);
        let (hi, max_overflow) = self.u32_max_value.overflowing_add(src.u32_max_value);
        if !min_overflow && max_overflow {
            self.u32_min_value = 0;
            self.u32_max_value = u32::MAX;
        } else {
            self.u32_min_value = lo;
            self.u32_max_value = hi;
        }
    }

    /// Mirrors `scalar_min_max_add()`.
    fn scalar_min_max_add(&mut self, src: &Scalar) {
        match (self.smin_value.checked_add(src.smin_value), self.smax_value.checked_add(src.smax_value)) {
            (Some(lo), Some(hi)) => {
                self.smin_value = lo;
                self.smax_value = hi;
            }
            _ => {
                self.smin_value = i64::MIN;
                self.smax_value = i64::MAX;
            }
        }
        let (lo, min_overflow) = self.umin_value.overflowing_add(src.umin_value);
        let (hi, max_overflow) = self.umax_value.overflowing_add(src.umax_value);
        if !min_overflow && max_overflow {
            self.umin_value = 0;
            self.umax_value = u64::MAX;
        } else {
            self.umin_value = lo;
            self.umax_value = hi;
        }
    }

    /// Mirrors `scalar32_min_max_sub()`.
    fn scalar32_min_max_sub(&mut self, src: &Scalar) {
        match (
            self.s32_min_value.checked_sub(src.s32_max_value),
            self.s32_max_value.checked_sub(src.s32_min_value),
        ) {
            (Some(lo), Some(hi)) => {
                self.s32_min_value = lo;
                self.s32_max_value = hi;
            }
            _ => {
                self.s32_min_value = i32::MIN;
                self.s32_max_value = i32::MAX;
            }
        }
        let (lo, min_underflow) = self.u32_min_value.overflowing_sub(src.u32_max_value);
        let (hi, max_underflow) = self.u32_max_value.overflowing_sub(src.u32_min_value);
        if min_underflow && !max_underflow {
            self.u32_min_value = 0;
            self.u32_max_value = u32::MAX;
        } else {
            self.u32_min_value = lo;
            self.u32_max_value = hi;
        }
    }

    /// Mirrors `scalar_min_max_sub()`.
    fn scalar_min_max_sub(&mut self, src: &Scalar) {
        match (self.smin_value.checked_sub(src.smax_value), self.smax_value.checked_sub(src.smin_value)) {
            (Some(lo), Some(hi)) => {
                self.smin_value = lo;
                self.smax_value = hi;
            }
            _ => {
                self.smin_value = i64::MIN;
                self.smax_value = i64::MAX;
            }
        }
        let (lo, min_underflow) = self.umin_value.overflowing_sub(src.umax_value);
        let (hi, max_underflow) = self.umax_value.overflowing_sub(src.umin_value);
        if min_underflow && !max_underflow {
            self.umin_value = 0;
            self.umax_value = u64::MAX;
        } else {
            self.umin_value = lo;
            self.umax_value = hi;
        }
    }

    /// Mirrors `scalar32_min_max_mul()`.
    fn scalar32_min_max_mul(&mut self, src: &Scalar) {
        match (
            self.u32_max_value.checked_mul(src.u32_max_value),
            self.u32_min_value.checked_mul(src.u32_min_value),
        ) {
            (Some(hi), Some(lo)) => {
                self.u32_max_value = hi;
                self.u32_min_value = lo;
            }
            _ => {
                self.u32_min_value = 0;
                self.u32_max_value = u32::MAX;
            }
        }
        let prods = [
            self.s32_min_value.checked_mul(src.s32_min_value),
            self.s32_min_value.checked_mul(src.s32_max_value),
            self.s32_max_value.checked_mul(src.s32_min_value),
            self.s32_max_value.checked_mul(src.s32_max_value),
        ];
        if prods.iter().any(Option::is_none) {
            self.s32_min_value = i32::MIN;
            self.s32_max_value = i32::MAX;
        } else {
            let p = prods.map(Option::unwrap_or_default);
            self.s32_min_value = p.into_iter().min().unwrap_or_default();
            self.s32_max_value = p.into_iter().max().unwrap_or_default();
        }
    }

    /// Mirrors `scalar_min_max_mul()`.
    fn scalar_min_max_mul(&mut self, src: &Scalar) {
        match (self.umax_value.checked_mul(src.umax_value), self.umin_value.checked_mul(src.umin_value)) {
            (Some(hi), Some(lo)) => {
                self.umax_value = hi;
                self.umin_value = lo;
            }
            _ => {
                self.umin_value = 0;
                self.umax_value = u64::MAX;
            }
        }
        let prods = [
            self.smin_value.checked_mul(src.smin_value),
            self.smin_value.checked_mul(src.smax_value),
            self.smax_value.checked_mul(src.smin_value),
            self.smax_value.checked_mul(src.smax_value),
        ];
        if prods.iter().any(Option::is_none) {
            self.smin_value = i64::MIN;
            self.smax_value = i64::MAX;
        } else {
            let p = prods.map(Option::unwrap_or_default);
            self.smin_value = p.into_iter().min().unwrap_or_default();
            self.smax_value = p.into_iter().max().unwrap_or_default();
        }
    }

    /// The s32 bounds from the u32 ones when they do not cross the sign bit, else unbounded (the
    /// tail of `scalar32_min_max_{and,or,xor}()`).
    fn s32_from_u32(&mut self) {
        if (self.u32_min_value as i32) <= (self.u32_max_value as i32) {
            self.s32_min_value = self.u32_min_value as i32;
            self.s32_max_value = self.u32_max_value as i32;
        } else {
            self.s32_min_value = i32::MIN;
            self.s32_max_value = i32::MAX;
        }
    }

    /// The s64 bounds from the u64 ones when they do not cross the sign bit, else unbounded (the
    /// tail of `scalar_min_max_{and,or,xor}()`).
    fn s64_from_u64(&mut self) {
        if (self.umin_value as i64) <= (self.umax_value as i64) {
            self.smin_value = self.umin_value as i64;
            self.smax_value = self.umax_value as i64;
        } else {
            self.smin_value = i64::MIN;
            self.smax_value = i64::MAX;
        }
    }

    /// Mirrors `scalar32_min_max_and()` (`var_off` already holds the result).
    fn scalar32_min_max_and(&mut self, src: &Scalar) {
        let var32 = self.var_off.subreg();
        if src.var_off.subreg_is_const() && self.var_off.subreg_is_const() {
            self.mark_reg32_known(var32.value);
            return;
        }
        self.u32_min_value = var32.value as u32;
        self.u32_max_value = self.u32_max_value.min(src.u32_max_value);
        self.s32_from_u32();
    }

    /// Mirrors `scalar_min_max_and()`.
    fn scalar_min_max_and(&mut self, src: &Scalar) {
        if src.var_off.is_const() && self.var_off.is_const() {
            self.mark_known(self.var_off.value);
            return;
        }
        self.umin_value = self.var_off.value;
        self.umax_value = self.umax_value.min(src.umax_value);
        self.s64_from_u64();
        self.update_reg_bounds();
    }

    /// Mirrors `scalar32_min_max_or()`.
    fn scalar32_min_max_or(&mut self, src: &Scalar) {
        let var32 = self.var_off.subreg();
        if src.var_off.subreg_is_const() && self.var_off.subreg_is_const() {
            self.mark_reg32_known(var32.value);
            return;
        }
        self.u32_min_value = self.u32_min_value.max(src.u32_min_value);
        self.u32_max_value = (var32.value | var32.mask) as u32;
        self.s32_from_u32();
    }

    /// Mirrors `scalar_min_max_or()`.
    fn scalar_min_max_or(&mut self, src: &Scalar) {
        if src.var_off.is_const() && self.var_off.is_const() {
            self.mark_known(self.var_off.value);
            return;
        }
        self.umin_value = self.umin_value.max(src.umin_value);
        self.umax_value = self.var_off.value | self.var_off.mask;
        self.s64_from_u64();
        self.update_reg_bounds();
    }

    /// Mirrors `scalar32_min_max_xor()`.
    fn scalar32_min_max_xor(&mut self, src: &Scalar) {
        let var32 = self.var_off.subreg();
        if src.var_off.subreg_is_const() && self.var_off.subreg_is_const() {
            self.mark_reg32_known(var32.value);
            return;
        }
        self.u32_min_value = var32.value as u32;
        self.u32_max_value = (var32.value | var32.mask) as u32;
        self.s32_from_u32();
    }

    /// Mirrors `scalar_min_max_xor()`.
    fn scalar_min_max_xor(&mut self, src: &Scalar) {
        if src.var_off.is_const() && self.var_off.is_const() {
            self.mark_known(self.var_off.value);
            return;
        }
        self.umin_value = self.var_off.value;
        self.umax_value = self.var_off.value | self.var_off.mask;
        self.s64_from_u64();
        self.update_reg_bounds();
    }

    /// Mirrors `__scalar32_min_max_lsh()`.
    fn scalar32_min_max_lsh_bounds(&mut self, umin_val: u64, umax_val: u64) {
        self.s32_min_value = i32::MIN;
        self.s32_max_value = i32::MAX;
        if umax_val > 31 || self.u32_max_value as u64 > 1u64 << (31 - umax_val) {
            self.u32_min_value = 0;
            self.u32_max_value = u32::MAX;
        } else {
            self.u32_min_value <<= umin_val;
            self.u32_max_value <<= umax_val;
        }
    }

    /// Mirrors `scalar32_min_max_lsh()`.
    fn scalar32_min_max_lsh(&mut self, src: &Scalar) {
        let umax_val = src.u32_max_value as u64;
        let umin_val = src.u32_min_value as u64;
        let subreg = self.var_off.subreg();
        self.scalar32_min_max_lsh_bounds(umin_val, umax_val);
        self.var_off = subreg.lshift(umin_val as u8).subreg();
        self.mark_reg64_unbounded();
        self.update_reg32_bounds();
    }

    /// Mirrors `__scalar64_min_max_lsh()`.
    fn scalar64_min_max_lsh_bounds(&mut self, umin_val: u64, umax_val: u64) {
        if umin_val == 32 && umax_val == 32 {
            self.smax_value = (self.s32_max_value as i64) << 32;
            self.smin_value = (self.s32_min_value as i64) << 32;
        } else {
            self.smax_value = i64::MAX;
            self.smin_value = i64::MIN;
        }
        if self.umax_value > 1u64 << (63 - umax_val) {
            self.umin_value = 0;
            self.umax_value = u64::MAX;
        } else {
            self.umin_value <<= umin_val;
            self.umax_value <<= umax_val;
        }
    }

    /// Mirrors `scalar_min_max_lsh()`.
    fn scalar_min_max_lsh(&mut self, src: &Scalar) {
        let umax_val = src.umax_value;
        let umin_val = src.umin_value;
        self.scalar64_min_max_lsh_bounds(umin_val, umax_val);
        self.scalar32_min_max_lsh_bounds(umin_val, umax_val);
        self.var_off = self.var_off.lshift(umin_val as u8);
        self.update_reg_bounds();
    }

    /// Mirrors `scalar32_min_max_rsh()`.
    fn scalar32_min_max_rsh(&mut self, src: &Scalar) {
        let subreg = self.var_off.subreg();
        let umax_val = src.u32_max_value;
        let umin_val = src.u32_min_value;
        self.s32_min_value = i32::MIN;
        self.s32_max_value = i32::MAX;
        self.var_off = subreg.rshift(umin_val as u8);
        self.u32_min_value >>= umax_val;
        self.u32_max_value >>= umin_val;
        self.mark_reg64_unbounded();
        self.update_reg32_bounds();
    }

    /// Mirrors `scalar_min_max_rsh()`.
    fn scalar_min_max_rsh(&mut self, src: &Scalar) {
        let umax_val = src.umax_value;
        let umin_val = src.umin_value;
        self.smin_value = i64::MIN;
        self.smax_value = i64::MAX;
        self.var_off = self.var_off.rshift(umin_val as u8);
        self.umin_value >>= umax_val;
        self.umax_value >>= umin_val;
        self.mark_reg32_unbounded();
        self.update_reg_bounds();
    }

    /// Mirrors `scalar32_min_max_arsh()`.
    fn scalar32_min_max_arsh(&mut self, src: &Scalar) {
        let umin_val = src.u32_min_value;
        self.s32_min_value >>= umin_val;
        self.s32_max_value >>= umin_val;
        self.var_off = self.var_off.subreg().arshift(umin_val as u8, 32);
        self.u32_min_value = 0;
        self.u32_max_value = u32::MAX;
        self.mark_reg64_unbounded();
        self.update_reg32_bounds();
    }

    /// Mirrors `scalar_min_max_arsh()`.
    fn scalar_min_max_arsh(&mut self, src: &Scalar) {
        let umin_val = src.umin_value;
        self.smin_value >>= umin_val;
        self.smax_value >>= umin_val;
        self.var_off = self.var_off.arshift(umin_val as u8, 64);
        self.umin_value = 0;
        self.umax_value = u64::MAX;
        self.mark_reg32_unbounded();
        self.update_reg_bounds();
    }

    /// Mirrors `scalar_byte_swap()` (on a little-endian machine): `bswap`, `be16/32/64` swap the
    /// bytes of `var_off` and reset the bounds; a 16- or 32-bit form then truncates
    /// (`le16`/`le32` only truncate, `le64` does nothing).
    fn scalar_byte_swap(&mut self, kind: EndKind, bits: u8) {
        let need_bswap = kind != EndKind::ToLe;
        if need_bswap {
            self.var_off = match bits {
                16 => self.var_off.bswap16(),
                32 => self.var_off.bswap32(),
                _ => self.var_off.bswap64(),
            };
            self.mark_unbounded();
        }
        if bits == 16 || bits == 32 {
            self.coerce_reg_to_size(bits / 8);
        }
    }
}

/// The sign-extended value of the low `size` bytes of `v`.
fn sext(v: u64, size: u8) -> i64 {
    match size {
        1 => v as i8 as i64,
        2 => v as i16 as i64,
        4 => v as i32 as i64,
        _ => v as i64,
    }
}

/// `S8_MIN..S8_MAX`, `S16_MIN..S16_MAX` or `S32_MIN..S32_MAX`.
fn sext_limits(size: u8) -> (i64, i64) {
    match size {
        1 => (i8::MIN as i64, i8::MAX as i64),
        2 => (i16::MIN as i64, i16::MAX as i64),
        _ => (i32::MIN as i64, i32::MAX as i64),
    }
}

/// The operations `adjust_scalar_min_max_vals()` dispatches on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ScalarOp {
    Alu(AluOp),
    Neg,
    End(EndKind, u8),
}

/// Mirrors `is_safe_to_compute_dst_reg_range()`: whether the kernel tracks the result at all
/// (division and modulo it does not; shifts only by a constant below the width).
fn is_safe_to_compute_dst_reg_range(op: ScalarOp, alu32: bool, src: &Scalar) -> bool {
    let src_is_const = if alu32 {
        src.var_off.subreg_is_const()
            && src.s32_min_value == src.s32_max_value
            && src.u32_min_value == src.u32_max_value
    } else {
        src.var_off.is_const() && src.smin_value == src.smax_value && src.umin_value == src.umax_value
    };
    let bitness = if alu32 { 32 } else { 64 };
    match op {
        ScalarOp::Neg | ScalarOp::End(..) => true,
        ScalarOp::Alu(AluOp::Add | AluOp::Sub | AluOp::And | AluOp::Xor | AluOp::Or | AluOp::Mul) => true,
        ScalarOp::Alu(AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) => src_is_const && src.umax_value < bitness,
        ScalarOp::Alu(_) => false,
    }
}

/// A conditional jump's condition as `regs_refine_cond_op()` takes it: the eleven `BPF_JMP`
/// conditions and the negation of `BPF_JSET` (the kernel's `BPF_JSET | BPF_X`, see
/// [`CondOp::rev`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CondOp {
    /// One of the instruction set's conditions.
    Jmp(JmpOp),
    /// `!(a & b)`: the false branch of `BPF_JSET`.
    NotSet,
}

impl CondOp {
    /// Mirrors `rev_opcode()`: the condition of the false branch.
    pub const fn rev(self) -> CondOp {
        CondOp::Jmp(match self {
            CondOp::NotSet => JmpOp::Jset,
            CondOp::Jmp(op) => match op {
                JmpOp::Jeq => JmpOp::Jne,
                JmpOp::Jne => JmpOp::Jeq,
                JmpOp::Jset => return CondOp::NotSet,
                JmpOp::Jge => JmpOp::Jlt,
                JmpOp::Jgt => JmpOp::Jle,
                JmpOp::Jle => JmpOp::Jgt,
                JmpOp::Jlt => JmpOp::Jge,
                JmpOp::Jsge => JmpOp::Jslt,
                JmpOp::Jsgt => JmpOp::Jsle,
                JmpOp::Jsle => JmpOp::Jsgt,
                JmpOp::Jslt => JmpOp::Jsge,
            },
        })
    }
}

/// Mirrors `flip_opcode()`: the condition with its operands swapped (`a < b` is `b > a`).
pub const fn flip_opcode(op: JmpOp) -> JmpOp {
    match op {
        JmpOp::Jeq | JmpOp::Jne | JmpOp::Jset => op,
        JmpOp::Jge => JmpOp::Jle,
        JmpOp::Jgt => JmpOp::Jlt,
        JmpOp::Jle => JmpOp::Jge,
        JmpOp::Jlt => JmpOp::Jgt,
        JmpOp::Jsge => JmpOp::Jsle,
        JmpOp::Jsgt => JmpOp::Jslt,
        JmpOp::Jsle => JmpOp::Jsge,
        JmpOp::Jslt => JmpOp::Jsgt,
    }
}

/// Mirrors `is_scalar_branch_taken()`: `Some(true)` if `reg1 op reg2` always holds, `Some(false)`
/// if it never does, `None` if it depends (the kernel's 1, 0, -1). Both operands may be the same
/// register: the Linux 6.18 kernel treats `if r1 > r1` like any two registers with equal bounds.
pub fn is_scalar_branch_taken(reg1: &Scalar, reg2: &Scalar, op: JmpOp, is_jmp32: bool) -> Option<bool> {
    let view = |r: &Scalar| {
        if is_jmp32 {
            (
                r.var_off.subreg(),
                r.u32_min_value as u64,
                r.u32_max_value as u64,
                r.s32_min_value as i64,
                r.s32_max_value as i64,
            )
        } else {
            (r.var_off, r.umin_value, r.umax_value, r.smin_value, r.smax_value)
        }
    };
    let (mut t1, umin1, umax1, smin1, smax1) = view(reg1);
    let (mut t2, umin2, umax2, smin2, smax2) = view(reg2);

    match op {
        JmpOp::Jeq | JmpOp::Jne => {
            let eq = op == JmpOp::Jeq;
            if t1.is_const() && t2.is_const() {
                return Some((t1.value == t2.value) == eq);
            }
            if !t1.overlap(t2) {
                return Some(!eq);
            }
            if umin1 > umax2 || umax1 < umin2 || smin1 > smax2 || smax1 < smin2 {
                return Some(!eq);
            }
            if !is_jmp32
                && (reg1.u32_min_value > reg2.u32_max_value
                    || reg1.u32_max_value < reg2.u32_min_value
                    || reg1.s32_min_value > reg2.s32_max_value
                    || reg1.s32_max_value < reg2.s32_min_value)
            {
                return Some(!eq);
            }
        }
        JmpOp::Jset => {
            if !reg2.is_reg_const(is_jmp32) {
                std::mem::swap(&mut t1, &mut t2);
                if !reg1.is_reg_const(is_jmp32) {
                    return None;
                }
            }
            if (!t1.mask & t1.value) & t2.value != 0 {
                return Some(true);
            }
            if (t1.mask | t1.value) & t2.value == 0 {
                return Some(false);
            }
        }
        JmpOp::Jgt => {
            if umin1 > umax2 {
                return Some(true);
            } else if umax1 <= umin2 {
                return Some(false);
            }
        }
        JmpOp::Jsgt => {
            if smin1 > smax2 {
                return Some(true);
            } else if smax1 <= smin2 {
                return Some(false);
            }
        }
        JmpOp::Jlt => {
            if umax1 < umin2 {
                return Some(true);
            } else if umin1 >= umax2 {
                return Some(false);
            }
        }
        JmpOp::Jslt => {
            if smax1 < smin2 {
                return Some(true);
            } else if smin1 >= smax2 {
                return Some(false);
            }
        }
        JmpOp::Jge => {
            if umin1 >= umax2 {
                return Some(true);
            } else if umax1 < umin2 {
                return Some(false);
            }
        }
        JmpOp::Jsge => {
            if smin1 >= smax2 {
                return Some(true);
            } else if smax1 < smin2 {
                return Some(false);
            }
        }
        JmpOp::Jle => {
            if umax1 <= umin2 {
                return Some(true);
            } else if umin1 > umax2 {
                return Some(false);
            }
        }
        JmpOp::Jsle => {
            if smax1 <= smin2 {
                return Some(true);
            } else if smin1 > smax2 {
                return Some(false);
            }
        }
    }
    None
}

/// Mirrors `regs_refine_cond_op()`: narrows `reg1` and `reg2` assuming `reg1 op reg2` holds
/// (bounds only; the caller runs [`Scalar::reg_bounds_sync`]).
pub fn regs_refine_cond_op(reg1: &mut Scalar, reg2: &mut Scalar, op: CondOp, is_jmp32: bool) {
    let mut r = [*reg1, *reg2];
    refine_cond_op(&mut r, 0, 1, op, is_jmp32);
    [*reg1, *reg2] = r;
}

/// [`regs_refine_cond_op`] with both operands the same register (`if r1 > r1`): the kernel
/// passes the same `bpf_reg_state` twice and each write is seen by the later reads.
pub fn regs_refine_cond_op_same(reg: &mut Scalar, op: CondOp, is_jmp32: bool) {
    let mut r = [*reg];
    refine_cond_op(&mut r, 0, 0, op, is_jmp32);
    *reg = r[0];
}

/// `regs_refine_cond_op()` on `r[a]` and `r[b]` (possibly the same register, as pointers are in
/// the kernel).
fn refine_cond_op(r: &mut [Scalar], a: usize, b: usize, op: CondOp, is_jmp32: bool) {
    // GE/GT/SGE/SGT reuse LE/LT/SLE/SLT with the operands swapped.
    let (a, b, op) = match op {
        CondOp::Jmp(j @ (JmpOp::Jge | JmpOp::Jgt | JmpOp::Jsge | JmpOp::Jsgt)) => {
            (b, a, CondOp::Jmp(flip_opcode(j)))
        }
        _ => (a, b, op),
    };
    match op {
        CondOp::Jmp(JmpOp::Jeq) => {
            if is_jmp32 {
                r[a].u32_min_value = r[a].u32_min_value.max(r[b].u32_min_value);
                r[a].u32_max_value = r[a].u32_max_value.min(r[b].u32_max_value);
                r[a].s32_min_value = r[a].s32_min_value.max(r[b].s32_min_value);
                r[a].s32_max_value = r[a].s32_max_value.min(r[b].s32_max_value);
                r[b].u32_min_value = r[a].u32_min_value;
                r[b].u32_max_value = r[a].u32_max_value;
                r[b].s32_min_value = r[a].s32_min_value;
                r[b].s32_max_value = r[a].s32_max_value;
                let t = r[a].var_off.subreg().intersect(r[b].var_off.subreg());
                r[a].var_off = r[a].var_off.with_subreg(t);
                r[b].var_off = r[b].var_off.with_subreg(t);
            } else {
                r[a].umin_value = r[a].umin_value.max(r[b].umin_value);
                r[a].umax_value = r[a].umax_value.min(r[b].umax_value);
                r[a].smin_value = r[a].smin_value.max(r[b].smin_value);
                r[a].smax_value = r[a].smax_value.min(r[b].smax_value);
                r[b].umin_value = r[a].umin_value;
                r[b].umax_value = r[a].umax_value;
                r[b].smin_value = r[a].smin_value;
                r[b].smax_value = r[a].smax_value;
                r[a].var_off = r[a].var_off.intersect(r[b].var_off);
                r[b].var_off = r[a].var_off;
            }
        }
        CondOp::Jmp(JmpOp::Jne) => {
            let (a, b) = if r[b].is_reg_const(is_jmp32) { (a, b) } else { (b, a) };
            if !r[b].is_reg_const(is_jmp32) {
                return;
            }
            let val = r[b].reg_const_value(is_jmp32);
            let x = &mut r[a];
            if is_jmp32 {
                if x.u32_min_value == val as u32 {
                    x.u32_min_value = x.u32_min_value.wrapping_add(1);
                }
                if x.u32_max_value == val as u32 {
                    x.u32_max_value = x.u32_max_value.wrapping_sub(1);
                }
                if x.s32_min_value == val as i32 {
                    x.s32_min_value = x.s32_min_value.wrapping_add(1);
                }
                if x.s32_max_value == val as i32 {
                    x.s32_max_value = x.s32_max_value.wrapping_sub(1);
                }
            } else {
                if x.umin_value == val {
                    x.umin_value = x.umin_value.wrapping_add(1);
                }
                if x.umax_value == val {
                    x.umax_value = x.umax_value.wrapping_sub(1);
                }
                if x.smin_value == val as i64 {
                    x.smin_value = x.smin_value.wrapping_add(1);
                }
                if x.smax_value == val as i64 {
                    x.smax_value = x.smax_value.wrapping_sub(1);
                }
            }
        }
        CondOp::Jmp(JmpOp::Jset) => {
            let (a, b) = if r[b].is_reg_const(is_jmp32) { (a, b) } else { (b, a) };
            if !r[b].is_reg_const(is_jmp32) {
                return;
            }
            let val = r[b].reg_const_value(is_jmp32);
            // Only a single bit teaches something definite.
            if !val.is_power_of_two() {
                return;
            }
            let x = &mut r[a];
            if is_jmp32 {
                let t = x.var_off.subreg().or(Tnum::constant(val));
                x.var_off = x.var_off.with_subreg(t);
            } else {
                x.var_off = x.var_off.or(Tnum::constant(val));
            }
        }
        CondOp::NotSet => {
            let (a, b) = if r[b].is_reg_const(is_jmp32) { (a, b) } else { (b, a) };
            if !r[b].is_reg_const(is_jmp32) {
                return;
            }
            let val = r[b].reg_const_value(is_jmp32);
            let x = &mut r[a];
            // Forget the ranges before narrowing the tnum (a dead branch would break them).
            x.mark_unbounded();
            if is_jmp32 {
                let t = x.var_off.subreg().and(Tnum::constant(!val));
                x.var_off = x.var_off.with_subreg(t);
            } else {
                x.var_off = x.var_off.and(Tnum::constant(!val));
            }
        }
        CondOp::Jmp(JmpOp::Jle) => {
            if is_jmp32 {
                r[a].u32_max_value = r[a].u32_max_value.min(r[b].u32_max_value);
                r[b].u32_min_value = r[a].u32_min_value.max(r[b].u32_min_value);
            } else {
                r[a].umax_value = r[a].umax_value.min(r[b].umax_value);
                r[b].umin_value = r[a].umin_value.max(r[b].umin_value);
            }
        }
        CondOp::Jmp(JmpOp::Jlt) => {
            if is_jmp32 {
                r[a].u32_max_value = r[a].u32_max_value.min(r[b].u32_max_value.wrapping_sub(1));
                r[b].u32_min_value = r[a].u32_min_value.wrapping_add(1).max(r[b].u32_min_value);
            } else {
                r[a].umax_value = r[a].umax_value.min(r[b].umax_value.wrapping_sub(1));
                r[b].umin_value = r[a].umin_value.wrapping_add(1).max(r[b].umin_value);
            }
        }
        CondOp::Jmp(JmpOp::Jsle) => {
            if is_jmp32 {
                r[a].s32_max_value = r[a].s32_max_value.min(r[b].s32_max_value);
                r[b].s32_min_value = r[a].s32_min_value.max(r[b].s32_min_value);
            } else {
                r[a].smax_value = r[a].smax_value.min(r[b].smax_value);
                r[b].smin_value = r[a].smin_value.max(r[b].smin_value);
            }
        }
        CondOp::Jmp(JmpOp::Jslt) => {
            if is_jmp32 {
                r[a].s32_max_value = r[a].s32_max_value.min(r[b].s32_max_value.wrapping_sub(1));
                r[b].s32_min_value = r[a].s32_min_value.wrapping_add(1).max(r[b].s32_min_value);
            } else {
                r[a].smax_value = r[a].smax_value.min(r[b].smax_value.wrapping_sub(1));
                r[b].smin_value = r[a].smin_value.wrapping_add(1).max(r[b].smin_value);
            }
        }
        CondOp::Jmp(JmpOp::Jge | JmpOp::Jgt | JmpOp::Jsge | JmpOp::Jsgt) => {}
    }
}

/// Both outcomes of a conditional jump on two scalars, as [`reg_set_min_max`] computes them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BranchStates {
    /// The first operand (dst) where the jump is taken.
    pub true_reg1: Scalar,
    /// The second operand (src or the immediate) where the jump is taken; with both operands
    /// one register, equal to `true_reg1`.
    pub true_reg2: Scalar,
    /// The first operand on the fall-through path.
    pub false_reg1: Scalar,
    /// The second operand on the fall-through path.
    pub false_reg2: Scalar,
    /// Invariant violations found, in the kernel's order of checking (`true_reg1`, `true_reg2`,
    /// `false_reg1`, `false_reg2`); each violating register has had its bounds reset.
    pub violations: Vec<InvariantViolation>,
}

/// Mirrors `reg_set_min_max()`: what `if reg1 op reg2 goto` teaches on each path, for two
/// scalar operands (`reg2` the immediate as `Scalar::known(imm as i64 as u64)` for `BPF_K`).
/// `same_reg`: both operands are one register (`if r1 > r1`), which the kernel refines through
/// one pointer passed twice.
pub fn reg_set_min_max(
    reg1: &Scalar,
    reg2: &Scalar,
    op: JmpOp,
    is_jmp32: bool,
    same_reg: bool,
) -> BranchStates {
    let mut violations = Vec::new();
    let outcome = |cond: CondOp, name1: &str, name2: &str| {
        let (mut r, b) = if same_reg { ([*reg1, *reg1], 0) } else { ([*reg1, *reg2], 1) };
        refine_cond_op(&mut r, 0, b, cond, is_jmp32);
        r[0].reg_bounds_sync();
        r[b].reg_bounds_sync();
        (r, b, name1.to_string(), name2.to_string())
    };
    let f = outcome(CondOp::Jmp(op).rev(), "false_reg1", "false_reg2");
    let t = outcome(CondOp::Jmp(op), "true_reg1", "true_reg2");
    // Each check resets a bad register's bounds and returns 0, so all four run.
    let mut finish = |(mut r, b, n1, n2): ([Scalar; 2], usize, String, String)| {
        for (i, n) in [(0, n1), (b, n2)] {
            if let Err(v) = r[i].reg_bounds_sanity_check(&n) {
                violations.push(v);
            }
        }
        (r[0], r[b])
    };
    let (true_reg1, true_reg2) = finish(t);
    let (false_reg1, false_reg2) = finish(f);
    BranchStates { true_reg1, true_reg2, false_reg1, false_reg2, violations }
}

/// Mirrors the arithmetic of `sync_linked_regs()` for a register linked to `known` with a
/// different constant delta: `reg = known; reg += delta` where `delta` is the register's
/// `reg->off` minus `known_reg->off`, zero-extended (`zext`) when either register was linked by
/// a 32-bit add (`w1 += 28`, its id flagged `BPF_ADD_CONST32`). Registers with the same delta
/// simply take `known`; the kernel leaves a register linked by a 64-bit add alone when `known`
/// was linked by a 32-bit one.
pub fn sync_linked_scalar(known: &Scalar, delta: i64, zext: bool) -> Scalar {
    let fake = Scalar::known(delta as u64);
    let mut reg = *known;
    reg.scalar32_min_max_add(&fake);
    reg.scalar_min_max_add(&fake);
    reg.var_off = reg.var_off.add(fake.var_off);
    if zext {
        reg.zext_32_to_64();
    }
    reg.reg_bounds_sync();
    reg
}

// ---------------------------------------------------------------------------------------------
// The verifier log's text.

/// `UNUM_MAX_DECIMAL`: unsigned values up to this print in decimal.
const UNUM_MAX_DECIMAL: u64 = u16::MAX as u64;

/// Mirrors `is_snum_decimal()`: signed values in `S16_MIN..=S16_MAX` print in decimal.
const fn is_snum_decimal(num: i64) -> bool {
    num >= i16::MIN as i64 && num <= i16::MAX as i64
}

/// Mirrors `verbose_unum()`.
fn verbose_unum(out: &mut String, num: u64) {
    if num <= UNUM_MAX_DECIMAL {
        let _ = write!(out, "{num}");
    } else {
        let _ = write!(out, "{num:#x}");
    }
}

/// Mirrors `verbose_snum()`.
fn verbose_snum(out: &mut String, num: i64) {
    if is_snum_decimal(num) {
        let _ = write!(out, "{num}");
    } else {
        let _ = write!(out, "{:#x}", num as u64);
    }
}

/// Mirrors `print_scalar_ranges()`: the bounds that differ from "unbounded", in the order smin,
/// smax, umin, umax, smin32, smax32, umin32, umax32, equal values of the same kind (min or max)
/// printed once under all their names (`smin=umin=0`), negatives never merged with positives,
/// and 32-bit signed values outside `S16_MIN..=S16_MAX` printed as unsigned 32-bit hex.
pub fn print_scalar_ranges(out: &mut String, s: &Scalar, sep: &mut &'static str) {
    let s32 = |v: i32| if is_snum_decimal(v as i64) { v as i64 as u64 } else { v as u32 as u64 };
    let mut minmaxs: [(&str, u64, bool); 8] = [
        ("smin", s.smin_value as u64, s.smin_value == i64::MIN),
        ("smax", s.smax_value as u64, s.smax_value == i64::MAX),
        ("umin", s.umin_value, s.umin_value == 0),
        ("umax", s.umax_value, s.umax_value == u64::MAX),
        ("smin32", s32(s.s32_min_value), s.s32_min_value == i32::MIN),
        ("smax32", s32(s.s32_max_value), s.s32_max_value == i32::MAX),
        ("umin32", s.u32_min_value as u64, s.u32_min_value == 0),
        ("umax32", s.u32_max_value as u64, s.u32_max_value == u32::MAX),
    ];
    for i in 0..minmaxs.len() {
        let (name, val, omit) = minmaxs[i];
        if omit {
            continue;
        }
        let neg1 = name.starts_with('s') && (val as i64) < 0;
        let _ = write!(out, "{sep}{name}=");
        *sep = ",";
        let mut j = i + 2;
        while j < minmaxs.len() {
            let (name2, val2, omit2) = minmaxs[j];
            if !omit2 && val2 == val {
                let neg2 = name2.starts_with('s') && (val2 as i64) < 0;
                if neg2 == neg1 {
                    minmaxs[j].2 = true;
                    let _ = write!(out, "{name2}=");
                }
            }
            j += 2;
        }
        if name.starts_with('s') {
            verbose_snum(out, val as i64);
        } else {
            verbose_unum(out, val);
        }
    }
}

/// Mirrors `print_reg_state()` for a `SCALAR_VALUE` register: `P` when precise, then the
/// constant (`5`, `-3`, `0xffffffff`) or `scalar(` id, linked delta (`id=2+7`), bounds and
/// `var_off` `)`. `add_const` is the delta of a register linked by `rX += imm` (the kernel's
/// `BPF_ADD_CONST` id flag with `reg->off`).
pub fn print_scalar_reg(out: &mut String, s: &Scalar, id: u32, add_const: Option<i32>, precise: bool) {
    if precise {
        out.push('P');
    }
    if s.var_off.is_const() {
        verbose_snum(out, s.var_off.value as i64);
        return;
    }
    out.push_str("scalar(");
    let mut sep: &'static str = "";
    if id != 0 {
        let _ = write!(out, "id={id}");
        sep = ",";
    }
    if let Some(d) = add_const {
        let _ = write!(out, "{d:+}");
    }
    print_scalar_ranges(out, s, &mut sep);
    if !s.var_off.is_unknown() {
        let _ = write!(out, "{sep}var_off={}", s.var_off);
    }
    out.push(')');
}

/// The log text of a scalar without identity: `print_scalar_reg(s, 0, None, false)`.
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        print_scalar_reg(&mut s, self, 0, None, false);
        f.write_str(&s)
    }
}

/// A scalar register as the verifier log shows it, read back by [`parse_scalar_reg`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ParsedScalarReg {
    /// The bounds and known bits.
    pub scalar: Scalar,
    /// `id=N` (0 when absent).
    pub id: u32,
    /// The linked-register delta after the id (`id=2+7`).
    pub add_const: Option<i32>,
    /// The `P` (precise) mark.
    pub precise: bool,
}

fn parse_num(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(d) = s.strip_prefix('-') {
        d.parse::<u64>().ok().map(|v| (v as i64).wrapping_neg() as u64)
    } else {
        s.parse().ok()
    }
}

/// Reads the text [`print_scalar_reg`] writes (`P5`, `scalar(id=1,smin=...,var_off=(0x0; 0xff))`)
/// back into the register it describes; `None` if the text is not a scalar.
pub fn parse_scalar_reg(text: &str) -> Option<ParsedScalarReg> {
    let (precise, text) = match text.strip_prefix('P') {
        Some(t) => (true, t),
        None => (false, text),
    };
    if let Some(v) = parse_num(text) {
        return Some(ParsedScalarReg { scalar: Scalar::known(v), id: 0, add_const: None, precise });
    }
    let body = text.strip_prefix("scalar(")?.strip_suffix(')')?;
    let mut s = Scalar::unknown();
    let (mut id, mut add_const) = (0, None);
    let mut rest = body;
    while !rest.is_empty() {
        // `var_off=(a; b)` holds no comma; every other field is `name=...=value`.
        let (field, tail) = match rest.find(',') {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => (rest, ""),
        };
        rest = tail;
        if let Some(v) = field.strip_prefix("var_off=(") {
            let v = v.strip_suffix(')')?;
            let (a, b) = v.split_once("; ")?;
            s.var_off = Tnum::new(parse_num(a)?, parse_num(b)?);
            continue;
        }
        if let Some(v) = field.strip_prefix("id=") {
            let end = v.find(['+', '-']).unwrap_or(v.len());
            id = v[..end].parse().ok()?;
            if end < v.len() {
                add_const = Some(v[end..].parse().ok()?);
            }
            continue;
        }
        let mut parts: Vec<&str> = field.split('=').collect();
        let val = parse_num(parts.pop()?)?;
        for name in parts {
            match name {
                "smin" => s.smin_value = val as i64,
                "smax" => s.smax_value = val as i64,
                "umin" => s.umin_value = val,
                "umax" => s.umax_value = val,
                "smin32" => s.s32_min_value = val as i32,
                "smax32" => s.s32_max_value = val as i32,
                "umin32" => s.u32_min_value = val as u32,
                "umax32" => s.u32_max_value = val as u32,
                _ => return None,
            }
        }
    }
    Some(ParsedScalarReg { scalar: s, id, add_const, precise })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) {
        let p = parse_scalar_reg(text).unwrap_or_else(|| panic!("parse {text}"));
        let mut out = String::new();
        print_scalar_reg(&mut out, &p.scalar, p.id, p.add_const, p.precise);
        assert_eq!(out, text);
    }

    #[test]
    fn print_matches_kernel_samples() {
        // Lines of Linux 6.18 verifier logs.
        for t in [
            "scalar()",
            "scalar(id=1)",
            "5",
            "-5",
            "0xffffffff80000000",
            "P0",
            "scalar(id=1+7)",
            "scalar(id=1-1)",
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
            "scalar(smin=smin32=-3,smax=smax32=-1,umin=0xfffffffffffffffd,umin32=0xfffffffd,var_off=(0xfffffffffffffffd; 0x2))",
            "scalar(smin=umin=smin32=umin32=3,smax=umax=smax32=umax32=5,var_off=(0x0; 0x7))",
            "scalar(smin=umin=umin32=11,smax=umax=0xffffffff,smin32=0x8000000b,var_off=(0xb; 0xfffffff4))",
            "scalar(id=22,smax=0x7fffffff00000005,umin=1,umax=0xffffffff00000005,smin32=0,smax32=umax32=5,var_off=(0x0; 0xffffffff00000005))",
            "scalar(smin=0,smax=umax=0xffffffff,smin32=0xff000000,smax32=0xffffff,var_off=(0x0; 0xffffffff))",
            "scalar(smin=0xffffffff00000001,smax=0)",
        ] {
            roundtrip(t);
        }
    }

    #[test]
    fn live_kernel_deductions() {
        // `if r3 s> 5`, `if r3 s< -5`, `if r3 < 3`, `if r3 > -16` on an unknown r3: the s64 range
        // [-5, 5] crosses the sign boundary but the u64 range [3, 2^64-16] meets only its
        // non-negative half.
        let mut r = Scalar::unknown();
        r.smin_value = -5;
        r.smax_value = 5;
        r.umin_value = 3;
        r.umax_value = (-16i64) as u64;
        r.reg_bounds_sync();
        assert_eq!(
            r.to_string(),
            "scalar(smin=umin=smin32=umin32=3,smax=umax=smax32=umax32=5,var_off=(0x0; 0x7))"
        );
        // A range [4, 0x8000] with var_off (0x0; 0x8000) holds only 0x8000.
        let mut r = Scalar::unknown();
        r.var_off = Tnum::new(0, 0x8000);
        r.umin_value = 4;
        r.reg_bounds_sync();
        assert_eq!(r.to_string(), "0x8000");
        // be32 of a 16-bit value (alu.log insn 75).
        let mut r = Scalar::unknown();
        r.coerce_reg_to_size(2);
        let copy = r;
        r.adjust_scalar_min_max_vals(
            &Insn::End { kind: EndKind::ToBe, bits: 32, dst: kfvm_isa::Reg::R0 },
            &copy,
        );
        assert_eq!(
            r.to_string(),
            "scalar(smin=0,smax=umax=umax32=0xffff0000,smax32=0x7fff0000,var_off=(0x0; 0xffff0000))"
        );
        // r2 s>>= 63; r2 &= 5: explored as 0 (pushed) and -1 & 5.
        let mut r = Scalar::unknown();
        r.adjust_scalar_min_max_vals(
            &Insn::Alu { width: Width::W64, op: AluOp::Arsh, dst: kfvm_isa::Reg::R0, src: Src::Imm(63) },
            &Scalar::known(63),
        );
        let pushed = r.adjust_scalar_min_max_vals(
            &Insn::Alu { width: Width::W64, op: AluOp::And, dst: kfvm_isa::Reg::R0, src: Src::Imm(5) },
            &Scalar::known(5),
        );
        assert_eq!((r.to_string(), pushed.map(|p| p.to_string())), ("5".into(), Some("0".into())));
    }

    #[test]
    fn ands_and_shifts() {
        let mut r = Scalar::unknown();
        r.adjust_scalar_min_max_vals(
            &Insn::Alu { width: Width::W64, op: AluOp::And, dst: kfvm_isa::Reg::R0, src: Src::Imm(255) },
            &Scalar::known(255),
        );
        assert_eq!(r.to_string(), "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))");
        // w3 |= 11 on an unknown register (alu.log insn 46).
        let mut r = Scalar::unknown();
        r.adjust_scalar_min_max_vals(
            &Insn::Alu { width: Width::W32, op: AluOp::Or, dst: kfvm_isa::Reg::R0, src: Src::Imm(11) },
            &Scalar::known(11),
        );
        assert_eq!(
            r.to_string(),
            "scalar(smin=umin=umin32=11,smax=umax=0xffffffff,smin32=0x8000000b,var_off=(0xb; 0xfffffff4))"
        );
    }
}
