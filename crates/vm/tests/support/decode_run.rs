//! The `decode_run` fuzz harness, shared by `fuzz/fuzz_targets/decode_run.rs` (which includes this
//! file by path) and the regression and random-program tests beside it.
//!
//! Input layout:
//!
//! - byte 0: flags. Bit 0 prepends a prologue that writes R0 and R6–R9 (so more inputs get past
//!   the loader's register-initialisation check); bits 1–7 are R5's value.
//! - byte 1: `n`, the length of the writable memory region;
//! - the next `n` bytes (or fewer, if the input ends): the region's initial contents;
//! - the rest: the program, cut to whole 8-byte slots. A read-only region holds a copy of it.
//!
//! Each input goes through `raw_from_bytes`, `decode_program` and `Program::load` with a few host
//! functions, then runs in checked mode with a budget of [`BUDGET`] instructions: R1/R2 are the
//! writable region's address and length, R3/R4 the read-only region's.
//!
//! Oracles, besides "no panic" (and, under the fuzzer's AddressSanitizer, "no access outside the
//! regions"): a checked run that ends without a memory fault must be repeatable, and a verified run
//! from the same state must end the same way and leave the same memory, since it executes the same
//! instructions on the same data with the checks that never fired left out.

#![allow(dead_code)]

use kfvm_isa::{decode_program, raw_from_bytes, RawInsn};
use kfvm_vm::{CallCtx, HostFns, Interpreter, LoadError, Program, Region, VmError};

/// Instructions each run may execute.
pub(crate) const BUDGET: u64 = 10_000;

extern "C" fn add3(_: &mut CallCtx, a: u64, b: u64, c: u64, _: u64, _: u64) -> u64 {
    a.wrapping_add(b).wrapping_add(c)
}

/// `copy(dst, src, len)`: copies `len` bytes if the program may write `dst` and read `src`.
extern "C" fn copy(ctx: &mut CallCtx, dst: u64, src: u64, len: u64, _: u64, _: u64) -> u64 {
    if len > 4096 || !ctx.can_access(dst, len, true) || !ctx.can_access(src, len, false) {
        return u64::MAX;
    }
    // SAFETY: both ranges lie inside regions of the run (checked just above), which the harness
    // keeps alive for the run; `copy` allows overlap.
    unsafe { core::ptr::copy(src as *const u8, dst as *mut u8, len as usize) };
    0
}

extern "C" fn stop(ctx: &mut CallCtx, r1: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    ctx.stop_with(r1);
    0
}

extern "C" fn fail(ctx: &mut CallCtx, r1: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    if r1 & 1 != 0 {
        ctx.fail("asked to fail");
    }
    r1
}

/// A kfunc that counts its calls in the host data (a `u64`).
extern "C" fn count(ctx: &mut CallCtx, r1: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: the harness passes a pointer to a live `u64` as the host data.
    let n = unsafe { &mut *(ctx.host_data() as *mut u64) };
    *n += 1;
    *n ^ r1
}

/// The host functions programs may call: helpers 1–4 and kfunc 1000.
pub(crate) fn host() -> HostFns {
    let mut h = HostFns::new();
    h.helper(1, add3).helper(2, copy).helper(3, stop).helper(4, fail).kfunc(1000, count);
    h
}

/// The prologue bit 0 of the flags prepends: R0 = 0, R6..R9 = small constants, R6 also a copy of
/// R1 (a pointer into the writable region).
pub(crate) fn prologue() -> Vec<RawInsn> {
    vec![
        RawInsn::new(0xb7, 0, 0, 0, 0),
        RawInsn::new(0xbf, 6, 1, 0, 0),
        RawInsn::new(0xb7, 7, 0, 0, 8),
        RawInsn::new(0xb7, 8, 0, 0, -1),
        RawInsn::new(0xb7, 9, 0, 0, 0x7fff_ffff),
    ]
}

/// What a run left behind.
#[derive(PartialEq, Eq, Debug)]
struct Outcome {
    result: Result<u64, VmError>,
    mem: Vec<u8>,
    calls: u64,
}

/// How far an input got.
#[derive(Debug)]
pub(crate) enum Reached {
    /// Too short, or refused by the decoder.
    NotDecoded,
    /// Refused by the loader.
    NotLoaded(LoadError),
    /// Ran; how the checked run ended.
    Ran(Result<u64, VmError>),
}

/// Runs one fuzz input. Panics if an oracle fails.
pub(crate) fn decode_run(data: &[u8]) -> Reached {
    let Some((&flags, rest)) = data.split_first() else { return Reached::NotDecoded };
    let Some((&n, rest)) = rest.split_first() else { return Reached::NotDecoded };
    let n = (n as usize).min(rest.len());
    let (init, code) = rest.split_at(n);
    let code = &code[..code.len() / 8 * 8];

    let Ok(mut insns) = raw_from_bytes(code) else { panic!("whole slots must parse") };
    if flags & 1 != 0 {
        insns.splice(0..0, prologue());
    }
    if decode_program(&insns).is_err() {
        return Reached::NotDecoded;
    }
    let prog = match Program::load(&insns, &host()) {
        Ok(prog) => prog,
        Err(e) => return Reached::NotLoaded(e),
    };

    // The run's memory is reached only through raw pointers from here on, as the program does.
    let mut mem_buf = init.to_vec();
    let mem = mem_buf.as_mut_ptr();
    let ro = code.to_vec();
    let calls = core::cell::Cell::new(0u64);
    let host_data = calls.as_ptr() as *mut core::ffi::c_void;
    let w = Region { start: mem as u64, len: n as u64, writable: true };
    let r = Region::readonly(&ro);
    let regions = [w, r];
    let args = [w.start, w.len, r.start, r.len, (flags >> 1) as u64];
    // Puts the memory and the call count back to their initial state.
    let reset = || {
        // SAFETY: `mem` points at `n` bytes of `mem_buf`, which outlives this function.
        unsafe { core::ptr::copy_nonoverlapping(init.as_ptr(), mem, n) };
        calls.set(0);
    };
    // SAFETY: as for `reset`.
    let outcome = |result| Outcome {
        result,
        mem: unsafe { core::slice::from_raw_parts(mem, n) }.to_vec(),
        calls: calls.get(),
    };

    let mut vm = Interpreter::new();
    vm.set_budget(BUDGET);
    let checked = |vm: &mut Interpreter| {
        reset();
        outcome(vm.run(&prog, &args, &regions, host_data))
    };
    let first = checked(&mut vm);
    if matches!(first.result, Err(VmError::OutOfBounds { .. } | VmError::MisalignedAtomic { .. })) {
        return Reached::Ran(first.result);
    }
    let second = checked(&mut vm);
    assert_eq!(first, second, "a checked run is not repeatable");

    // The verified run starts from the state a checked run starts from: the same buffers, the
    // same interpreter (so the same stack address), a zeroed stack. A checked run of `exit`
    // zeroes the stack and touches nothing else.
    let exit = Program::load(&[RawInsn::new(0xb7, 0, 0, 0, 0), RawInsn::new(0x95, 0, 0, 0, 0)], &host())
        .expect("exit loads");
    vm.run(&exit, &[], &[], core::ptr::null_mut()).expect("exit runs");
    reset();
    // SAFETY: the checked run from this same state ended without a memory fault, and a run is
    // deterministic, so this run makes the same accesses, all of which were checked.
    let verified = outcome(unsafe { vm.run_verified(&prog, &args, &regions, host_data) });
    assert_eq!(first, verified, "checked and verified runs differ");
    drop(mem_buf);
    Reached::Ran(first.result)
}
