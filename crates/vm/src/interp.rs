//! The interpreter.
//!
//! It executes the slots of a [`Program`] directly, dispatching on the opcode byte, with the
//! semantics of Linux 6.18's interpreter (`___bpf_prog_run` in kernel/bpf/core.c) and RFC 9669:
//!
//! - 32-bit ALU results are zero-extended into the 64-bit register;
//! - shift amounts are masked to the operand width;
//! - unsigned and signed division by zero give 0; modulo by zero leaves the dividend (truncated to
//!   32 bits for 32-bit operations); `MIN / -1` gives `MIN` and `MIN % -1` gives 0;
//! - atomics are real atomic operations, so programs may share memory across threads;
//! - `may_goto` falls through until its frame has done `BPF_MAX_LOOPS` iterations, then jumps;
//! - bpf-to-bpf calls get a fresh 512-byte frame, keep the caller's R6–R9, and nest at most
//!   `MAX_CALL_FRAMES` deep.
//!
//! In *checked* mode every load and store is checked against the stack and the regions the host
//! gave the run; in *verified* mode those checks are skipped because the verifier has proved them.
//!
//! # Dispatch
//!
//! Each opcode has its own handler function, and a handler ends by looking up the next
//! instruction's handler in a table and calling it in tail position, which an optimising build
//! compiles to an indirect jump. So every handler has its own dispatch branch, and the CPU predicts
//! the next opcode from the current one, rather than predicting every opcode from the one indirect
//! jump a shared `match` compiles to. Further, each handler exists in [`PHASES`] copies, one for the
//! slots whose index is each value modulo `PHASES`, with one table each: a copy's dispatch then has
//! fewer distinct successors to tell apart (in clang's xorshift loop, `r4 = r1` and `r3 = r4` are
//! followed by different shifts; as copies of different phases they predict without history). On
//! that loop (`benches/interp.rs`) the shared `match` ran at about 2.2 ns per instruction, one
//! handler per opcode at 1.45, and four phases at 0.95. Conditional jumps dispatch from two separate
//! sites so that the next instruction's address comes from branch prediction, not from a
//! conditional move that would make every later fetch wait for the compared registers.
//!
//! Tail calls are not guaranteed, so a handler returns to the driver loop in
//! [`Interpreter::execute`] at least every [`YIELD_EVERY`] instructions, which bounds the native
//! stack a chain of handlers can use when they are not turned into jumps (in debug builds). The
//! same test of the instruction budget does both: the budget is counted down before each
//! instruction, and the driver tells a yield from an exhausted budget.

use crate::error::VmError;
use crate::host::{CallCtx, Stop};
use crate::mem::{Memory, Region, RunMemory};
use crate::program::{Program, CALLBACK_RET, PROBE_MEM, PROBE_MEMSX, SENTINEL};
use core::ffi::c_void;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kfvm_isa::RawInsn;

mod callback;

/// Bytes of stack per frame (`MAX_BPF_STACK`).
pub const STACK_SIZE: usize = 512;
/// Most nested frames, the main function's included (`MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;
/// Iterations a frame's `may_goto` allows before it jumps (`BPF_MAX_LOOPS`).
pub const MAY_GOTO_LOOPS: u64 = 8 * 1024 * 1024;
/// Default instruction budget of a run.
pub const DEFAULT_BUDGET: u64 = 1 << 32;

/// Handlers return to the driver loop whenever the remaining budget is a multiple of this (a power
/// of two), and so at least this often.
const YIELD_EVERY: u64 = 256;

/// Each handler has this many copies, one for the slots of each phase (slot index modulo
/// `PHASES`): a copy's dispatch then has fewer distinct successors to predict. Four copies of the
/// handlers of both modes take about 115 KiB of code; eight did no better on the benchmarks.
const PHASES: usize = 4;

#[derive(Clone, Copy, Debug)]
struct Frame {
    ret_pc: usize,
    /// The caller's R6–R10.
    saved: [u64; 5],
    /// The caller's `may_goto` counter.
    may_goto: u64,
}

/// An interpreter: its stack and configuration, reused across runs.
#[derive(Debug)]
pub struct Interpreter {
    stack: Box<[u64]>,
    frames: Vec<Frame>,
    budget: u64,
}

impl Default for Interpreter {
    fn default() -> Self {
        Self::new()
    }
}

impl Interpreter {
    /// An interpreter with the default instruction budget.
    pub fn new() -> Self {
        Interpreter {
            stack: vec![0u64; STACK_SIZE * MAX_CALL_FRAMES / 8].into_boxed_slice(),
            frames: Vec::with_capacity(MAX_CALL_FRAMES),
            budget: DEFAULT_BUDGET,
        }
    }

    /// Sets the number of instructions a run may execute before it is stopped.
    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget.max(1);
    }

    /// The instruction budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Runs `prog` in checked mode: R1..R5 from `args`, every memory access checked against the
    /// stack and `regions`. `host` is handed to host functions through [`CallCtx::host_data`].
    pub fn run(
        &mut self,
        prog: &Program,
        args: &[u64],
        regions: &[Region],
        host: *mut c_void,
    ) -> Result<u64, VmError> {
        self.run_in(prog, args, &RunMemory::regions(regions), host)
    }

    /// Runs `prog` in checked mode with the memory `mem` describes: its regions, memory the
    /// host resolves on demand, and whether faulting loads read 0.
    pub fn run_in(
        &mut self,
        prog: &Program,
        args: &[u64],
        mem: &RunMemory<'_>,
        host: *mut c_void,
    ) -> Result<u64, VmError> {
        self.stack.fill(0);
        self.execute::<Checked>(prog, args, mem, host)
    }

    /// Runs `prog` in verified mode: memory accesses are not checked.
    ///
    /// # Safety
    ///
    /// The verifier must have proved that every load and store of `prog` stays inside the stack
    /// and memory the program is given, and that atomics are aligned.
    pub unsafe fn run_verified(
        &mut self,
        prog: &Program,
        args: &[u64],
        regions: &[Region],
        host: *mut c_void,
    ) -> Result<u64, VmError> {
        // SAFETY: the caller's obligation, as stated above.
        unsafe { self.run_verified_in(prog, args, &RunMemory::regions(regions), host) }
    }

    /// Runs `prog` in verified mode with the memory `mem` describes. Loads and stores are not
    /// checked, except what host functions check ([`CallCtx::can_access`]).
    ///
    /// # Safety
    ///
    /// As for [`Interpreter::run_verified`].
    pub unsafe fn run_verified_in(
        &mut self,
        prog: &Program,
        args: &[u64],
        mem: &RunMemory<'_>,
        host: *mut c_void,
    ) -> Result<u64, VmError> {
        self.execute::<Verified>(prog, args, mem, host)
    }

    #[inline(never)]
    fn execute<M: Mode>(
        &mut self,
        prog: &Program,
        args: &[u64],
        mem: &RunMemory<'_>,
        host: *mut c_void,
    ) -> Result<u64, VmError> {
        let stack_base = self.stack.as_mut_ptr() as u64;
        let stack_len = (self.stack.len() * 8) as u64;
        let memory = Memory::new(Region { start: stack_base, len: stack_len, writable: true }, mem);
        self.frames.clear();
        let base = prog.code.as_ptr();
        let mut vm = Vm::<M> {
            // Sixteen registers so that a 4-bit register field indexes without a bounds check;
            // only 0..=10 are ever named by a loaded program.
            reg: [0u64; 16],
            base,
            prog,
            memory: &memory,
            cctx: callback::call_ctx::<M>(prog, host, &memory, self.budget),
            frames: &mut self.frames,
            may_goto: MAY_GOTO_LOOPS,
            ip: base,
            remaining: 0,
            result: Ok(0),
            mode: PhantomData,
        };
        for (r, a) in vm.reg[1..6].iter_mut().zip(args) {
            *r = *a;
        }
        vm.reg[10] = stack_base + stack_len;

        // `next` counts an instruction down before running it and stops at zero, so a budget of
        // n allows exactly n instructions.
        let mut exit = next(&mut vm, base, self.budget.saturating_add(1), 0);
        loop {
            match exit {
                Exit::Done => return vm.result,
                Exit::Yield => {
                    if vm.remaining == 0 {
                        return Err(VmError::BudgetExhausted { pc: vm.pc(vm.ip), budget: self.budget });
                    }
                    let (ip, remaining) = (vm.ip, vm.remaining);
                    // SAFETY: `ip` is an instruction start or the sentinel (see `next`).
                    let code = unsafe { (*ip).code };
                    exit = M::TABLES[vm.pc(ip) & (PHASES - 1)][code as usize](&mut vm, ip, remaining);
                }
            }
        }
    }
}

/// Checked or verified execution: the mode handlers are instantiated for, with its handler table.
trait Mode: Sized + 'static {
    /// Whether loads and stores are checked.
    const CHECKED: bool;
    /// The handler of each opcode byte, for each phase.
    const TABLES: &'static [[Handler<Self>; 256]; PHASES];
}

/// Checked mode.
struct Checked;
/// Verified mode.
struct Verified;

impl Mode for Checked {
    const CHECKED: bool = true;
    const TABLES: &'static [[Handler<Self>; 256]; PHASES] = &tables::<Checked>();
}

impl Mode for Verified {
    const CHECKED: bool = false;
    const TABLES: &'static [[Handler<Self>; 256]; PHASES] = &tables::<Verified>();
}

/// What a handler tells the driver loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Exit {
    /// The run is over: its result is in `Vm::result`.
    Done,
    /// The budget ran down to a multiple of [`YIELD_EVERY`] before the instruction at `Vm::ip`,
    /// and `Vm::remaining` is what is left of it.
    Yield,
}

/// An opcode's handler: runs the instruction at `ip` (whose budget is already counted), then the
/// rest of the program, or returns to the driver loop. `remaining` is never 0.
///
/// Handlers are generic over the phase `P` of the slots they run at, and pass the phase of the
/// next slot to [`next`]; only branch prediction depends on phases, never what a program computes.
type Handler<M> = for<'a, 'b> fn(&'b mut Vm<'a, M>, *const RawInsn, u64) -> Exit;

/// The state of one run.
struct Vm<'a, M> {
    reg: [u64; 16],
    /// Slot 0 of the executable copy of the program.
    base: *const RawInsn,
    prog: &'a Program,
    memory: &'a Memory<'a>,
    cctx: CallCtx,
    frames: &'a mut Vec<Frame>,
    may_goto: u64,
    /// Where the run resumes after a yield, and the budget left then.
    ip: *const RawInsn,
    remaining: u64,
    /// The run's result, once a handler returns `Exit::Done`.
    result: Result<u64, VmError>,
    mode: PhantomData<M>,
}

impl<M> Vm<'_, M> {
    /// The slot index of `ip`.
    #[inline(always)]
    fn pc(&self, ip: *const RawInsn) -> usize {
        // SAFETY: handlers only make pointers into the executable copy (see `next`).
        unsafe { ip.offset_from(self.base) as usize }
    }

    #[cold]
    #[inline(never)]
    fn finish(&mut self, result: Result<u64, VmError>) -> Exit {
        self.result = result;
        Exit::Done
    }
}

/// Counts one instruction of the budget and runs the instruction at `ip` (or yields).
///
/// Loading proved that every jump and call target is an instruction start in `0..len`,
/// straight-line execution advances by one slot (two for `lddw`, whose second slot exists) and the
/// slot at `len` is the sentinel, which ends the run; so `ip` is always an instruction start in
/// `0..=len` here, and the executable copy has `len + 1` slots.
#[inline(always)]
fn next<M: Mode>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64, phase: usize) -> Exit {
    let remaining = remaining - 1;
    if remaining & (YIELD_EVERY - 1) == 0 {
        vm.ip = ip;
        vm.remaining = remaining;
        return Exit::Yield;
    }
    // SAFETY: `ip` is an instruction start or the sentinel, as above.
    let code = unsafe { (*ip).code };
    M::TABLES[phase][code as usize](vm, ip, remaining)
}

/// The phase of the slot `advance` slots after one of phase `P`.
#[inline(always)]
const fn phase<const P: usize>(advance: isize) -> usize {
    (P as isize).wrapping_add(advance) as usize & (PHASES - 1)
}

/// Defines a handler. The body sees the instruction's fields (`d`, `s`, `off`, `imm`, the
/// registers `reg`), and its value is the number of slots to advance by.
macro_rules! handler {
    ($name:ident, |$vm:ident, $ip:ident, $insn:ident, $reg:ident, $d:ident, $s:ident, $off:ident, $imm:ident| $body:expr) => {
        #[allow(unused_variables, unused_mut)]
        fn $name<M: Mode, const P: usize>($vm: &mut Vm<'_, M>, $ip: *const RawInsn, remaining: u64) -> Exit {
            // SAFETY: handlers run only at instruction starts (see `next`).
            let $insn = unsafe { *$ip };
            let $d = ($insn.regs & 0xf) as usize;
            let $s = ($insn.regs >> 4) as usize;
            let $off = $insn.off;
            let $imm = $insn.imm;
            let advance: isize = {
                let $reg = &mut $vm.reg;
                $body
            };
            // SAFETY: `advance` lands on an instruction start or the sentinel (see `next`).
            next($vm, unsafe { $ip.offset(advance) }, remaining, phase::<P>(advance))
        }
    };
}

/// A handler that updates a register: `reg`, `d`, `s`, `off`, `imm` as for `handler!`.
macro_rules! alu {
    ($name:ident, |$reg:ident, $d:ident, $s:ident, $off:ident, $imm:ident| $body:expr) => {
        handler!($name, |vm, ip, insn, $reg, $d, $s, $off, $imm| {
            $body;
            1
        });
    };
}

/// A conditional jump on `cond`.
///
/// The two outcomes continue through two separate dispatches, which keeps the next instruction's
/// address a matter of branch prediction: were it computed (a conditional move), every later
/// instruction fetch would wait for the compared registers.
macro_rules! jump_if {
    ($name:ident, |$reg:ident, $d:ident, $s:ident, $imm:ident| $cond:expr) => {
        #[allow(unused_variables)]
        fn $name<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
            // SAFETY: handlers run only at instruction starts (see `next`).
            let insn = unsafe { *ip };
            let $d = (insn.regs & 0xf) as usize;
            let $s = (insn.regs >> 4) as usize;
            let $imm = insn.imm;
            let $reg = &vm.reg;
            if $cond {
                // SAFETY: loading checked that the target is an instruction start.
                next(
                    vm,
                    unsafe { ip.offset(1 + insn.off as isize) },
                    remaining,
                    phase::<P>(1 + insn.off as isize),
                )
            } else {
                // SAFETY: a jump is one slot.
                next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
            }
        }
    };
}

// ---- BPF_ALU64 ----
alu!(add64_k, |reg, d, s, off, imm| reg[d] = reg[d].wrapping_add(imm as i64 as u64));
alu!(add64_x, |reg, d, s, off, imm| reg[d] = reg[d].wrapping_add(reg[s]));
alu!(sub64_k, |reg, d, s, off, imm| reg[d] = reg[d].wrapping_sub(imm as i64 as u64));
alu!(sub64_x, |reg, d, s, off, imm| reg[d] = reg[d].wrapping_sub(reg[s]));
alu!(mul64_k, |reg, d, s, off, imm| reg[d] = reg[d].wrapping_mul(imm as i64 as u64));
alu!(mul64_x, |reg, d, s, off, imm| reg[d] = reg[d].wrapping_mul(reg[s]));
alu!(div64_k, |reg, d, s, off, imm| reg[d] = div64(reg[d], imm as i64 as u64, off));
alu!(div64_x, |reg, d, s, off, imm| reg[d] = div64(reg[d], reg[s], off));
alu!(or64_k, |reg, d, s, off, imm| reg[d] |= imm as i64 as u64);
alu!(or64_x, |reg, d, s, off, imm| reg[d] |= reg[s]);
alu!(and64_k, |reg, d, s, off, imm| reg[d] &= imm as i64 as u64);
alu!(and64_x, |reg, d, s, off, imm| reg[d] &= reg[s]);
alu!(lsh64_k, |reg, d, s, off, imm| reg[d] <<= imm as u32 & 63);
alu!(lsh64_x, |reg, d, s, off, imm| reg[d] <<= reg[s] as u32 & 63);
alu!(rsh64_k, |reg, d, s, off, imm| reg[d] >>= imm as u32 & 63);
alu!(rsh64_x, |reg, d, s, off, imm| reg[d] >>= reg[s] as u32 & 63);
alu!(neg64, |reg, d, s, off, imm| reg[d] = (reg[d] as i64).wrapping_neg() as u64);
alu!(mod64_k, |reg, d, s, off, imm| reg[d] = mod64(reg[d], imm as i64 as u64, off));
alu!(mod64_x, |reg, d, s, off, imm| reg[d] = mod64(reg[d], reg[s], off));
alu!(xor64_k, |reg, d, s, off, imm| reg[d] ^= imm as i64 as u64);
alu!(xor64_x, |reg, d, s, off, imm| reg[d] ^= reg[s]);
alu!(mov64_k, |reg, d, s, off, imm| reg[d] = imm as i64 as u64);
alu!(mov64_x, |reg, d, s, off, imm| {
    reg[d] = match off {
        0 => reg[s],
        8 => reg[s] as i8 as i64 as u64,
        16 => reg[s] as i16 as i64 as u64,
        32 => reg[s] as i32 as i64 as u64,
        // addr_space_cast: kfvm has no arenas; a cast keeps the address.
        _ => reg[s],
    }
});
alu!(arsh64_k, |reg, d, s, off, imm| reg[d] = ((reg[d] as i64) >> (imm as u32 & 63)) as u64);
alu!(arsh64_x, |reg, d, s, off, imm| reg[d] = ((reg[d] as i64) >> (reg[s] as u32 & 63)) as u64);
alu!(bswap64, |reg, d, s, off, imm| {
    reg[d] = match imm {
        16 => (reg[d] as u16).swap_bytes() as u64,
        32 => (reg[d] as u32).swap_bytes() as u64,
        _ => reg[d].swap_bytes(),
    }
});

// ---- BPF_ALU ----
alu!(add32_k, |reg, d, s, off, imm| reg[d] = (reg[d] as u32).wrapping_add(imm as u32) as u64);
alu!(add32_x, |reg, d, s, off, imm| reg[d] = (reg[d] as u32).wrapping_add(reg[s] as u32) as u64);
alu!(sub32_k, |reg, d, s, off, imm| reg[d] = (reg[d] as u32).wrapping_sub(imm as u32) as u64);
alu!(sub32_x, |reg, d, s, off, imm| reg[d] = (reg[d] as u32).wrapping_sub(reg[s] as u32) as u64);
alu!(mul32_k, |reg, d, s, off, imm| reg[d] = (reg[d] as u32).wrapping_mul(imm as u32) as u64);
alu!(mul32_x, |reg, d, s, off, imm| reg[d] = (reg[d] as u32).wrapping_mul(reg[s] as u32) as u64);
alu!(div32_k, |reg, d, s, off, imm| reg[d] = div32(reg[d] as u32, imm as u32, off) as u64);
alu!(div32_x, |reg, d, s, off, imm| reg[d] = div32(reg[d] as u32, reg[s] as u32, off) as u64);
alu!(or32_k, |reg, d, s, off, imm| reg[d] = (reg[d] as u32 | imm as u32) as u64);
alu!(or32_x, |reg, d, s, off, imm| reg[d] = (reg[d] as u32 | reg[s] as u32) as u64);
alu!(and32_k, |reg, d, s, off, imm| reg[d] = (reg[d] as u32 & imm as u32) as u64);
alu!(and32_x, |reg, d, s, off, imm| reg[d] = (reg[d] as u32 & reg[s] as u32) as u64);
alu!(lsh32_k, |reg, d, s, off, imm| reg[d] = ((reg[d] as u32) << (imm as u32 & 31)) as u64);
alu!(lsh32_x, |reg, d, s, off, imm| reg[d] = ((reg[d] as u32) << (reg[s] as u32 & 31)) as u64);
alu!(rsh32_k, |reg, d, s, off, imm| reg[d] = ((reg[d] as u32) >> (imm as u32 & 31)) as u64);
alu!(rsh32_x, |reg, d, s, off, imm| reg[d] = ((reg[d] as u32) >> (reg[s] as u32 & 31)) as u64);
alu!(neg32, |reg, d, s, off, imm| reg[d] = (reg[d] as i32).wrapping_neg() as u32 as u64);
alu!(mod32_k, |reg, d, s, off, imm| reg[d] = mod32(reg[d] as u32, imm as u32, off) as u64);
alu!(mod32_x, |reg, d, s, off, imm| reg[d] = mod32(reg[d] as u32, reg[s] as u32, off) as u64);
alu!(xor32_k, |reg, d, s, off, imm| reg[d] = (reg[d] as u32 ^ imm as u32) as u64);
alu!(xor32_x, |reg, d, s, off, imm| reg[d] = (reg[d] as u32 ^ reg[s] as u32) as u64);
alu!(mov32_k, |reg, d, s, off, imm| reg[d] = imm as u32 as u64);
alu!(mov32_x, |reg, d, s, off, imm| {
    reg[d] = match off {
        0 => reg[s] as u32,
        8 => reg[s] as i8 as i32 as u32,
        _ => reg[s] as i16 as i32 as u32,
    } as u64
});
alu!(arsh32_k, |reg, d, s, off, imm| reg[d] = ((reg[d] as i32) >> (imm as u32 & 31)) as u32 as u64);
alu!(arsh32_x, |reg, d, s, off, imm| reg[d] = ((reg[d] as i32) >> (reg[s] as u32 & 31)) as u32 as u64);
alu!(to_le, |reg, d, s, off, imm| {
    reg[d] = match imm {
        16 => reg[d] as u16 as u64,
        32 => reg[d] as u32 as u64,
        _ => reg[d],
    }
});
alu!(to_be, |reg, d, s, off, imm| {
    reg[d] = match imm {
        16 => (reg[d] as u16).swap_bytes() as u64,
        32 => (reg[d] as u32).swap_bytes() as u64,
        _ => reg[d].swap_bytes(),
    }
});

// ---- BPF_JMP ----
handler!(ja, |vm, ip, insn, reg, d, s, off, imm| 1 + off as isize);
jump_if!(jeq_k, |reg, d, s, imm| reg[d] == imm as i64 as u64);
jump_if!(jeq_x, |reg, d, s, imm| reg[d] == reg[s]);
jump_if!(jgt_k, |reg, d, s, imm| reg[d] > imm as i64 as u64);
jump_if!(jgt_x, |reg, d, s, imm| reg[d] > reg[s]);
jump_if!(jge_k, |reg, d, s, imm| reg[d] >= imm as i64 as u64);
jump_if!(jge_x, |reg, d, s, imm| reg[d] >= reg[s]);
jump_if!(jset_k, |reg, d, s, imm| reg[d] & imm as i64 as u64 != 0);
jump_if!(jset_x, |reg, d, s, imm| reg[d] & reg[s] != 0);
jump_if!(jne_k, |reg, d, s, imm| reg[d] != imm as i64 as u64);
jump_if!(jne_x, |reg, d, s, imm| reg[d] != reg[s]);
jump_if!(jsgt_k, |reg, d, s, imm| reg[d] as i64 > imm as i64);
jump_if!(jsgt_x, |reg, d, s, imm| reg[d] as i64 > reg[s] as i64);
jump_if!(jsge_k, |reg, d, s, imm| reg[d] as i64 >= imm as i64);
jump_if!(jsge_x, |reg, d, s, imm| reg[d] as i64 >= reg[s] as i64);
jump_if!(jlt_k, |reg, d, s, imm| reg[d] < imm as i64 as u64);
jump_if!(jlt_x, |reg, d, s, imm| reg[d] < reg[s]);
jump_if!(jle_k, |reg, d, s, imm| reg[d] <= imm as i64 as u64);
jump_if!(jle_x, |reg, d, s, imm| reg[d] <= reg[s]);
jump_if!(jslt_k, |reg, d, s, imm| (reg[d] as i64) < imm as i64);
jump_if!(jslt_x, |reg, d, s, imm| (reg[d] as i64) < reg[s] as i64);
jump_if!(jsle_k, |reg, d, s, imm| reg[d] as i64 <= imm as i64);
jump_if!(jsle_x, |reg, d, s, imm| reg[d] as i64 <= reg[s] as i64);
handler!(may_goto, |vm, ip, insn, reg, d, s, off, imm| {
    if vm.may_goto == 0 {
        1 + off as isize
    } else {
        vm.may_goto -= 1;
        1
    }
});

fn call<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let insn = unsafe { *ip };
    let pc = vm.pc(ip);
    let reg = &mut vm.reg;
    if insn.regs >> 4 == kfvm_isa::opcode::PSEUDO_CALL {
        if vm.frames.len() + 1 >= MAX_CALL_FRAMES {
            return vm.finish(Err(VmError::CallDepth { pc, max: MAX_CALL_FRAMES }));
        }
        vm.frames.push(Frame {
            ret_pc: pc + 1,
            saved: [reg[6], reg[7], reg[8], reg[9], reg[10]],
            may_goto: vm.may_goto,
        });
        vm.may_goto = MAY_GOTO_LOOPS;
        // Wrapping: a program may have overwritten R10 (the loader does not refuse that), and
        // then the new frame pointer is as meaningless as the old one, but no reason to panic.
        reg[10] = reg[10].wrapping_sub(STACK_SIZE as u64);
        // SAFETY: loading checked that the target is an instruction start.
        next(vm, unsafe { ip.offset(1 + insn.imm as isize) }, remaining, phase::<P>(1 + insn.imm as isize))
    } else {
        // Helper or kfunc: `imm` was rewritten to an index into `calls` at load.
        let f = vm.prog.calls[insn.imm as usize];
        vm.cctx.reentry.fp = reg[10];
        vm.cctx.reentry.depth = vm.frames.len();
        vm.cctx.reentry.remaining = remaining;
        reg[0] = f(&mut vm.cctx, reg[1], reg[2], reg[3], reg[4], reg[5]);
        if let Some(stop) = vm.cctx.stop.take() {
            return vm.finish(stop_run(stop, pc));
        }
        // Callbacks the host ran count against the budget (never down to 0: they stop first).
        let remaining = vm.cctx.reentry.remaining;
        // SAFETY: a call is one slot.
        next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
    }
}

fn callx<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let insn = unsafe { *ip };
    let id = vm.reg[(insn.regs & 0xf) as usize];
    let Some(f) = i32::try_from(id).ok().and_then(|id| vm.prog.helpers.get(&id)) else {
        let pc = vm.pc(ip);
        return vm.finish(Err(VmError::UnknownHelper { pc, id }));
    };
    let reg = &mut vm.reg;
    vm.cctx.reentry.fp = reg[10];
    vm.cctx.reentry.depth = vm.frames.len();
    vm.cctx.reentry.remaining = remaining;
    reg[0] = f(&mut vm.cctx, reg[1], reg[2], reg[3], reg[4], reg[5]);
    if let Some(stop) = vm.cctx.stop.take() {
        let pc = vm.pc(ip);
        return vm.finish(stop_run(stop, pc));
    }
    let remaining = vm.cctx.reentry.remaining;
    // SAFETY: `callx` is one slot.
    next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
}

fn exit<M: Mode>(vm: &mut Vm<'_, M>, _: *const RawInsn, remaining: u64) -> Exit {
    match vm.frames.pop() {
        None => {
            vm.result = Ok(vm.reg[0]);
            Exit::Done
        }
        Some(f) => {
            vm.reg[6..11].copy_from_slice(&f.saved);
            vm.may_goto = f.may_goto;
            // SAFETY: `ret_pc` follows a call, which is one slot, so it is an instruction start or
            // the sentinel.
            next(vm, unsafe { vm.base.add(f.ret_pc) }, remaining, f.ret_pc & (PHASES - 1))
        }
    }
}

// ---- BPF_JMP32 ----
handler!(ja32, |vm, ip, insn, reg, d, s, off, imm| 1 + imm as isize);
jump_if!(jeq32_k, |reg, d, s, imm| reg[d] as u32 == imm as u32);
jump_if!(jeq32_x, |reg, d, s, imm| reg[d] as u32 == reg[s] as u32);
jump_if!(jgt32_k, |reg, d, s, imm| reg[d] as u32 > imm as u32);
jump_if!(jgt32_x, |reg, d, s, imm| reg[d] as u32 > reg[s] as u32);
jump_if!(jge32_k, |reg, d, s, imm| reg[d] as u32 >= imm as u32);
jump_if!(jge32_x, |reg, d, s, imm| reg[d] as u32 >= reg[s] as u32);
jump_if!(jset32_k, |reg, d, s, imm| reg[d] as u32 & imm as u32 != 0);
jump_if!(jset32_x, |reg, d, s, imm| reg[d] as u32 & reg[s] as u32 != 0);
jump_if!(jne32_k, |reg, d, s, imm| reg[d] as u32 != imm as u32);
jump_if!(jne32_x, |reg, d, s, imm| reg[d] as u32 != reg[s] as u32);
jump_if!(jsgt32_k, |reg, d, s, imm| reg[d] as i32 > imm);
jump_if!(jsgt32_x, |reg, d, s, imm| reg[d] as i32 > reg[s] as i32);
jump_if!(jsge32_k, |reg, d, s, imm| reg[d] as i32 >= imm);
jump_if!(jsge32_x, |reg, d, s, imm| reg[d] as i32 >= reg[s] as i32);
jump_if!(jlt32_k, |reg, d, s, imm| (reg[d] as u32) < imm as u32);
jump_if!(jlt32_x, |reg, d, s, imm| (reg[d] as u32) < reg[s] as u32);
jump_if!(jle32_k, |reg, d, s, imm| reg[d] as u32 <= imm as u32);
jump_if!(jle32_x, |reg, d, s, imm| reg[d] as u32 <= reg[s] as u32);
jump_if!(jslt32_k, |reg, d, s, imm| (reg[d] as i32) < imm);
jump_if!(jslt32_x, |reg, d, s, imm| (reg[d] as i32) < reg[s] as i32);
jump_if!(jsle32_k, |reg, d, s, imm| reg[d] as i32 <= imm);
jump_if!(jsle32_x, |reg, d, s, imm| reg[d] as i32 <= reg[s] as i32);

// ---- BPF_LD ----
handler!(lddw, |vm, ip, insn, reg, d, s, off, imm| {
    // SAFETY: loading checked that a `lddw` has its second slot.
    let hi = unsafe { (*ip.add(1)).imm };
    reg[d] = (imm as u32 as u64) | ((hi as u32 as u64) << 32);
    2
});

fn ld_packet<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let insn = unsafe { *ip };
    // Legacy packet loads read the packet in R6's context; kfvm takes the first host region as the
    // packet. Out of bounds ends the program with R0 = 0, as in the kernel.
    let base = if insn.code & 0xe0 == 0x40 { vm.reg[(insn.regs >> 4) as usize] as i64 } else { 0 };
    let off = base.wrapping_add(insn.imm as i64);
    let size = kfvm_isa::Size::from_code(insn.code).bytes() as u64;
    let Some(pkt) = vm.memory.regions.first() else { return vm.finish(Ok(0)) };
    if off < 0 || off as u64 > pkt.len || size > pkt.len - off as u64 {
        return vm.finish(Ok(0));
    }
    let p = pkt.start + off as u64;
    // SAFETY: inside the packet region, checked just above.
    vm.reg[0] = unsafe {
        match size {
            1 => *(p as *const u8) as u64,
            2 => u16::from_be(core::ptr::read_unaligned(p as *const u16)) as u64,
            _ => u32::from_be(core::ptr::read_unaligned(p as *const u32)) as u64,
        }
    };
    // SAFETY: a legacy packet load is one slot.
    next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
}

/// Ends the run with an out-of-bounds error.
#[cold]
#[inline(never)]
fn out_of_bounds<M>(vm: &mut Vm<'_, M>, ip: *const RawInsn, write: bool, addr: u64, size: u64) -> Exit {
    let pc = vm.pc(ip);
    let kind = if write { "write" } else { "read" };
    vm.finish(Err(VmError::OutOfBounds { pc, kind, addr, size: size as usize }))
}

/// In checked mode, ends the run unless `size` bytes at `addr` may be accessed.
macro_rules! mem_check {
    ($vm:ident, $ip:ident, $addr:expr, $size:expr, $write:expr) => {
        if M::CHECKED && !$vm.memory.contains($addr, $size, $write) {
            return out_of_bounds($vm, $ip, $write, $addr, $size);
        }
    };
}

/// A load of `$t`, widened to `u64` as `$t as $wide as u64`.
macro_rules! load {
    ($name:ident, $t:ty, $wide:ty) => {
        fn $name<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
            // SAFETY: handlers run only at instruction starts (see `next`).
            let insn = unsafe { *ip };
            let addr = vm.reg[(insn.regs >> 4) as usize].wrapping_add(insn.off as i64 as u64);
            let size = core::mem::size_of::<$t>() as u64;
            let v = if M::CHECKED && !vm.memory.contains(addr, size, false) {
                if !vm.memory.probe_loads {
                    return out_of_bounds(vm, ip, false, addr, size);
                }
                0 // a faulting BPF_PROBE_MEM load reads 0
            } else {
                // SAFETY: checked mode proved the range is inside readable memory; verified mode
                // relies on the verifier's proof (the caller's obligation in `run_verified`).
                unsafe { core::ptr::read_unaligned(addr as *const $t) }
            };
            vm.reg[(insn.regs & 0xf) as usize] = v as $wide as u64;
            // SAFETY: a load is one slot.
            next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
        }
    };
}

/// A `BPF_PROBE_MEM` load of `$t` ([`Program::mark_probe_mem`]), widened as `load!`'s: checked in
/// every mode, and 0 where the address is not readable, as a faulting load in the kernel.
macro_rules! probe_load {
    ($name:ident, $t:ty, $wide:ty) => {
        fn $name<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
            // SAFETY: handlers run only at instruction starts (see `next`).
            let insn = unsafe { *ip };
            let addr = vm.reg[(insn.regs >> 4) as usize].wrapping_add(insn.off as i64 as u64);
            let size = core::mem::size_of::<$t>() as u64;
            let v = if vm.memory.contains(addr, size, false) {
                // SAFETY: the range was just found inside readable memory.
                unsafe { core::ptr::read_unaligned(addr as *const $t) }
            } else {
                0
            };
            vm.reg[(insn.regs & 0xf) as usize] = v as $wide as u64;
            // SAFETY: a load is one slot.
            next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
        }
    };
}

/// A store of the low bits of `imm` (`$imm` true) or of the source register.
macro_rules! store {
    ($name:ident, $t:ty, $imm:expr) => {
        fn $name<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
            // SAFETY: handlers run only at instruction starts (see `next`).
            let insn = unsafe { *ip };
            let addr = vm.reg[(insn.regs & 0xf) as usize].wrapping_add(insn.off as i64 as u64);
            let v = if $imm { insn.imm as i64 as u64 } else { vm.reg[(insn.regs >> 4) as usize] };
            mem_check!(vm, ip, addr, core::mem::size_of::<$t>() as u64, true);
            // SAFETY: as for `load!`, for a writable region.
            unsafe { core::ptr::write_unaligned(addr as *mut $t, v as $t) };
            // SAFETY: a store is one slot.
            next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
        }
    };
}

// ---- BPF_LDX ----
load!(ldx_b, u8, u8);
load!(ldx_h, u16, u16);
load!(ldx_w, u32, u32);
load!(ldx_dw, u64, u64);
load!(ldsx_b, i8, i64);
load!(ldsx_h, i16, i64);
load!(ldsx_w, i32, i64);
// ---- BPF_LDX | BPF_PROBE_MEM(SX) ----
probe_load!(probe_ldx_b, u8, u8);
probe_load!(probe_ldx_h, u16, u16);
probe_load!(probe_ldx_w, u32, u32);
probe_load!(probe_ldx_dw, u64, u64);
probe_load!(probe_ldsx_b, i8, i64);
probe_load!(probe_ldsx_h, i16, i64);
probe_load!(probe_ldsx_w, i32, i64);
// ---- BPF_ST ----
store!(st_b, u8, true);
store!(st_h, u16, true);
store!(st_w, u32, true);
store!(st_dw, u64, true);
// ---- BPF_STX ----
store!(stx_b, u8, false);
store!(stx_h, u16, false);
store!(stx_w, u32, false);
store!(stx_dw, u64, false);

/// In checked mode, ends the run unless `$t` at `addr` may be written and is aligned; then the
/// atomic at `addr`.
macro_rules! atomic_ref {
    ($vm:ident, $ip:ident, $t:ty, $at:ty, $addr:expr) => {{
        let addr: u64 = $addr;
        let size = core::mem::size_of::<$t>() as u64;
        mem_check!($vm, $ip, addr, size, true);
        if M::CHECKED && addr % size != 0 {
            let pc = $vm.pc($ip);
            return $vm.finish(Err(VmError::MisalignedAtomic { pc, addr, size: size as usize }));
        }
        // SAFETY: in bounds and aligned, as checked above or proved by the verifier; all
        // concurrent accesses to program memory from kfvm go through atomics or are racy in the
        // same way as in the kernel.
        unsafe { <$at>::from_ptr(addr as *mut $t) }
    }};
}

// ---- BPF_STX | BPF_ATOMIC ----
fn atomic64<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let insn = unsafe { *ip };
    let (d, s, off, imm) = ((insn.regs & 0xf) as usize, (insn.regs >> 4) as usize, insn.off, insn.imm);
    let addr = vm.reg[d].wrapping_add(off as i64 as u64);
    if imm == kfvm_isa::AtomicOp::LOAD_ACQ {
        let addr = vm.reg[s].wrapping_add(off as i64 as u64);
        vm.reg[d] = atomic_ref!(vm, ip, u64, AtomicU64, addr).load(Ordering::Acquire);
    } else if imm == kfvm_isa::AtomicOp::STORE_REL {
        atomic_ref!(vm, ip, u64, AtomicU64, addr).store(vm.reg[s], Ordering::Release);
    } else {
        let a = atomic_ref!(vm, ip, u64, AtomicU64, addr);
        let v = vm.reg[s];
        let old = match imm & !1 {
            0x00 => a.fetch_add(v, Ordering::SeqCst),
            0x40 => a.fetch_or(v, Ordering::SeqCst),
            0x50 => a.fetch_and(v, Ordering::SeqCst),
            0xa0 => a.fetch_xor(v, Ordering::SeqCst),
            0xe0 => a.swap(v, Ordering::SeqCst),
            _ => match a.compare_exchange(vm.reg[0], v, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(o) | Err(o) => o,
            },
        };
        if imm == kfvm_isa::AtomicOp::CMPXCHG {
            vm.reg[0] = old;
        } else if imm & 1 != 0 {
            vm.reg[s] = old;
        }
    }
    // SAFETY: an atomic is one slot.
    next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
}

fn atomic32<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let insn = unsafe { *ip };
    let (d, s, off, imm) = ((insn.regs & 0xf) as usize, (insn.regs >> 4) as usize, insn.off, insn.imm);
    let addr = vm.reg[d].wrapping_add(off as i64 as u64);
    if imm == kfvm_isa::AtomicOp::LOAD_ACQ {
        let addr = vm.reg[s].wrapping_add(off as i64 as u64);
        vm.reg[d] = atomic_ref!(vm, ip, u32, AtomicU32, addr).load(Ordering::Acquire) as u64;
    } else if imm == kfvm_isa::AtomicOp::STORE_REL {
        atomic_ref!(vm, ip, u32, AtomicU32, addr).store(vm.reg[s] as u32, Ordering::Release);
    } else {
        let a = atomic_ref!(vm, ip, u32, AtomicU32, addr);
        let v = vm.reg[s] as u32;
        let old = match imm & !1 {
            0x00 => a.fetch_add(v, Ordering::SeqCst),
            0x40 => a.fetch_or(v, Ordering::SeqCst),
            0x50 => a.fetch_and(v, Ordering::SeqCst),
            0xa0 => a.fetch_xor(v, Ordering::SeqCst),
            0xe0 => a.swap(v, Ordering::SeqCst),
            _ => match a.compare_exchange(vm.reg[0] as u32, v, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(o) | Err(o) => o,
            },
        };
        if imm == kfvm_isa::AtomicOp::CMPXCHG {
            vm.reg[0] = old as u64;
        } else if imm & 1 != 0 {
            vm.reg[s] = old as u64;
        }
    }
    // SAFETY: an atomic is one slot.
    next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
}

/// Load-acquire / store-release of 8 and 16 bits. x86-64 gives both orderings to plain loads and
/// stores; the fences keep the ordering on every target.
fn acq_rel_small<M: Mode, const P: usize>(vm: &mut Vm<'_, M>, ip: *const RawInsn, remaining: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let insn = unsafe { *ip };
    let (d, s, off, imm) = ((insn.regs & 0xf) as usize, (insn.regs >> 4) as usize, insn.off, insn.imm);
    let size = if insn.code == 0xd3 { 1u64 } else { 2 };
    if imm == kfvm_isa::AtomicOp::LOAD_ACQ {
        let addr = vm.reg[s].wrapping_add(off as i64 as u64);
        mem_check!(vm, ip, addr, size, false);
        // SAFETY: as for `load!`.
        let v = unsafe {
            if size == 1 {
                core::ptr::read_unaligned(addr as *const u8) as u64
            } else {
                core::ptr::read_unaligned(addr as *const u16) as u64
            }
        };
        core::sync::atomic::fence(Ordering::Acquire);
        vm.reg[d] = v;
    } else {
        let addr = vm.reg[d].wrapping_add(off as i64 as u64);
        core::sync::atomic::fence(Ordering::Release);
        mem_check!(vm, ip, addr, size, true);
        // SAFETY: as for `store!`.
        unsafe {
            if size == 1 {
                core::ptr::write_unaligned(addr as *mut u8, vm.reg[s] as u8);
            } else {
                core::ptr::write_unaligned(addr as *mut u16, vm.reg[s] as u16);
            }
        }
    }
    // SAFETY: an atomic is one slot.
    next(vm, unsafe { ip.add(1) }, remaining, phase::<P>(1))
}

fn fell_off_end<M>(vm: &mut Vm<'_, M>, ip: *const RawInsn, _: u64) -> Exit {
    let pc = vm.pc(ip);
    vm.finish(Err(VmError::FellOffEnd { pc }))
}

fn invalid<M>(_: &mut Vm<'_, M>, ip: *const RawInsn, _: u64) -> Exit {
    // SAFETY: handlers run only at instruction starts (see `next`).
    let other = unsafe { (*ip).code };
    unreachable!("opcode {other:#04x} passed Program::load")
}

/// The handler tables of every phase.
const fn tables<M: Mode>() -> [[Handler<M>; 256]; PHASES] {
    [table::<M, 0>(), table::<M, 1>(), table::<M, 2>(), table::<M, 3>()]
}

/// The handler of each opcode byte, for instructions at slots of phase `P`.
const fn table<M: Mode, const P: usize>() -> [Handler<M>; 256] {
    let mut t: [Handler<M>; 256] = [invalid::<M>; 256];
    // ---- BPF_ALU64 ----
    t[0x07] = add64_k::<M, P>;
    t[0x0f] = add64_x::<M, P>;
    t[0x17] = sub64_k::<M, P>;
    t[0x1f] = sub64_x::<M, P>;
    t[0x27] = mul64_k::<M, P>;
    t[0x2f] = mul64_x::<M, P>;
    t[0x37] = div64_k::<M, P>;
    t[0x3f] = div64_x::<M, P>;
    t[0x47] = or64_k::<M, P>;
    t[0x4f] = or64_x::<M, P>;
    t[0x57] = and64_k::<M, P>;
    t[0x5f] = and64_x::<M, P>;
    t[0x67] = lsh64_k::<M, P>;
    t[0x6f] = lsh64_x::<M, P>;
    t[0x77] = rsh64_k::<M, P>;
    t[0x7f] = rsh64_x::<M, P>;
    t[0x87] = neg64::<M, P>;
    t[0x97] = mod64_k::<M, P>;
    t[0x9f] = mod64_x::<M, P>;
    t[0xa7] = xor64_k::<M, P>;
    t[0xaf] = xor64_x::<M, P>;
    t[0xb7] = mov64_k::<M, P>;
    t[0xbf] = mov64_x::<M, P>;
    t[0xc7] = arsh64_k::<M, P>;
    t[0xcf] = arsh64_x::<M, P>;
    t[0xd7] = bswap64::<M, P>;
    // ---- BPF_ALU ----
    t[0x04] = add32_k::<M, P>;
    t[0x0c] = add32_x::<M, P>;
    t[0x14] = sub32_k::<M, P>;
    t[0x1c] = sub32_x::<M, P>;
    t[0x24] = mul32_k::<M, P>;
    t[0x2c] = mul32_x::<M, P>;
    t[0x34] = div32_k::<M, P>;
    t[0x3c] = div32_x::<M, P>;
    t[0x44] = or32_k::<M, P>;
    t[0x4c] = or32_x::<M, P>;
    t[0x54] = and32_k::<M, P>;
    t[0x5c] = and32_x::<M, P>;
    t[0x64] = lsh32_k::<M, P>;
    t[0x6c] = lsh32_x::<M, P>;
    t[0x74] = rsh32_k::<M, P>;
    t[0x7c] = rsh32_x::<M, P>;
    t[0x84] = neg32::<M, P>;
    t[0x94] = mod32_k::<M, P>;
    t[0x9c] = mod32_x::<M, P>;
    t[0xa4] = xor32_k::<M, P>;
    t[0xac] = xor32_x::<M, P>;
    t[0xb4] = mov32_k::<M, P>;
    t[0xbc] = mov32_x::<M, P>;
    t[0xc4] = arsh32_k::<M, P>;
    t[0xcc] = arsh32_x::<M, P>;
    t[0xd4] = to_le::<M, P>;
    t[0xdc] = to_be::<M, P>;
    // ---- BPF_JMP ----
    t[0x05] = ja::<M, P>;
    t[0x15] = jeq_k::<M, P>;
    t[0x1d] = jeq_x::<M, P>;
    t[0x25] = jgt_k::<M, P>;
    t[0x2d] = jgt_x::<M, P>;
    t[0x35] = jge_k::<M, P>;
    t[0x3d] = jge_x::<M, P>;
    t[0x45] = jset_k::<M, P>;
    t[0x4d] = jset_x::<M, P>;
    t[0x55] = jne_k::<M, P>;
    t[0x5d] = jne_x::<M, P>;
    t[0x65] = jsgt_k::<M, P>;
    t[0x6d] = jsgt_x::<M, P>;
    t[0x75] = jsge_k::<M, P>;
    t[0x7d] = jsge_x::<M, P>;
    t[0xa5] = jlt_k::<M, P>;
    t[0xad] = jlt_x::<M, P>;
    t[0xb5] = jle_k::<M, P>;
    t[0xbd] = jle_x::<M, P>;
    t[0xc5] = jslt_k::<M, P>;
    t[0xcd] = jslt_x::<M, P>;
    t[0xd5] = jsle_k::<M, P>;
    t[0xdd] = jsle_x::<M, P>;
    t[0xe5] = may_goto::<M, P>;
    t[0x85] = call::<M, P>;
    t[0x8d] = callx::<M, P>;
    t[0x95] = exit::<M>;
    // ---- BPF_JMP32 ----
    t[0x06] = ja32::<M, P>;
    t[0x16] = jeq32_k::<M, P>;
    t[0x1e] = jeq32_x::<M, P>;
    t[0x26] = jgt32_k::<M, P>;
    t[0x2e] = jgt32_x::<M, P>;
    t[0x36] = jge32_k::<M, P>;
    t[0x3e] = jge32_x::<M, P>;
    t[0x46] = jset32_k::<M, P>;
    t[0x4e] = jset32_x::<M, P>;
    t[0x56] = jne32_k::<M, P>;
    t[0x5e] = jne32_x::<M, P>;
    t[0x66] = jsgt32_k::<M, P>;
    t[0x6e] = jsgt32_x::<M, P>;
    t[0x76] = jsge32_k::<M, P>;
    t[0x7e] = jsge32_x::<M, P>;
    t[0xa6] = jlt32_k::<M, P>;
    t[0xae] = jlt32_x::<M, P>;
    t[0xb6] = jle32_k::<M, P>;
    t[0xbe] = jle32_x::<M, P>;
    t[0xc6] = jslt32_k::<M, P>;
    t[0xce] = jslt32_x::<M, P>;
    t[0xd6] = jsle32_k::<M, P>;
    t[0xde] = jsle32_x::<M, P>;
    // ---- BPF_LD ----
    t[0x18] = lddw::<M, P>;
    t[0x20] = ld_packet::<M, P>;
    t[0x28] = ld_packet::<M, P>;
    t[0x30] = ld_packet::<M, P>;
    t[0x40] = ld_packet::<M, P>;
    t[0x48] = ld_packet::<M, P>;
    t[0x50] = ld_packet::<M, P>;
    // ---- BPF_LDX ----
    t[0x71] = ldx_b::<M, P>;
    t[0x69] = ldx_h::<M, P>;
    t[0x61] = ldx_w::<M, P>;
    t[0x79] = ldx_dw::<M, P>;
    t[0x91] = ldsx_b::<M, P>;
    t[0x89] = ldsx_h::<M, P>;
    t[0x81] = ldsx_w::<M, P>;
    // ---- BPF_LDX | BPF_PROBE_MEM(SX): only from Program::mark_probe_mem ----
    t[PROBE_MEM as usize | 0x10] = probe_ldx_b::<M, P>;
    t[PROBE_MEM as usize | 0x08] = probe_ldx_h::<M, P>;
    t[PROBE_MEM as usize] = probe_ldx_w::<M, P>;
    t[PROBE_MEM as usize | 0x18] = probe_ldx_dw::<M, P>;
    t[PROBE_MEMSX as usize | 0x10] = probe_ldsx_b::<M, P>;
    t[PROBE_MEMSX as usize | 0x08] = probe_ldsx_h::<M, P>;
    t[PROBE_MEMSX as usize] = probe_ldsx_w::<M, P>;
    // ---- BPF_ST ----
    t[0x72] = st_b::<M, P>;
    t[0x6a] = st_h::<M, P>;
    t[0x62] = st_w::<M, P>;
    t[0x7a] = st_dw::<M, P>;
    // ---- BPF_STX ----
    t[0x73] = stx_b::<M, P>;
    t[0x6b] = stx_h::<M, P>;
    t[0x63] = stx_w::<M, P>;
    t[0x7b] = stx_dw::<M, P>;
    // ---- BPF_STX | BPF_ATOMIC ----
    t[0xdb] = atomic64::<M, P>;
    t[0xc3] = atomic32::<M, P>;
    t[0xd3] = acq_rel_small::<M, P>;
    t[0xcb] = acq_rel_small::<M, P>;
    t[SENTINEL as usize] = fell_off_end::<M>;
    t[CALLBACK_RET as usize] = callback::callback_return::<M>;
    t
}

#[cold]
fn stop_run(stop: Stop, pc: usize) -> Result<u64, VmError> {
    match stop {
        Stop::Return(r0) => Ok(r0),
        Stop::Error(message) => Err(VmError::Host { pc, message }),
        Stop::Fault(e) => Err(e),
    }
}

#[inline(always)]
fn div64(a: u64, b: u64, off: i16) -> u64 {
    if b == 0 {
        0
    } else if off == 0 {
        a / b
    } else {
        (a as i64).wrapping_div(b as i64) as u64
    }
}

#[inline(always)]
fn mod64(a: u64, b: u64, off: i16) -> u64 {
    if b == 0 {
        a
    } else if off == 0 {
        a % b
    } else {
        (a as i64).wrapping_rem(b as i64) as u64
    }
}

#[inline(always)]
fn div32(a: u32, b: u32, off: i16) -> u32 {
    if b == 0 {
        0
    } else if off == 0 {
        a / b
    } else {
        (a as i32).wrapping_div(b as i32) as u32
    }
}

#[inline(always)]
fn mod32(a: u32, b: u32, off: i16) -> u32 {
    if b == 0 {
        a
    } else if off == 0 {
        a % b
    } else {
        (a as i32).wrapping_rem(b as i32) as u32
    }
}
