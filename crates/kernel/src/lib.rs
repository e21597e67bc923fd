//! The built-in kernel model: the host types and kfuncs a kfvm program sees when it runs
//! "in the kernel".
//!
//! - [`types`]: `task_struct`, `cgroup`, `css_set`, `kernfs_node`, `cpumask`, `bpf_cpumask`,
//!   `cgroup_subsys_state`, `mm_struct`, `bpf_iter_num`, `bpf_dynptr`, ... with the kernel's
//!   member names and types.
//! - [`kfuncs`]: the core kfunc catalogue of Linux 6.18 (task, cgroup, the 26 cpumask kfuncs,
//!   RCU/preemption/IRQ regions, `bpf_obj_*` and refcount, linked list, rbtree, dynptr,
//!   `bpf_iter_num`, casts), plus the legacy `bpf_cgroup_kptr_get`.
//! - [`register_core`]: registers them in a [`KfuncRegistry`] exactly as Linux 6.18 registers
//!   them (same sets, same program types, same hooks, same flags), with the destructors, the
//!   nested-pointer trust lists and `rcu_protected_types`.
//!
//! - [`model`]: the world the kfuncs act on: [`Kernel`] holds tasks, cgroups and CPUs as objects
//!   laid out as the host BTF says, reference-counted and reclaimed after an RCU grace period
//!   ([`objects`]); [`spec`] describes it (a model file, or a snapshot of this machine).
//! - [`RunCtx`]: one program run (its RCU read-side section, current task and CPU), what a kfunc
//!   finds behind `CallCtx::host_data`.
//!
//! The kfuncs of tasks, cgroups, cpumasks, RCU/preemption/IRQ regions, `bpf_obj_new`/`drop`,
//! `bpf_iter_num`, dynptrs over memory and XDP packets, and the casts are implemented; the
//! others (per-CPU objects, refcounts, linked lists, rbtrees, skb dynptrs) are declared and end a
//! run with "kfunc NAME is not implemented by this host yet".

#![deny(missing_docs)]

/// Declares kfuncs whose implementation is still to come: each becomes a `#[kfunc]` function
/// taking `ctx: &mut CallCtx` first, whose body ends the run with "not implemented".
macro_rules! declare {
    ($(
        $(#[$m:meta])*
        pub fn $name:ident($($p:ident: $t:ty),* $(,)?) $(-> $r:ty)?;
    )*) => {$(
        $(#[$m])*
        pub fn $name(ctx: &mut kfvm_kfunc::CallCtx, $($p: $t),*) $(-> $r)? {
            let _ = ($($p,)*);
            kfvm_kfunc::abi::not_implemented(ctx, stringify!($name))
        }
    )*};
}

pub mod kfuncs;
pub mod model;
pub mod objects;
mod run;
pub mod spec;
pub mod types;

pub use model::{Kernel, KernelConfig, Kind, RefAudit};
pub use run::RunCtx;
pub use spec::{ArgSpec, EventSpec, ModelError, ModelSpec};

use kfuncs::{cast, cgroup, cpumask, dynptr, iter, obj, regions, task};
use kfvm_kfunc::{
    kfunc_set, BpfProgType as T, DtorKfunc, FilterVerdict, KfuncFilter, KfuncRegistry, KfuncSet, NestedTrust,
    RegisterError,
};
use types::*;

/// What to register besides Linux 6.18's core kfuncs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CoreOptions {
    /// Also declare the legacy kfuncs older kernels had (`bpf_cgroup_kptr_get`, deprecated,
    /// KF_KPTR_GET), registered to the hooks they had.
    pub legacy: bool,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions { legacy: true }
    }
}

/// The program types `generic_btf_ids` is registered for (kernel/bpf/helpers.c).
pub const GENERIC_PROG_TYPES: [T; 6] =
    [T::Tracing, T::SchedCls, T::Xdp, T::StructOps, T::Syscall, T::CgroupSkb];
/// The program types `cpumask_kfunc_btf_ids` is registered for (kernel/bpf/cpumask.c).
pub const CPUMASK_PROG_TYPES: [T; 3] = [T::Tracing, T::StructOps, T::Syscall];
/// The program types `bpf_kfunc_check_set_skb` is registered for (net/core/filter.c).
pub const SKB_PROG_TYPES: [T; 11] = [
    T::SchedCls,
    T::SchedAct,
    T::SkSkb,
    T::SocketFilter,
    T::CgroupSkb,
    T::LwtOut,
    T::LwtIn,
    T::LwtXmit,
    T::LwtSeg6local,
    T::Netfilter,
    T::Tracing,
];
/// The program types `bpf_kfunc_check_set_skb_meta` is registered for (net/core/filter.c).
pub const SKB_META_PROG_TYPES: [T; 2] = [T::SchedCls, T::SchedAct];

/// `common_btf_ids` (kernel/bpf/helpers.c): the core kfuncs every program type may call.
pub fn common_btf_ids() -> KfuncSet {
    kfunc_set!(common_btf_ids {
        cast::bpf_cast_to_kern_ctx,
        cast::bpf_rdonly_cast,
        regions::bpf_rcu_read_lock,
        regions::bpf_rcu_read_unlock,
        dynptr::bpf_dynptr_slice,
        dynptr::bpf_dynptr_slice_rdwr,
        iter::bpf_iter_num_new,
        iter::bpf_iter_num_next,
        iter::bpf_iter_num_destroy,
        dynptr::bpf_dynptr_adjust,
        dynptr::bpf_dynptr_is_null,
        dynptr::bpf_dynptr_is_rdonly,
        dynptr::bpf_dynptr_size,
        dynptr::bpf_dynptr_clone,
        dynptr::bpf_dynptr_copy,
        dynptr::bpf_dynptr_memset,
        dynptr::bpf_probe_read_user_dynptr,
        dynptr::bpf_probe_read_kernel_dynptr,
        dynptr::bpf_probe_read_user_str_dynptr,
        dynptr::bpf_probe_read_kernel_str_dynptr,
        dynptr::bpf_copy_from_user_dynptr,
        dynptr::bpf_copy_from_user_str_dynptr,
        dynptr::bpf_copy_from_user_task_dynptr,
        dynptr::bpf_copy_from_user_task_str_dynptr,
        regions::bpf_preempt_disable,
        regions::bpf_preempt_enable,
        regions::bpf_local_irq_save,
        regions::bpf_local_irq_restore,
    })
}

/// `generic_btf_ids` (kernel/bpf/helpers.c): objects, graphs, tasks and cgroups.
pub fn generic_btf_ids() -> KfuncSet {
    kfunc_set!(generic_btf_ids {
        obj::bpf_obj_new_impl,
        obj::bpf_percpu_obj_new_impl,
        obj::bpf_obj_drop_impl,
        obj::bpf_percpu_obj_drop_impl,
        obj::bpf_refcount_acquire_impl,
        obj::bpf_list_push_front_impl,
        obj::bpf_list_push_back_impl,
        obj::bpf_list_pop_front,
        obj::bpf_list_pop_back,
        obj::bpf_list_front,
        obj::bpf_list_back,
        task::bpf_task_acquire,
        task::bpf_task_release,
        obj::bpf_rbtree_remove,
        obj::bpf_rbtree_add_impl,
        obj::bpf_rbtree_first,
        obj::bpf_rbtree_root,
        obj::bpf_rbtree_left,
        obj::bpf_rbtree_right,
        cgroup::bpf_cgroup_acquire,
        cgroup::bpf_cgroup_release,
        cgroup::bpf_cgroup_ancestor,
        cgroup::bpf_cgroup_from_id,
        task::bpf_task_under_cgroup,
        task::bpf_task_get_cgroup1,
        task::bpf_task_from_pid,
        task::bpf_task_from_vpid,
    })
}

/// `cpumask_kfunc_btf_ids` (kernel/bpf/cpumask.c): all 26 cpumask kfuncs.
pub fn cpumask_kfunc_btf_ids() -> KfuncSet {
    kfunc_set!(cpumask_kfunc_btf_ids {
        cpumask::bpf_cpumask_create,
        cpumask::bpf_cpumask_release,
        cpumask::bpf_cpumask_acquire,
        cpumask::bpf_cpumask_first,
        cpumask::bpf_cpumask_first_zero,
        cpumask::bpf_cpumask_first_and,
        cpumask::bpf_cpumask_set_cpu,
        cpumask::bpf_cpumask_clear_cpu,
        cpumask::bpf_cpumask_test_cpu,
        cpumask::bpf_cpumask_test_and_set_cpu,
        cpumask::bpf_cpumask_test_and_clear_cpu,
        cpumask::bpf_cpumask_setall,
        cpumask::bpf_cpumask_clear,
        cpumask::bpf_cpumask_and,
        cpumask::bpf_cpumask_or,
        cpumask::bpf_cpumask_xor,
        cpumask::bpf_cpumask_equal,
        cpumask::bpf_cpumask_intersects,
        cpumask::bpf_cpumask_subset,
        cpumask::bpf_cpumask_empty,
        cpumask::bpf_cpumask_full,
        cpumask::bpf_cpumask_copy,
        cpumask::bpf_cpumask_any_distribute,
        cpumask::bpf_cpumask_any_and_distribute,
        cpumask::bpf_cpumask_weight,
        cpumask::bpf_cpumask_populate,
    })
}

/// The kfuncs of `qdisc_kfunc_ids` (net/sched/bpf_qdisc.c); kfvm models only
/// `bpf_dynptr_from_skb` among them, but the filter knows the whole set.
const QDISC_KFUNC_IDS: [&str; 7] = [
    "bpf_skb_get_hash",
    "bpf_kfree_skb",
    "bpf_qdisc_skb_drop",
    "bpf_dynptr_from_skb",
    "bpf_qdisc_watchdog_schedule",
    "bpf_qdisc_init_prologue",
    "bpf_qdisc_reset_destroy_epilogue",
];

/// `bpf_qdisc_kfunc_filter()` (net/sched/bpf_qdisc.c): programs of other struct_ops types are
/// not restricted; a `Qdisc_ops` program sees the common qdisc kfuncs (`bpf_skb_get_hash`,
/// `bpf_kfree_skb`, `bpf_dynptr_from_skb`) and the ones of its own operation.
pub fn bpf_qdisc_kfunc_filter() -> KfuncFilter {
    KfuncFilter::new("bpf_qdisc_kfunc_filter", |prog, kfunc| {
        if prog.struct_ops_type.as_deref() != Some("Qdisc_ops") {
            return FilterVerdict::Visible;
        }
        // "Skip the check when prog->attach_func_name is not yet available during check_cfg()."
        let Some(op) = prog.attach_func_name.as_deref() else { return FilterVerdict::Visible };
        if !QDISC_KFUNC_IDS.contains(&kfunc.name) {
            return FilterVerdict::Visible;
        }
        let per_op: &[&str] = match op {
            "enqueue" => &["bpf_qdisc_skb_drop", "bpf_qdisc_watchdog_schedule"],
            "dequeue" => &["bpf_qdisc_watchdog_schedule"],
            "init" => &["bpf_qdisc_init_prologue"],
            "reset" | "destroy" => &["bpf_qdisc_reset_destroy_epilogue"],
            _ => &[],
        };
        let common = ["bpf_skb_get_hash", "bpf_kfree_skb", "bpf_dynptr_from_skb"];
        if per_op.contains(&kfunc.name) || common.contains(&kfunc.name) {
            FilterVerdict::Visible
        } else {
            FilterVerdict::Hidden
        }
    })
}

/// Registers the kernel model's types and core kfuncs in `reg`, as Linux 6.18 does: the same
/// sets for the same program types, the destructors of kptr-storable types, the nested-pointer
/// trust lists and `rcu_protected_types`.
pub fn register_core(reg: &mut KfuncRegistry, opts: CoreOptions) -> Result<(), RegisterError> {
    // The types programs read, whether or not a kfunc mentions them.
    reg.add_type::<TaskStruct>()?;
    reg.add_type::<Cgroup>()?;
    reg.add_type::<CssSet>()?;
    reg.add_type::<CgroupSubsysState>()?;
    reg.add_type::<CgroupRoot>()?;
    reg.add_type::<KernfsNode>()?;
    reg.add_type::<BpfCpumask>()?;
    reg.add_type::<MmStruct>()?;
    reg.add_type::<File>()?;
    reg.add_type::<Inode>()?;
    reg.add_type::<Cred>()?;
    reg.add_type::<SkBuffUapi>()?;
    reg.add_type::<SkBuff>()?;
    reg.add_type::<XdpMd>()?;
    reg.add_type::<Ethhdr>()?;
    reg.add_type::<Iphdr>()?;
    reg.add_type::<PtRegs>()?;
    for (name, ret, params) in functions::ALL {
        reg.declare_function(name, ret, params)?;
    }
    reg.add_type::<tracepoints::TaskNewtask>()?;
    reg.add_type::<tracepoints::SchedProcessFork>()?;
    reg.add_type::<tracepoints::SchedProcessExit>()?;
    reg.add_type::<tracepoints::SchedSwitch>()?;
    reg.add_type::<tracepoints::CgroupMkdir>()?;
    reg.add_type::<tracepoints::CgroupRmdir>()?;
    reg.add_type::<BpfIterNum>()?;
    reg.add_type::<BpfDynptr>()?;
    reg.add_type::<BpfListHead>()?;
    reg.add_type::<BpfListNode>()?;
    reg.add_type::<BpfRbRoot>()?;
    reg.add_type::<BpfRbNode>()?;
    reg.add_type::<BpfRefcount>()?;

    // kernel/bpf/helpers.c: kfunc_init()
    let generic = generic_btf_ids();
    for t in GENERIC_PROG_TYPES {
        reg.register_kfunc_id_set(t, &generic)?;
    }
    reg.register_dtor_kfuncs(&[
        DtorKfunc::new::<TaskStruct>(&task::bpf_task_release_dtor::KFUNC),
        DtorKfunc::new::<Cgroup>(&cgroup::bpf_cgroup_release_dtor::KFUNC),
    ])?;
    reg.register_kfunc_id_set(T::Unspec, &common_btf_ids())?;

    // kernel/bpf/cpumask.c: cpumask_kfunc_init()
    let cpumask = cpumask_kfunc_btf_ids();
    for t in CPUMASK_PROG_TYPES {
        reg.register_kfunc_id_set(t, &cpumask)?;
    }
    reg.register_dtor_kfuncs(&[DtorKfunc::new::<BpfCpumask>(&cpumask::bpf_cpumask_release_dtor::KFUNC)])?;

    // net/core/filter.c: bpf_kfunc_init()
    let skb = kfunc_set!(bpf_kfunc_check_set_skb { dynptr::bpf_dynptr_from_skb });
    for t in SKB_PROG_TYPES {
        reg.register_kfunc_id_set(t, &skb)?;
    }
    let skb_meta = kfunc_set!(bpf_kfunc_check_set_skb_meta { dynptr::bpf_dynptr_from_skb_meta });
    for t in SKB_META_PROG_TYPES {
        reg.register_kfunc_id_set(t, &skb_meta)?;
    }
    reg.register_kfunc_id_set(T::Xdp, &kfunc_set!(bpf_kfunc_check_set_xdp { dynptr::bpf_dynptr_from_xdp }))?;

    // net/sched/bpf_qdisc.c: bpf_qdisc_kfunc_init() (only bpf_dynptr_from_skb is modelled)
    let qdisc = kfunc_set!(qdisc_kfunc_ids { dynptr::bpf_dynptr_from_skb }).filter(bpf_qdisc_kfunc_filter());
    reg.register_kfunc_id_set(T::StructOps, &qdisc)?;

    if opts.legacy {
        let legacy = kfunc_set!(kfvm_legacy_btf_ids { cgroup::bpf_cgroup_kptr_get });
        for t in GENERIC_PROG_TYPES {
            reg.register_kfunc_id_set(t, &legacy)?;
        }
    }

    // kernel/bpf/verifier.c: BTF_TYPE_SAFE_RCU / _OR_NULL / TRUSTED (for the modelled types)
    reg.declare_nested_trust::<TaskStruct>(
        NestedTrust::Rcu,
        &["cpus_ptr", "cgroups", "real_parent", "group_leader"],
    )?;
    reg.declare_nested_trust::<Cgroup>(NestedTrust::Rcu, &["kn"])?;
    reg.declare_nested_trust::<CssSet>(NestedTrust::Rcu, &["dfl_cgrp"])?;
    reg.declare_nested_trust::<CgroupSubsysState>(NestedTrust::Rcu, &["cgroup"])?;
    reg.declare_nested_trust::<MmStruct>(NestedTrust::RcuOrNull, &["exe_file"])?;
    reg.declare_nested_trust::<File>(NestedTrust::Trusted, &["f_inode"])?;

    // kernel/bpf/verifier.c: BTF_ID_LIST(rcu_protected_types) (for the modelled types)
    reg.add_rcu_protected_type::<Cgroup>()?;
    reg.add_rcu_protected_type::<BpfCpumask>()?;
    reg.add_rcu_protected_type::<TaskStruct>()?;
    Ok(())
}

/// A registry holding the kernel model ([`register_core`] with `opts`).
pub fn registry_with(opts: CoreOptions) -> KfuncRegistry {
    let mut reg = KfuncRegistry::new();
    if let Err(e) = register_core(&mut reg, opts) {
        unreachable!("kfvm bug: the built-in kfunc catalogue was refused: {e}");
    }
    reg
}

/// A registry holding the kernel model with the legacy kfuncs.
pub fn registry() -> KfuncRegistry {
    registry_with(CoreOptions::default())
}
