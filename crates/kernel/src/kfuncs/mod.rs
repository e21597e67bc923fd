//! The core kfuncs, one module per family, declared with the prototypes of the live Linux
//! 6.18 BTF and the flags of its `BTF_ID_FLAGS` entries.
//!
//! Implemented kfuncs are ordinary `#[kfunc]` functions taking `ctx: &mut CallCtx`: they find the
//! run's [`crate::RunCtx`] behind it, check every pointer they are given against the model's
//! objects (a run the verifier did not check may pass anything) and act as the kernel's do. The
//! ones still in `declare!` blocks end the run with "kfunc NAME is not implemented by this host
//! yet" ([`kfvm_kfunc::abi::not_implemented`]).

pub mod cast;
pub mod cgroup;
pub mod cpumask;
pub mod dynptr;
pub mod iter;
pub mod obj;
pub mod regions;
pub mod task;
