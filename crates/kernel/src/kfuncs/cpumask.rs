//! The 26 cpumask kfuncs (kernel/bpf/cpumask.c, set `cpumask_kfunc_btf_ids`).

use crate::types::{BpfCpumask, Cpumask};
use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// Allocates a cleared `struct bpf_cpumask`, referenced; NULL on allocation failure.
    #[kfunc(acquire, ret_null)]
    pub fn bpf_cpumask_create() -> *mut BpfCpumask;

    /// Releases a `struct bpf_cpumask` reference (frees it with the last one).
    #[kfunc(release)]
    pub fn bpf_cpumask_release(cpumask: *mut BpfCpumask);

    /// A new reference to a trusted `struct bpf_cpumask`.
    #[kfunc(acquire, trusted_args)]
    pub fn bpf_cpumask_acquire(cpumask: *mut BpfCpumask) -> *mut BpfCpumask;

    /// The first set CPU (`nr_cpu_ids` or more if none).
    #[kfunc(rcu)]
    pub fn bpf_cpumask_first(cpumask: *const Cpumask) -> u32;

    /// The first clear CPU.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_first_zero(cpumask: *const Cpumask) -> u32;

    /// The first CPU set in both masks.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_first_and(src1: *const Cpumask, src2: *const Cpumask) -> u32;

    /// Sets `cpu`.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_set_cpu(cpu: u32, cpumask: *mut BpfCpumask);

    /// Clears `cpu`.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_clear_cpu(cpu: u32, cpumask: *mut BpfCpumask);

    /// Whether `cpu` is set.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_test_cpu(cpu: u32, cpumask: *const Cpumask) -> bool;

    /// Sets `cpu`; whether it was set before.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_test_and_set_cpu(cpu: u32, cpumask: *mut BpfCpumask) -> bool;

    /// Clears `cpu`; whether it was set before.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_test_and_clear_cpu(cpu: u32, cpumask: *mut BpfCpumask) -> bool;

    /// Sets every CPU.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_setall(cpumask: *mut BpfCpumask);

    /// Clears every CPU.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_clear(cpumask: *mut BpfCpumask);

    /// `dst = src1 & src2`; whether the result is non-empty.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_and(dst: *mut BpfCpumask, src1: *const Cpumask, src2: *const Cpumask) -> bool;

    /// `dst = src1 | src2`.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_or(dst: *mut BpfCpumask, src1: *const Cpumask, src2: *const Cpumask);

    /// `dst = src1 ^ src2`.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_xor(dst: *mut BpfCpumask, src1: *const Cpumask, src2: *const Cpumask);

    /// Whether the masks are equal.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_equal(src1: *const Cpumask, src2: *const Cpumask) -> bool;

    /// Whether the masks share a CPU.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_intersects(src1: *const Cpumask, src2: *const Cpumask) -> bool;

    /// Whether `src1` is a subset of `src2`.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_subset(src1: *const Cpumask, src2: *const Cpumask) -> bool;

    /// Whether no CPU is set.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_empty(cpumask: *const Cpumask) -> bool;

    /// Whether every CPU is set.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_full(cpumask: *const Cpumask) -> bool;

    /// `dst = src`.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_copy(dst: *mut BpfCpumask, src: *const Cpumask);

    /// A random set CPU.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_any_distribute(cpumask: *const Cpumask) -> u32;

    /// A random CPU set in both masks.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_any_and_distribute(src1: *const Cpumask, src2: *const Cpumask) -> u32;

    /// Number of set CPUs.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_weight(cpumask: *const Cpumask) -> u32;

    /// Fills the mask from the bitmap `src` of `src__sz` bytes.
    #[kfunc(rcu)]
    pub fn bpf_cpumask_populate(cpumask: *mut Cpumask, src: *mut c_void, src__sz: size_t) -> c_int;

    /// Destructor of referenced `struct bpf_cpumask` kptrs (`bpf_cpumask_release_dtor`; not a kfunc).
    #[kfunc]
    pub fn bpf_cpumask_release_dtor(cpumask: *mut c_void);
}
