//! The core kfuncs, one module per family, declared with the prototypes of the live Linux
//! 6.18 BTF and the flags of its `BTF_ID_FLAGS` entries.
//!
//! **Declarations only**: each body ends the run with "kfunc NAME is not implemented by this
//! host yet" ([`kfvm_kfunc::abi::not_implemented`]). Implementations replace the `declare!`
//! entries one by one with ordinary `#[kfunc]` functions taking `ctx: &mut CallCtx`; nothing
//! else changes (the descriptor, BTF and registration come from the attribute).

pub mod cast;
pub mod cgroup;
pub mod cpumask;
pub mod dynptr;
pub mod iter;
pub mod obj;
pub mod regions;
pub mod task;
