//! The 26 cpumask kfuncs (kernel/bpf/cpumask.c, set `cpumask_kfunc_btf_ids`), over masks of
//! `nr_cpu_ids` CPUs.
//!
//! Masks read may be any `struct cpumask` the run may read (a `struct bpf_cpumask`, whose first
//! member it is, or a task's `cpus_ptr`); masks written must be `struct bpf_cpumask`s (from
//! `bpf_cpumask_create`). Bits are read and written atomically, word by word, as concurrent
//! runs may share a mask (as the kernel's `cpumask_set_cpu` is atomic).

use crate::model::Kind;
use crate::run::{bad_arg, kernel, release, RunCtx};
use crate::types::{BpfCpumask, Cpumask};
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx};
use std::sync::atomic::{AtomicU64, Ordering};

const WORDS: usize = 4;
const ENOMEM_NULL: *mut BpfCpumask = core::ptr::null_mut();

/// The words of a readable mask, or `None` after ending the run.
fn read(ctx: &mut CallCtx, name: &str, argno: usize, p: *const Cpumask) -> Option<[u64; WORDS]> {
    let a = p as u64;
    if a % 8 != 0 || !ctx.can_access(a, (WORDS * 8) as u64, false) {
        bad_arg::<()>(ctx, name, argno, "a cpumask", a);
        return None;
    }
    let mut w = [0u64; WORDS];
    for (i, w) in w.iter_mut().enumerate() {
        // SAFETY: 32 aligned bytes of the run's memory (checked above), which stays valid for
        // the run (RCU); concurrent writers use atomics.
        *w = unsafe { AtomicU64::from_ptr((a as *mut u64).add(i)) }.load(Ordering::Relaxed);
    }
    Some(w)
}

/// The words of a `struct bpf_cpumask` to write, or `None` after ending the run.
fn target<'a>(
    ctx: &mut CallCtx,
    rc: &RunCtx,
    name: &str,
    argno: usize,
    p: *const BpfCpumask,
) -> Option<&'a [AtomicU64; WORDS]> {
    if rc.kernel.slot_of(p).is_none() {
        bad_arg::<()>(ctx, name, argno, "a struct bpf_cpumask", p as u64);
        return None;
    }
    // SAFETY: a live bpf_cpumask (its slot is allocated; the run's RCU section keeps it); the
    // mask is its first member, 32 bytes aligned to 8, and only ever accessed atomically.
    Some(unsafe { &*(p as *const [AtomicU64; WORDS]) })
}

/// Bits `[0, nr)`.
fn valid(nr: u32) -> [u64; WORDS] {
    let mut m = [0u64; WORDS];
    for (i, w) in m.iter_mut().enumerate() {
        let lo = i as u32 * 64;
        *w = if nr >= lo + 64 {
            u64::MAX
        } else if nr > lo {
            (1u64 << (nr - lo)) - 1
        } else {
            0
        };
    }
    m
}

fn first(w: &[u64; WORDS], nr: u32) -> u32 {
    let m = valid(nr);
    for i in 0..WORDS {
        let v = w[i] & m[i];
        if v != 0 {
            return i as u32 * 64 + v.trailing_zeros();
        }
    }
    nr
}

fn weight(w: &[u64; WORDS], nr: u32) -> u32 {
    let m = valid(nr);
    (0..WORDS).map(|i| (w[i] & m[i]).count_ones()).sum()
}

fn store(dst: &[AtomicU64; WORDS], v: [u64; WORDS]) {
    for (d, v) in dst.iter().zip(v) {
        d.store(v, Ordering::Relaxed);
    }
}

fn bit(cpu: u32) -> (usize, u64) {
    ((cpu / 64) as usize, 1u64 << (cpu % 64))
}

/// Allocates a cleared `struct bpf_cpumask`, referenced; NULL on allocation failure.
#[kfunc(acquire, ret_null)]
pub fn bpf_cpumask_create(ctx: &mut CallCtx) -> *mut BpfCpumask {
    let rc = kernel!(ctx, "bpf_cpumask_create");
    rc.own(rc.kernel.alloc_cpumask().unwrap_or(ENOMEM_NULL))
}

/// Releases a `struct bpf_cpumask` reference (frees it with the last one).
#[kfunc(release)]
pub fn bpf_cpumask_release(ctx: &mut CallCtx, cpumask: *mut BpfCpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_release");
    release(ctx, rc, "bpf_cpumask_release", Kind::Cpumask, cpumask as u64, "a struct bpf_cpumask")
}

/// A new reference to a trusted `struct bpf_cpumask`.
#[kfunc(acquire, trusted_args)]
pub fn bpf_cpumask_acquire(ctx: &mut CallCtx, cpumask: *mut BpfCpumask) -> *mut BpfCpumask {
    let rc = kernel!(ctx, "bpf_cpumask_acquire");
    match rc.kernel.slot_of(cpumask) {
        Some(i) => {
            rc.kernel.0.cache(Kind::Cpumask).get(i);
            rc.own(cpumask)
        }
        None => bad_arg(ctx, "bpf_cpumask_acquire", 0, "a struct bpf_cpumask", cpumask as u64),
    }
}

macro_rules! rd {
    ($ctx:ident, $name:literal, $n:expr, $p:expr) => {
        match read($ctx, $name, $n, $p) {
            Some(w) => w,
            None => return Default::default(),
        }
    };
}

macro_rules! wr {
    ($ctx:ident, $rc:ident, $name:literal, $n:expr, $p:expr) => {
        match target($ctx, $rc, $name, $n, $p) {
            Some(w) => w,
            None => return Default::default(),
        }
    };
}

/// The first set CPU (`nr_cpu_ids` if none).
#[kfunc(rcu)]
pub fn bpf_cpumask_first(ctx: &mut CallCtx, cpumask: *const Cpumask) -> u32 {
    let rc = kernel!(ctx, "bpf_cpumask_first");
    let w = rd!(ctx, "bpf_cpumask_first", 0, cpumask);
    first(&w, rc.kernel.nr_cpu_ids())
}

/// The first clear CPU.
#[kfunc(rcu)]
pub fn bpf_cpumask_first_zero(ctx: &mut CallCtx, cpumask: *const Cpumask) -> u32 {
    let rc = kernel!(ctx, "bpf_cpumask_first_zero");
    let w = rd!(ctx, "bpf_cpumask_first_zero", 0, cpumask);
    first(&w.map(|x| !x), rc.kernel.nr_cpu_ids())
}

/// The first CPU set in both masks.
#[kfunc(rcu)]
pub fn bpf_cpumask_first_and(ctx: &mut CallCtx, src1: *const Cpumask, src2: *const Cpumask) -> u32 {
    let rc = kernel!(ctx, "bpf_cpumask_first_and");
    let a = rd!(ctx, "bpf_cpumask_first_and", 0, src1);
    let b = rd!(ctx, "bpf_cpumask_first_and", 1, src2);
    first(&[a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3]], rc.kernel.nr_cpu_ids())
}

/// Sets `cpu` (nothing if `cpu` is not below `nr_cpu_ids`).
#[kfunc(rcu)]
pub fn bpf_cpumask_set_cpu(ctx: &mut CallCtx, cpu: u32, cpumask: *mut BpfCpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_set_cpu");
    let m = wr!(ctx, rc, "bpf_cpumask_set_cpu", 1, cpumask);
    if cpu < rc.kernel.nr_cpu_ids() {
        let (i, b) = bit(cpu);
        m[i].fetch_or(b, Ordering::Relaxed);
    }
}

/// Clears `cpu`.
#[kfunc(rcu)]
pub fn bpf_cpumask_clear_cpu(ctx: &mut CallCtx, cpu: u32, cpumask: *mut BpfCpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_clear_cpu");
    let m = wr!(ctx, rc, "bpf_cpumask_clear_cpu", 1, cpumask);
    if cpu < rc.kernel.nr_cpu_ids() {
        let (i, b) = bit(cpu);
        m[i].fetch_and(!b, Ordering::Relaxed);
    }
}

/// Whether `cpu` is set (false if `cpu` is not a CPU).
#[kfunc(rcu)]
pub fn bpf_cpumask_test_cpu(ctx: &mut CallCtx, cpu: u32, cpumask: *const Cpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_test_cpu");
    let w = rd!(ctx, "bpf_cpumask_test_cpu", 1, cpumask);
    if cpu >= rc.kernel.nr_cpu_ids() {
        return false;
    }
    let (i, b) = bit(cpu);
    w[i] & b != 0
}

/// Sets `cpu`; whether it was set before.
#[kfunc(rcu)]
pub fn bpf_cpumask_test_and_set_cpu(ctx: &mut CallCtx, cpu: u32, cpumask: *mut BpfCpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_test_and_set_cpu");
    let m = wr!(ctx, rc, "bpf_cpumask_test_and_set_cpu", 1, cpumask);
    if cpu >= rc.kernel.nr_cpu_ids() {
        return false;
    }
    let (i, b) = bit(cpu);
    m[i].fetch_or(b, Ordering::Relaxed) & b != 0
}

/// Clears `cpu`; whether it was set before.
#[kfunc(rcu)]
pub fn bpf_cpumask_test_and_clear_cpu(ctx: &mut CallCtx, cpu: u32, cpumask: *mut BpfCpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_test_and_clear_cpu");
    let m = wr!(ctx, rc, "bpf_cpumask_test_and_clear_cpu", 1, cpumask);
    if cpu >= rc.kernel.nr_cpu_ids() {
        return false;
    }
    let (i, b) = bit(cpu);
    m[i].fetch_and(!b, Ordering::Relaxed) & b != 0
}

/// Sets every CPU.
#[kfunc(rcu)]
pub fn bpf_cpumask_setall(ctx: &mut CallCtx, cpumask: *mut BpfCpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_setall");
    let m = wr!(ctx, rc, "bpf_cpumask_setall", 0, cpumask);
    store(m, valid(rc.kernel.nr_cpu_ids()));
}

/// Clears every CPU.
#[kfunc(rcu)]
pub fn bpf_cpumask_clear(ctx: &mut CallCtx, cpumask: *mut BpfCpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_clear");
    let m = wr!(ctx, rc, "bpf_cpumask_clear", 0, cpumask);
    store(m, [0; WORDS]);
}

fn combine(a: [u64; WORDS], b: [u64; WORDS], nr: u32, f: impl Fn(u64, u64) -> u64) -> [u64; WORDS] {
    let m = valid(nr);
    [f(a[0], b[0]) & m[0], f(a[1], b[1]) & m[1], f(a[2], b[2]) & m[2], f(a[3], b[3]) & m[3]]
}

/// `dst = src1 & src2`; whether the result is non-empty.
#[kfunc(rcu)]
pub fn bpf_cpumask_and(
    ctx: &mut CallCtx,
    dst: *mut BpfCpumask,
    src1: *const Cpumask,
    src2: *const Cpumask,
) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_and");
    let d = wr!(ctx, rc, "bpf_cpumask_and", 0, dst);
    let a = rd!(ctx, "bpf_cpumask_and", 1, src1);
    let b = rd!(ctx, "bpf_cpumask_and", 2, src2);
    let r = combine(a, b, rc.kernel.nr_cpu_ids(), |x, y| x & y);
    store(d, r);
    r.iter().any(|&w| w != 0)
}

/// `dst = src1 | src2`.
#[kfunc(rcu)]
pub fn bpf_cpumask_or(ctx: &mut CallCtx, dst: *mut BpfCpumask, src1: *const Cpumask, src2: *const Cpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_or");
    let d = wr!(ctx, rc, "bpf_cpumask_or", 0, dst);
    let a = rd!(ctx, "bpf_cpumask_or", 1, src1);
    let b = rd!(ctx, "bpf_cpumask_or", 2, src2);
    store(d, combine(a, b, rc.kernel.nr_cpu_ids(), |x, y| x | y));
}

/// `dst = src1 ^ src2`.
#[kfunc(rcu)]
pub fn bpf_cpumask_xor(ctx: &mut CallCtx, dst: *mut BpfCpumask, src1: *const Cpumask, src2: *const Cpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_xor");
    let d = wr!(ctx, rc, "bpf_cpumask_xor", 0, dst);
    let a = rd!(ctx, "bpf_cpumask_xor", 1, src1);
    let b = rd!(ctx, "bpf_cpumask_xor", 2, src2);
    store(d, combine(a, b, rc.kernel.nr_cpu_ids(), |x, y| x ^ y));
}

/// Whether the masks are equal.
#[kfunc(rcu)]
pub fn bpf_cpumask_equal(ctx: &mut CallCtx, src1: *const Cpumask, src2: *const Cpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_equal");
    let a = rd!(ctx, "bpf_cpumask_equal", 0, src1);
    let b = rd!(ctx, "bpf_cpumask_equal", 1, src2);
    combine(a, b, rc.kernel.nr_cpu_ids(), |x, y| x ^ y).iter().all(|&w| w == 0)
}

/// Whether the masks share a CPU.
#[kfunc(rcu)]
pub fn bpf_cpumask_intersects(ctx: &mut CallCtx, src1: *const Cpumask, src2: *const Cpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_intersects");
    let a = rd!(ctx, "bpf_cpumask_intersects", 0, src1);
    let b = rd!(ctx, "bpf_cpumask_intersects", 1, src2);
    combine(a, b, rc.kernel.nr_cpu_ids(), |x, y| x & y).iter().any(|&w| w != 0)
}

/// Whether `src1` is a subset of `src2`.
#[kfunc(rcu)]
pub fn bpf_cpumask_subset(ctx: &mut CallCtx, src1: *const Cpumask, src2: *const Cpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_subset");
    let a = rd!(ctx, "bpf_cpumask_subset", 0, src1);
    let b = rd!(ctx, "bpf_cpumask_subset", 1, src2);
    combine(a, b, rc.kernel.nr_cpu_ids(), |x, y| x & !y).iter().all(|&w| w == 0)
}

/// Whether no CPU is set.
#[kfunc(rcu)]
pub fn bpf_cpumask_empty(ctx: &mut CallCtx, cpumask: *const Cpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_empty");
    let w = rd!(ctx, "bpf_cpumask_empty", 0, cpumask);
    weight(&w, rc.kernel.nr_cpu_ids()) == 0
}

/// Whether every CPU is set.
#[kfunc(rcu)]
pub fn bpf_cpumask_full(ctx: &mut CallCtx, cpumask: *const Cpumask) -> bool {
    let rc = kernel!(ctx, "bpf_cpumask_full");
    let w = rd!(ctx, "bpf_cpumask_full", 0, cpumask);
    weight(&w, rc.kernel.nr_cpu_ids()) == rc.kernel.nr_cpu_ids()
}

/// `dst = src`.
#[kfunc(rcu)]
pub fn bpf_cpumask_copy(ctx: &mut CallCtx, dst: *mut BpfCpumask, src: *const Cpumask) {
    let rc = kernel!(ctx, "bpf_cpumask_copy");
    let d = wr!(ctx, rc, "bpf_cpumask_copy", 0, dst);
    let s = rd!(ctx, "bpf_cpumask_copy", 1, src);
    store(d, combine(s, s, rc.kernel.nr_cpu_ids(), |x, _| x));
}

/// The next set CPU after the last one handed out (`cpumask_any_distribute`: spreads choices
/// over the mask); `nr_cpu_ids` or more if the mask is empty.
fn distribute(rc: &RunCtx, w: &[u64; WORDS]) -> u32 {
    let nr = rc.kernel.nr_cpu_ids();
    let prev = rc.kernel.0.distribute.load(Ordering::Relaxed);
    let start = prev.wrapping_add(1) % nr;
    let m = valid(nr);
    let set = |c: u32| {
        let (i, b) = bit(c);
        w[i] & m[i] & b != 0
    };
    match (0..nr).map(|k| (start + k) % nr).find(|&c| set(c)) {
        Some(c) => {
            rc.kernel.0.distribute.store(c, Ordering::Relaxed);
            c
        }
        None => nr,
    }
}

/// A set CPU, spread over calls.
#[kfunc(rcu)]
pub fn bpf_cpumask_any_distribute(ctx: &mut CallCtx, cpumask: *const Cpumask) -> u32 {
    let rc = kernel!(ctx, "bpf_cpumask_any_distribute");
    let w = rd!(ctx, "bpf_cpumask_any_distribute", 0, cpumask);
    distribute(rc, &w)
}

/// A CPU set in both masks, spread over calls.
#[kfunc(rcu)]
pub fn bpf_cpumask_any_and_distribute(ctx: &mut CallCtx, src1: *const Cpumask, src2: *const Cpumask) -> u32 {
    let rc = kernel!(ctx, "bpf_cpumask_any_and_distribute");
    let a = rd!(ctx, "bpf_cpumask_any_and_distribute", 0, src1);
    let b = rd!(ctx, "bpf_cpumask_any_and_distribute", 1, src2);
    distribute(rc, &[a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3]])
}

/// Number of set CPUs.
#[kfunc(rcu)]
pub fn bpf_cpumask_weight(ctx: &mut CallCtx, cpumask: *const Cpumask) -> u32 {
    let rc = kernel!(ctx, "bpf_cpumask_weight");
    let w = rd!(ctx, "bpf_cpumask_weight", 0, cpumask);
    weight(&w, rc.kernel.nr_cpu_ids())
}

/// Fills the mask from the bitmap `src` of `src__sz` bytes: `-EACCES` if it is shorter than
/// `nr_cpu_ids` bits (in longs). (x86-64 has efficient unaligned access: any alignment goes.)
#[kfunc(rcu)]
pub fn bpf_cpumask_populate(
    ctx: &mut CallCtx,
    cpumask: *mut Cpumask,
    src: *mut c_void,
    src__sz: size_t,
) -> c_int {
    let rc = kernel!(ctx, "bpf_cpumask_populate");
    let d = wr!(ctx, rc, "bpf_cpumask_populate", 0, cpumask as *const BpfCpumask);
    let nr = rc.kernel.nr_cpu_ids();
    let need = nr.div_ceil(64) as usize * 8;
    if src__sz < need {
        return -13; // -EACCES
    }
    let a = src as u64;
    if !ctx.can_access(a, need as u64, false) {
        return bad_arg(ctx, "bpf_cpumask_populate", 1, "readable memory", a);
    }
    // bitmap_copy(): whole longs.
    for (i, d) in d.iter().enumerate().take(need / 8) {
        // SAFETY: `need` readable bytes at `a` (checked above).
        d.store(unsafe { core::ptr::read_unaligned((a as *const u64).add(i)) }, Ordering::Relaxed);
    }
    0
}

/// Destructor of referenced `struct bpf_cpumask` kptrs (`bpf_cpumask_release_dtor`; not a kfunc).
#[kfunc]
pub fn bpf_cpumask_release_dtor(ctx: &mut CallCtx, cpumask: *mut c_void) {
    let rc = kernel!(ctx, "bpf_cpumask_release_dtor");
    // A map drops the reference it held: no program owned it.
    if !rc.kernel.release_any(cpumask as u64) {
        bad_arg::<()>(ctx, "bpf_cpumask_release_dtor", 0, "a struct bpf_cpumask", cpumask as u64);
    }
}
