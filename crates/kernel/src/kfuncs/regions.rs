//! RCU, preemption and IRQ region kfuncs (kernel/bpf/helpers.c, set `common_btf_ids`).
//!
//! A program run is already an RCU read-side section (and runs with migration disabled), so
//! these only keep count; the verifier is what enforces their pairing. An unbalanced unlock in
//! a run the verifier did not check ends the run.

use crate::run::{bad_arg, kernel};
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx};

/// The token `bpf_local_irq_save` leaves in its flag slot (the saved `EFLAGS.IF`).
const IRQ_FLAGS: u64 = 0x200;

/// Enters an RCU read-side critical section.
#[kfunc]
pub fn bpf_rcu_read_lock(ctx: &mut CallCtx) {
    let rc = kernel!(ctx, "bpf_rcu_read_lock");
    rc.rcu_nest.set(rc.rcu_nest.get() + 1);
}

/// Leaves an RCU read-side critical section.
#[kfunc]
pub fn bpf_rcu_read_unlock(ctx: &mut CallCtx) {
    let rc = kernel!(ctx, "bpf_rcu_read_unlock");
    match rc.rcu_nest.get().checked_sub(1) {
        Some(n) => rc.rcu_nest.set(n),
        None => ctx.fail("kfunc bpf_rcu_read_unlock: not inside bpf_rcu_read_lock"),
    }
}

/// Disables preemption.
#[kfunc]
pub fn bpf_preempt_disable(ctx: &mut CallCtx) {
    let rc = kernel!(ctx, "bpf_preempt_disable");
    rc.preempt_nest.set(rc.preempt_nest.get() + 1);
}

/// Re-enables preemption.
#[kfunc]
pub fn bpf_preempt_enable(ctx: &mut CallCtx) {
    let rc = kernel!(ctx, "bpf_preempt_enable");
    match rc.preempt_nest.get().checked_sub(1) {
        Some(n) => rc.preempt_nest.set(n),
        None => ctx.fail("kfunc bpf_preempt_enable: preemption is not disabled"),
    }
}

/// Disables local interrupts, saving the state in the stack slot `*flags__irq_flag`.
#[kfunc]
pub fn bpf_local_irq_save(ctx: &mut CallCtx, flags__irq_flag: *mut c_ulong) {
    let rc = kernel!(ctx, "bpf_local_irq_save");
    let a = flags__irq_flag as u64;
    if !ctx.can_access(a, 8, true) {
        return bad_arg(ctx, "bpf_local_irq_save", 0, "a writable flag slot", a);
    }
    // SAFETY: 8 writable bytes of the run's memory (its stack), checked above.
    unsafe { core::ptr::write_unaligned(a as *mut u64, IRQ_FLAGS | rc.irq_nest.get() as u64) };
    rc.irq_nest.set(rc.irq_nest.get() + 1);
}

/// Restores the interrupt state saved by `bpf_local_irq_save`.
#[kfunc]
pub fn bpf_local_irq_restore(ctx: &mut CallCtx, flags__irq_flag: *mut c_ulong) {
    let rc = kernel!(ctx, "bpf_local_irq_restore");
    let a = flags__irq_flag as u64;
    if !ctx.can_access(a, 8, false) {
        return bad_arg(ctx, "bpf_local_irq_restore", 0, "a flag slot", a);
    }
    match rc.irq_nest.get().checked_sub(1) {
        Some(n) => rc.irq_nest.set(n),
        None => ctx.fail("kfunc bpf_local_irq_restore: interrupts were not saved"),
    }
}
