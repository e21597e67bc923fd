//! Tracked numbers: the kernel's bit-level abstract domain (`kernel/bpf/tnum.c`,
//! `include/linux/tnum.h`).
//!
//! A [`Tnum`] describes a set of 64-bit values by which bits are known: bit `i` is unknown when
//! `mask` has bit `i` set, otherwise it is known to equal bit `i` of `value`. The invariant
//! `value & mask == 0` holds for every tnum the operations build. The set a tnum stands for is
//! `{ value | m : m ⊆ mask }`; every operation returns a tnum whose set contains all results of the
//! operation applied to members of its operands' sets.
//!
//! Each function mirrors the kernel function named in its doc line, computing exactly the same
//! `(value, mask)` pair, including where the kernel is imprecise.

use std::fmt;

/// `struct tnum`: known bits in `value`, unknown bits in `mask`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Tnum {
    /// The known bits (zero where unknown).
    pub value: u64,
    /// The unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// `tnum_unknown`: every bit unknown.
    pub const UNKNOWN: Tnum = Tnum { value: 0, mask: u64::MAX };

    /// `TNUM(v, m)`: a tnum from its two words, as given.
    pub const fn new(value: u64, mask: u64) -> Tnum {
        Tnum { value, mask }
    }

    /// Mirrors `tnum_const()`: the single value `value`.
    pub const fn constant(value: u64) -> Tnum {
        Tnum { value, mask: 0 }
    }

    /// Mirrors `tnum_range()`: a superset of `min..=max` (the bits below the highest differing bit
    /// become unknown; `tnum_range(0, 2)` also holds 3).
    pub const fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros(); // fls64
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum { value: min & !delta, mask: delta }
    }

    /// Mirrors `tnum_lshift()` (`shift` < 64).
    pub const fn lshift(self, shift: u8) -> Tnum {
        Tnum { value: self.value << shift, mask: self.mask << shift }
    }

    /// Mirrors `tnum_rshift()` (`shift` < 64).
    pub const fn rshift(self, shift: u8) -> Tnum {
        Tnum { value: self.value >> shift, mask: self.mask >> shift }
    }

    /// Mirrors `tnum_arshift()`: arithmetic shift by `min_shift` on a 32- or 64-bit value
    /// (`insn_bitness`); a 32-bit result is zero-extended.
    pub const fn arshift(self, min_shift: u8, insn_bitness: u8) -> Tnum {
        if insn_bitness == 32 {
            Tnum {
                value: ((self.value as i32) >> min_shift) as u32 as u64,
                mask: ((self.mask as i32) >> min_shift) as u32 as u64,
            }
        } else {
            Tnum {
                value: ((self.value as i64) >> min_shift) as u64,
                mask: ((self.mask as i64) >> min_shift) as u64,
            }
        }
    }

    /// Mirrors `tnum_add()`.
    pub const fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum { value: sv & !mu, mask: mu }
    }

    /// Mirrors `tnum_sub()`.
    pub const fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum { value: dv & !mu, mask: mu }
    }

    /// Mirrors `tnum_neg()`: `0 - a`.
    pub const fn neg(self) -> Tnum {
        Tnum::constant(0).sub(self)
    }

    /// Mirrors `tnum_and()`.
    pub const fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum { value: v, mask: alpha & beta & !v }
    }

    /// Mirrors `tnum_or()`.
    pub const fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum { value: v, mask: mu & !v }
    }

    /// Mirrors `tnum_xor()`.
    pub const fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum { value: v & !mu, mask: mu }
    }

    /// Mirrors `tnum_mul()` in the long-multiplication form: for each bit of `a` from the lowest,
    /// a known 1 adds `b` to the accumulator, an unknown bit joins the accumulator with and
    /// without `b` ([`Tnum::union`]), and `b` moves one bit left.
    pub const fn mul(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let mut acc = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc = acc.add(b);
            } else if a.mask & 1 != 0 {
                acc = acc.union(acc.add(b));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        acc
    }

    /// Mirrors `tnum_step()`: the smallest member of `self` greater than `z` — the smallest
    /// member (`value`) when `z` is below it, the largest (`value | mask`) when `z` is at or above
    /// that.
    pub const fn step(self, z: u64) -> u64 {
        let tmax = self.value | self.mask;
        if z >= tmax {
            return tmax;
        }
        if z < self.value {
            return self.value;
        }
        // Members are `value + m` for the submasks `m` of `mask`, in the order of `m`: find the
        // smallest submask above `d`.
        let d = z - self.value;
        let high = d & !self.mask;
        let carry_mask = if high == 0 { 0 } else { u64::MAX >> high.leading_zeros() };
        let filled = d | carry_mask | !self.mask;
        let inc = filled.wrapping_add(1) & self.mask;
        self.value | inc
    }

    /// Mirrors `tnum_overlap()`: whether `a` and `b` may share a member — false when a bit known
    /// in both disagrees.
    pub const fn overlap(self, b: Tnum) -> bool {
        let mu = !self.mask & !b.mask;
        (self.value & mu) == (b.value & mu)
    }

    /// Mirrors `tnum_intersect()`: the values in both (where the two disagree on a known bit, the
    /// result says 1).
    pub const fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum { value: v & !mu, mask: mu }
    }

    /// Mirrors `tnum_union()`: a tnum holding the members of both.
    pub const fn union(self, b: Tnum) -> Tnum {
        let v = self.value & b.value;
        let mu = (self.value ^ b.value) | self.mask | b.mask;
        Tnum { value: v & !mu, mask: mu }
    }

    /// Mirrors `tnum_cast()`: keeps the low `size` bytes (`size` ≤ 8).
    pub const fn cast(self, size: u8) -> Tnum {
        let m = if size >= 8 { u64::MAX } else { (1u64 << (size as u32 * 8)) - 1 };
        Tnum { value: self.value & m, mask: self.mask & m }
    }

    /// Mirrors `tnum_is_const()`.
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Mirrors `tnum_equals_const()`.
    pub const fn equals_const(self, b: u64) -> bool {
        self.is_const() && self.value == b
    }

    /// Mirrors `tnum_is_unknown()`: every bit unknown.
    pub const fn is_unknown(self) -> bool {
        !self.mask == 0
    }

    /// Mirrors `tnum_is_aligned()`: whether every member is a multiple of `size` (a power of two;
    /// 0 counts as aligned).
    pub const fn is_aligned(self, size: u64) -> bool {
        if size == 0 {
            return true;
        }
        (self.value | self.mask) & (size - 1) == 0
    }

    /// Mirrors `tnum_in(a, b)`: whether every member of `b` is a member of `self`.
    pub const fn contains(self, b: Tnum) -> bool {
        if b.mask & !self.mask != 0 {
            return false;
        }
        self.value == b.value & !self.mask
    }

    /// Mirrors `tnum_subreg()`: the low 32 bits.
    pub const fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// Mirrors `tnum_clear_subreg()`: the low 32 bits known zero.
    pub const fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// Mirrors `tnum_with_subreg()`: the high 32 bits of `self`, the low 32 bits of `subreg`.
    pub const fn with_subreg(self, subreg: Tnum) -> Tnum {
        self.clear_subreg().or(subreg.subreg())
    }

    /// Mirrors `tnum_const_subreg()`: the low 32 bits set to the constant `value`.
    pub const fn const_subreg(self, value: u32) -> Tnum {
        self.with_subreg(Tnum::constant(value as u64))
    }

    /// Mirrors `tnum_subreg_is_const()`.
    pub const fn subreg_is_const(self) -> bool {
        self.subreg().mask == 0
    }

    /// Mirrors `tnum_bswap16()`: the low 16 bits byte-swapped, the rest zero.
    pub const fn bswap16(self) -> Tnum {
        Tnum { value: (self.value as u16).swap_bytes() as u64, mask: (self.mask as u16).swap_bytes() as u64 }
    }

    /// Mirrors `tnum_bswap32()`: the low 32 bits byte-swapped, the rest zero.
    pub const fn bswap32(self) -> Tnum {
        Tnum { value: (self.value as u32).swap_bytes() as u64, mask: (self.mask as u32).swap_bytes() as u64 }
    }

    /// Mirrors `tnum_bswap64()`.
    pub const fn bswap64(self) -> Tnum {
        Tnum { value: self.value.swap_bytes(), mask: self.mask.swap_bytes() }
    }

    /// Mirrors `tnum_sbin()`: 64 characters, most significant bit first, `0`/`1` for known bits
    /// and `x` for unknown ones.
    pub fn sbin(self) -> String {
        (0..64)
            .rev()
            .map(|i| {
                if self.mask >> i & 1 != 0 {
                    'x'
                } else if self.value >> i & 1 != 0 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect()
    }
}

/// Mirrors `tnum_strn()` as the verifier log prints a `var_off`: `(0x0; 0xff)` (the kernel's
/// `%#llx` prints zero as `0x0`).
impl fmt::Display for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every member of a small tnum (at most 2^k values).
    fn members(t: Tnum) -> Vec<u64> {
        let bits: Vec<u32> = (0..64).filter(|i| t.mask >> i & 1 != 0).collect();
        assert!(bits.len() <= 12);
        (0..1u64 << bits.len())
            .map(|n| {
                let mut v = t.value;
                for (j, b) in bits.iter().enumerate() {
                    if n >> j & 1 != 0 {
                        v |= 1 << b;
                    }
                }
                v
            })
            .collect()
    }

    fn contains_value(t: Tnum, v: u64) -> bool {
        v & !t.mask == t.value
    }

    fn small_tnums() -> Vec<Tnum> {
        let mut out = Vec::new();
        // All tnums on 4 bits: each bit 0, 1 or x; plus a few with high bits.
        for n in 0..81u32 {
            let (mut v, mut m, mut k) = (0u64, 0u64, n);
            for bit in 0..4 {
                match k % 3 {
                    1 => v |= 1 << bit,
                    2 => m |= 1 << bit,
                    _ => {}
                }
                k /= 3;
            }
            out.push(Tnum::new(v, m));
            out.push(Tnum::new(v | 0xffff_ffff_ffff_fff0, m));
            out.push(Tnum::new(v << 30, m << 30));
        }
        out
    }

    #[test]
    fn ops_are_sound() {
        let ts = small_tnums();
        for &a in ts.iter().step_by(3) {
            for &b in ts.iter().step_by(5) {
                for x in members(a) {
                    for y in members(b) {
                        assert!(contains_value(a.add(b), x.wrapping_add(y)), "add {a:?} {b:?}");
                        assert!(contains_value(a.sub(b), x.wrapping_sub(y)), "sub {a:?} {b:?}");
                        assert!(contains_value(a.mul(b), x.wrapping_mul(y)), "mul {a:?} {b:?}");
                        assert!(contains_value(a.and(b), x & y));
                        assert!(contains_value(a.or(b), x | y));
                        assert!(contains_value(a.xor(b), x ^ y));
                        assert!(contains_value(a.union(b), x) && contains_value(a.union(b), y));
                        if x == y {
                            assert!(a.overlap(b));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn step_is_next_member() {
        for &t in small_tnums().iter() {
            let mut ms = members(t);
            ms.sort_unstable();
            let tmax = t.value | t.mask;
            for z in
                [0, 1, 2, 5, 7, 8, 9, 15, 16, 17, t.value, tmax, tmax.wrapping_sub(1), 1 << 30, (1 << 30) + 3]
            {
                let want = if z >= tmax { tmax } else { ms.iter().copied().find(|&m| m > z).unwrap_or(tmax) };
                assert_eq!(t.step(z), want, "{t:?} step {z}");
            }
        }
    }

    #[test]
    fn range_and_print() {
        assert_eq!(Tnum::range(0, 2), Tnum::new(0, 3));
        assert_eq!(Tnum::range(5, 5), Tnum::constant(5));
        assert_eq!(Tnum::range(0, u64::MAX), Tnum::UNKNOWN);
        assert_eq!(Tnum::new(0, 0xff).to_string(), "(0x0; 0xff)");
        assert_eq!(Tnum::new(0, 0xffff0000).bswap32(), Tnum::new(0, 0xffff));
        assert_eq!(Tnum::new(2, 1).sbin(), format!("{}1x", "0".repeat(62)));
        assert_eq!(
            Tnum::new(0xffff_ffff_0000_0001, 0xff00).with_subreg(Tnum::constant(7)),
            Tnum::new(0xffff_ffff_0000_0007, 0)
        );
        assert!(Tnum::new(0, 0xf0).contains(Tnum::constant(0x10)));
        assert!(!Tnum::new(0, 0xf0).contains(Tnum::constant(0x11)));
        assert_eq!(Tnum::new(0x8000_0000, 0).arshift(4, 32), Tnum::new(0xf800_0000, 0));
    }
}
