//! The host-call ABI: how a program calls helpers and kfuncs.
//!
//! A host function receives the [`CallCtx`] of the run and the program's R1–R5 as plain `u64`s,
//! and returns R0. Arguments are never boxed or marshalled, so the interpreter and a JIT call the
//! same function pointer the same way (System V: the context in `rdi`, R1–R5 in `rsi`, `rdx`,
//! `rcx`, `r8`, `r9`, R0 from `rax`).

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
}

/// The context a host function runs in: the embedding host's data, and the program's memory.
#[derive(Debug)]
pub struct CallCtx {
    host: *mut c_void,
    memory: *const Memory,
    pub(crate) stop: Option<Stop>,
}

impl CallCtx {
    pub(crate) fn new(host: *mut c_void, memory: *const Memory) -> Self {
        CallCtx { host, memory, stop: None }
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

    /// Whether the program may read (or, with `write`, write) `len` bytes at `addr`: the same
    /// check the checked interpreter makes on its own loads and stores.
    pub fn can_access(&self, addr: u64, len: u64, write: bool) -> bool {
        // SAFETY: `memory` points at the run's `Memory`, which outlives every host call of the run.
        unsafe { &*self.memory }.contains(addr, len, write)
    }
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
