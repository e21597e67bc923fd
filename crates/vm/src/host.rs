//! The host-call ABI: how a program calls helpers and kfuncs.
//!
//! A host function receives the [`CallCtx`] of the run and the program's R1–R5 as plain `u64`s,
//! and returns R0. Arguments are never boxed or marshalled, so the interpreter and a JIT call the
//! same function pointer the same way (System V: the context in `rdi`, R1–R5 in `rsi`, `rdx`,
//! `rcx`, `r8`, `r9`, R0 from `rax`).
//!
//! A host function may call back into the program ([`CallCtx::call_bpf`]): that is how helpers
//! such as `bpf_loop` run a BPF callback.

use crate::error::VmError;
use crate::mem::Memory;
use core::ffi::c_void;
use std::collections::BTreeMap;

/// A helper or kfunc implementation.
pub type HostFn = extern "C" fn(ctx: &mut CallCtx, r1: u64, r2: u64, r3: u64, r4: u64, r5: u64) -> u64;

/// What a host function asked the run to do after it returns.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Stop {
    /// End the run now, as if the main function returned this value.
    Return(u64),
    /// End the run with an error.
    Error(String),
    /// End the run with the error a callback run into ([`CallCtx::call_bpf`]).
    Fault(VmError),
}

/// Runs a BPF callback: the interpreter's entry for [`CallCtx::call_bpf`], instantiated for the
/// run's mode.
pub(crate) type ReenterFn = fn(&mut CallCtx, usize, [u64; 5]) -> Result<u64, VmError>;

/// Where the program stood when it called the host: what a callback run needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reentry {
    /// How to run a callback, and the program (`*const Program`); `None` outside an
    /// interpreter run.
    pub(crate) run: Option<ReenterFn>,
    pub(crate) prog: *const c_void,
    /// The caller's frame pointer (R10): the callback's frame goes below it.
    pub(crate) fp: u64,
    /// Frames in use (the caller's included).
    pub(crate) depth: usize,
    /// Instruction budget left; a callback's instructions count against it.
    pub(crate) remaining: u64,
    /// The run's whole budget (for the error when it runs out).
    pub(crate) budget: u64,
}

/// The context a host function runs in: the embedding host's data, and the program's memory.
#[derive(Debug)]
pub struct CallCtx {
    host: *mut c_void,
    pub(crate) memory: *const Memory<'static>,
    pub(crate) stop: Option<Stop>,
    pub(crate) reentry: Reentry,
}

/// Callback addresses handed to a program (`lddw rX, func`) start here: slot `pc` of the program
/// is `FUNC_ADDR_BASE + 8 * pc`, a kernel-text-looking value that is never host memory.
pub const FUNC_ADDR_BASE: u64 = 0xffff_ffff_a000_0000;

impl CallCtx {
    pub(crate) fn new(host: *mut c_void, memory: *const Memory<'_>) -> Self {
        CallCtx {
            host,
            memory: memory.cast::<Memory<'static>>(),
            stop: None,
            reentry: Reentry { run: None, prog: core::ptr::null(), fp: 0, depth: 0, remaining: 0, budget: 0 },
        }
    }

    /// The pointer the host passed when it started the run.
    pub fn host_data(&self) -> *mut c_void {
        self.host
    }

    /// Ends the run after this call returns, with `r0` as the program's result. (The
    /// bpf_conformance suite's "unwind" helper does this.)
    pub fn stop_with(&mut self, r0: u64) {
        self.stop = Some(Stop::Return(r0));
    }

    /// Ends the run with an error after this call returns.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.stop = Some(Stop::Error(message.into()));
    }

    /// Whether the run has been asked to stop ([`CallCtx::fail`], [`CallCtx::stop_with`], or a
    /// callback that failed).
    pub fn stopping(&self) -> bool {
        self.stop.is_some()
    }

    /// Whether the program may read (or, with `write`, write) `len` bytes at `addr`: the same
    /// check the checked interpreter makes on its own loads and stores.
    pub fn can_access(&self, addr: u64, len: u64, write: bool) -> bool {
        // SAFETY: `memory` points at the run's `Memory`, which outlives every host call of the run.
        unsafe { &*self.memory }.contains(addr, len, write)
    }

    /// Calls the BPF function at `func` — a callback address the program passed (`lddw rX,
    /// func`, e.g. `bpf_loop`'s `callback_fn`) — with R1–R5 = `args`, in a new frame below the
    /// caller's, and returns its R0.
    ///
    /// The callback's instructions count against the run's budget and its frame against the
    /// call depth limit. On error (an address that is no callback of the program, a fault in the
    /// callback, the budget running out) the run is also marked to stop with that error once
    /// the host function returns; the host function should return at once.
    pub fn call_bpf(&mut self, func: u64, args: [u64; 5]) -> Result<u64, VmError> {
        let result = match self.reentry.run {
            None => Err(VmError::BadCallback { addr: func }),
            Some(run) => match func_addr_pc(func) {
                Some(pc) => run(self, pc, args),
                None => Err(VmError::BadCallback { addr: func }),
            },
        };
        if let Err(e) = &result {
            self.stop = Some(Stop::Fault(e.clone()));
        }
        result
    }
}

/// The slot a callback address names, if it has the form of one.
pub(crate) fn func_addr_pc(addr: u64) -> Option<usize> {
    let rel = addr.checked_sub(FUNC_ADDR_BASE)?;
    (rel % 8 == 0 && rel / 8 < (1 << 24)).then_some((rel / 8) as usize)
}

/// The host functions a program may call: helpers by number, kfuncs by BTF id.
#[derive(Clone, Default, Debug)]
pub struct HostFns {
    pub(crate) helpers: BTreeMap<i32, HostFn>,
    pub(crate) kfuncs: BTreeMap<i32, HostFn>,
}

impl HostFns {
    /// No functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Provides helper number `id`.
    pub fn helper(&mut self, id: i32, f: HostFn) -> &mut Self {
        self.helpers.insert(id, f);
        self
    }

    /// Provides the kfunc whose BTF id is `btf_id`.
    pub fn kfunc(&mut self, btf_id: i32, f: HostFn) -> &mut Self {
        self.kfuncs.insert(btf_id, f);
        self
    }
}
