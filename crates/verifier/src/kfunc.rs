//! The hook for kfunc calls (`check_kfunc_call()`), filled in by the kfunc rules.
//!
//! A kfunc call reaches [`check_kfunc_call`] from `do_check_insn()` after the reserved-field
//! checks and the spin-lock check (which asks [`kfunc_spin_allowed`]). The function must do what
//! the kernel's does: check the arguments in `R1`..`R5` of the current frame
//! (`env.cur.cur().regs`), acquire or release references (`crate::call::acquire_reference`,
//! `crate::call::release_reference`, `env.cur.refs`), update the RCU/preempt/IRQ region counts
//! (`env.cur.active_rcu_locks`, `active_preempt_locks`, `active_irq_id`), mark `R0`..`R5`
//! `NOT_INIT`, set `R0` (a `PTR_TO_BTF_ID` carries `btf`/`btf_id` and the `PTR_TRUSTED`,
//! `MEM_RCU`, `PTR_UNTRUSTED`, `MEM_ALLOC`, `PTR_MAYBE_NULL` flags, a fresh `id` when it may be
//! NULL, and `ref_obj_id` when acquired), and leave `*insn_idx` at the call.
//! [`kfunc_num_params`] feeds the register liveness pass (`compute_live_registers()`).

use crate::env::Env;
use crate::error::{Result, VerifyError};
use kfvm_isa::RawInsn;

/// Mirrors `check_kfunc_call()`: not in kfvm yet.
pub fn check_kfunc_call(_env: &mut Env<'_>, _insn: RawInsn, _insn_idx: &mut u32) -> Result<()> {
    Err(VerifyError::Unsupported("kfunc calls (check_kfunc_call) are not implemented yet".into()))
}

/// Mirrors `kfunc_spin_allowed()`: whether the kfunc may be called while holding a spin lock.
pub fn kfunc_spin_allowed(_btf_id: i32) -> bool {
    false
}

/// The number of parameters of kfunc `btf_id` in the BTF at `btf_off` (`get_call_summary()`),
/// if known.
pub fn kfunc_num_params(_btf_id: i32, _btf_off: i16) -> Option<usize> {
    None
}
