//! RCU, preemption and IRQ region kfuncs (kernel/bpf/helpers.c, set `common_btf_ids`).

use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// Enters an RCU read-side critical section.
    #[kfunc]
    pub fn bpf_rcu_read_lock();

    /// Leaves an RCU read-side critical section.
    #[kfunc]
    pub fn bpf_rcu_read_unlock();

    /// Disables preemption.
    #[kfunc]
    pub fn bpf_preempt_disable();

    /// Re-enables preemption.
    #[kfunc]
    pub fn bpf_preempt_enable();

    /// Disables local interrupts, saving the state in the stack slot `*flags__irq_flag`.
    #[kfunc]
    pub fn bpf_local_irq_save(flags__irq_flag: *mut c_ulong);

    /// Restores the interrupt state saved by `bpf_local_irq_save`.
    #[kfunc]
    pub fn bpf_local_irq_restore(flags__irq_flag: *mut c_ulong);
}
