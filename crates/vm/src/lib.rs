//! Runs BPF programs.
//!
//! [`Program::load`] validates a program and resolves its calls against the host's
//! [`HostFns`]; an [`Interpreter`] runs it, either *checked* (every memory access bounds-checked
//! against the stack and the [`Region`]s the host gave the run: how unverified programs run, and
//! the safety net fuzzing uses) or *verified* (the verifier's proof stands in for the checks).
//! Helpers and kfuncs are plain [`HostFn`]s: R1–R5 in, R0 out, the calling convention a JIT
//! shares.

#![deny(missing_docs)]

mod error;
mod host;
mod interp;
mod mem;
mod program;

pub use error::{LoadError, VmError};
pub use host::{CallCtx, HostFn, HostFns, FUNC_ADDR_BASE};
pub use interp::{Interpreter, DEFAULT_BUDGET, MAX_CALL_FRAMES, MAY_GOTO_LOOPS, STACK_SIZE};
pub use mem::{DynamicMemory, Region, RunMemory};
pub use program::Program;
