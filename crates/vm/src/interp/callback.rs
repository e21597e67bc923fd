//! Callbacks: a host function running one of the program's functions
//! ([`CallCtx::call_bpf`]), as `bpf_loop` runs its `callback_fn`.
//!
//! The callback runs in a nested [`Vm`] over the same program, memory and stack: its frame
//! goes below the caller's (R10 − 512, as a bpf-to-bpf call's would), its frames count towards
//! [`MAX_CALL_FRAMES`] on top of the caller's, and its instructions are taken from the run's
//! budget. Its `exit` returns to a sentinel slot ([`CALLBACK_RET`]) that ends the nested run
//! with R0.

use super::*;
use crate::host::FUNC_ADDR_BASE;

/// The context of a run's host calls, able to run callbacks in mode `M`.
pub(super) fn call_ctx<M: Mode>(
    prog: &Program,
    host: *mut c_void,
    memory: &Memory<'_>,
    budget: u64,
) -> CallCtx {
    let mut c = CallCtx::new(host, memory);
    c.reentry.run = Some(run_callback::<M>);
    c.reentry.prog = prog as *const Program as *const c_void;
    c.reentry.budget = budget;
    c
}

/// Runs the function at slot `pc` with R1–R5 = `args`; on success, gives back to `cctx` what is
/// left of the budget.
fn run_callback<M: Mode>(cctx: &mut CallCtx, pc: usize, args: [u64; 5]) -> Result<u64, VmError> {
    let r = cctx.reentry;
    // SAFETY: `call_ctx` set `prog` to the program of the run this host call belongs to, which
    // outlives the run.
    let prog: &Program = unsafe { &*(r.prog as *const Program) };
    if prog.callbacks.binary_search(&pc).is_err() {
        return Err(VmError::BadCallback { addr: FUNC_ADDR_BASE + 8 * pc as u64 });
    }
    if r.depth + 1 >= MAX_CALL_FRAMES {
        return Err(VmError::CallDepth { pc, max: MAX_CALL_FRAMES });
    }
    // SAFETY: `memory` points at the run's `Memory`, which outlives every host call of the run.
    let memory: &Memory<'_> = unsafe { &*cctx.memory };
    let unused = Frame { ret_pc: 0, saved: [0; 5], may_goto: 0 };
    let mut frames = Vec::with_capacity(MAX_CALL_FRAMES);
    // The caller's frames stand below: never returned to, since the callback's own frame, on
    // top, returns to the sentinel first.
    frames.resize(r.depth, unused);
    frames.push(Frame { ret_pc: prog.code.len() - 1, ..unused });
    let base = prog.code.as_ptr();
    let mut vm = Vm::<M> {
        reg: [0u64; 16],
        base,
        prog,
        memory,
        cctx: call_ctx::<M>(prog, cctx.host_data(), memory, r.budget),
        frames: &mut frames,
        may_goto: MAY_GOTO_LOOPS,
        ip: base,
        remaining: 0,
        result: Ok(0),
        mode: PhantomData,
    };
    vm.reg[1..6].copy_from_slice(&args);
    vm.reg[10] = r.fp.wrapping_sub(STACK_SIZE as u64);
    // SAFETY: `pc` is a callback target, which loading checked is an instruction start.
    let mut exit = next(&mut vm, unsafe { base.add(pc) }, r.remaining, pc & (PHASES - 1));
    loop {
        match exit {
            Exit::Done => break,
            Exit::Yield => {
                if vm.remaining == 0 {
                    return Err(VmError::BudgetExhausted { pc: vm.pc(vm.ip), budget: r.budget });
                }
                let (ip, remaining) = (vm.ip, vm.remaining);
                // SAFETY: `ip` is an instruction start or a sentinel (see `next`).
                let code = unsafe { (*ip).code };
                exit = M::TABLES[vm.pc(ip) & (PHASES - 1)][code as usize](&mut vm, ip, remaining);
            }
        }
    }
    let result = core::mem::replace(&mut vm.result, Ok(0));
    if result.is_ok() {
        cctx.reentry.remaining = vm.remaining;
    }
    result
}

/// The handler of the [`CALLBACK_RET`] slot: the callback returned; its R0 is the result.
pub(super) fn callback_return<M>(vm: &mut Vm<'_, M>, _: *const RawInsn, remaining: u64) -> Exit {
    vm.remaining = remaining;
    vm.result = Ok(vm.reg[0]);
    Exit::Done
}
