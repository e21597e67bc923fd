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

use crate::error::VmError;
use crate::host::{CallCtx, Stop};
use crate::mem::{Memory, Region};
use crate::program::{Program, SENTINEL};
use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kfvm_isa::RawInsn;

/// Bytes of stack per frame (`MAX_BPF_STACK`).
pub const STACK_SIZE: usize = 512;
/// Most nested frames, the main function's included (`MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;
/// Iterations a frame's `may_goto` allows before it jumps (`BPF_MAX_LOOPS`).
pub const MAY_GOTO_LOOPS: u64 = 8 * 1024 * 1024;
/// Default instruction budget of a run.
pub const DEFAULT_BUDGET: u64 = 1 << 32;

#[derive(Clone, Copy, Debug, Default)]
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
        self.stack.fill(0);
        self.execute::<true>(prog, args, regions, host)
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
        self.execute::<false>(prog, args, regions, host)
    }

    #[inline(never)]
    fn execute<const CHECKED: bool>(
        &mut self,
        prog: &Program,
        args: &[u64],
        regions: &[Region],
        host: *mut c_void,
    ) -> Result<u64, VmError> {
        let stack_base = self.stack.as_mut_ptr() as u64;
        let stack_len = (self.stack.len() * 8) as u64;
        let memory = Memory {
            stack: Region { start: stack_base, len: stack_len, writable: true },
            regions: regions.to_vec(),
        };
        let mut cctx = CallCtx::new(host, &memory);
        // Sixteen registers so that a 4-bit register field indexes without a bounds check; only
        // 0..=10 are ever named by a loaded program.
        let mut reg = [0u64; 16];
        for (r, a) in reg[1..6].iter_mut().zip(args) {
            *r = *a;
        }
        reg[10] = stack_base + stack_len;
        self.frames.clear();
        let code: &[RawInsn] = &prog.code;
        let mut pc = 0usize;
        let mut remaining = self.budget;
        let mut may_goto = MAY_GOTO_LOOPS;

        macro_rules! mem_check {
            ($addr:expr, $size:expr, $write:expr) => {
                if CHECKED && !memory.contains($addr, $size, $write) {
                    return Err(VmError::OutOfBounds {
                        pc: pc - 1,
                        kind: if $write { "write" } else { "read" },
                        addr: $addr,
                        size: $size as usize,
                    });
                }
            };
        }
        macro_rules! load {
            ($t:ty, $addr:expr) => {{
                let addr: u64 = $addr;
                mem_check!(addr, core::mem::size_of::<$t>() as u64, false);
                // SAFETY: checked mode proved the range is inside a readable region; verified mode
                // relies on the verifier's proof (the caller's obligation in `run_verified`).
                unsafe { core::ptr::read_unaligned(addr as *const $t) }
            }};
        }
        macro_rules! store {
            ($t:ty, $addr:expr, $val:expr) => {{
                let addr: u64 = $addr;
                mem_check!(addr, core::mem::size_of::<$t>() as u64, true);
                // SAFETY: as for `load!`, for a writable region.
                unsafe { core::ptr::write_unaligned(addr as *mut $t, $val as $t) }
            }};
        }
        macro_rules! atomic_ref {
            ($t:ty, $at:ty, $addr:expr) => {{
                let addr: u64 = $addr;
                let size = core::mem::size_of::<$t>() as u64;
                mem_check!(addr, size, true);
                if CHECKED && addr % size != 0 {
                    return Err(VmError::MisalignedAtomic { pc: pc - 1, addr, size: size as usize });
                }
                // SAFETY: in bounds and aligned, as checked above or proved by the verifier; all
                // concurrent accesses to program memory from kfvm go through atomics or are racy
                // in the same way as in the kernel.
                unsafe { <$at>::from_ptr(addr as *mut $t) }
            }};
        }
        macro_rules! jump {
            ($cond:expr, $off:expr) => {
                if $cond {
                    pc = (pc as isize + $off as isize) as usize;
                }
            };
        }

        loop {
            // SAFETY: loading proved every jump and call target is an instruction start in
            // `0..len`, straight-line execution advances by one slot (two for `lddw`, whose second
            // slot exists) and the slot at `len` is the sentinel, which ends the run; so `pc` is
            // always in `0..=len` here, and `code` has `len + 1` slots.
            let insn = unsafe { *code.get_unchecked(pc) };
            pc += 1;
            remaining -= 1;
            if remaining == 0 {
                return Err(VmError::BudgetExhausted { pc: pc - 1, budget: self.budget });
            }
            let d = (insn.regs & 0xf) as usize;
            let s = (insn.regs >> 4) as usize;
            let imm = insn.imm;
            let off = insn.off;
            match insn.code {
                // ---- BPF_ALU64 ----
                0x07 => reg[d] = reg[d].wrapping_add(imm as i64 as u64),
                0x0f => reg[d] = reg[d].wrapping_add(reg[s]),
                0x17 => reg[d] = reg[d].wrapping_sub(imm as i64 as u64),
                0x1f => reg[d] = reg[d].wrapping_sub(reg[s]),
                0x27 => reg[d] = reg[d].wrapping_mul(imm as i64 as u64),
                0x2f => reg[d] = reg[d].wrapping_mul(reg[s]),
                0x37 => reg[d] = div64(reg[d], imm as i64 as u64, off),
                0x3f => reg[d] = div64(reg[d], reg[s], off),
                0x47 => reg[d] |= imm as i64 as u64,
                0x4f => reg[d] |= reg[s],
                0x57 => reg[d] &= imm as i64 as u64,
                0x5f => reg[d] &= reg[s],
                0x67 => reg[d] <<= imm as u32 & 63,
                0x6f => reg[d] <<= reg[s] as u32 & 63,
                0x77 => reg[d] >>= imm as u32 & 63,
                0x7f => reg[d] >>= reg[s] as u32 & 63,
                0x87 => reg[d] = (reg[d] as i64).wrapping_neg() as u64,
                0x97 => reg[d] = mod64(reg[d], imm as i64 as u64, off),
                0x9f => reg[d] = mod64(reg[d], reg[s], off),
                0xa7 => reg[d] ^= imm as i64 as u64,
                0xaf => reg[d] ^= reg[s],
                0xb7 => reg[d] = imm as i64 as u64,
                0xbf => {
                    reg[d] = match off {
                        0 => reg[s],
                        8 => reg[s] as i8 as i64 as u64,
                        16 => reg[s] as i16 as i64 as u64,
                        32 => reg[s] as i32 as i64 as u64,
                        // addr_space_cast: kfvm has no arenas; a cast keeps the address.
                        _ => reg[s],
                    }
                }
                0xc7 => reg[d] = ((reg[d] as i64) >> (imm as u32 & 63)) as u64,
                0xcf => reg[d] = ((reg[d] as i64) >> (reg[s] as u32 & 63)) as u64,
                0xd7 => {
                    reg[d] = match imm {
                        16 => (reg[d] as u16).swap_bytes() as u64,
                        32 => (reg[d] as u32).swap_bytes() as u64,
                        _ => reg[d].swap_bytes(),
                    }
                }
                // ---- BPF_ALU ----
                0x04 => reg[d] = (reg[d] as u32).wrapping_add(imm as u32) as u64,
                0x0c => reg[d] = (reg[d] as u32).wrapping_add(reg[s] as u32) as u64,
                0x14 => reg[d] = (reg[d] as u32).wrapping_sub(imm as u32) as u64,
                0x1c => reg[d] = (reg[d] as u32).wrapping_sub(reg[s] as u32) as u64,
                0x24 => reg[d] = (reg[d] as u32).wrapping_mul(imm as u32) as u64,
                0x2c => reg[d] = (reg[d] as u32).wrapping_mul(reg[s] as u32) as u64,
                0x34 => reg[d] = div32(reg[d] as u32, imm as u32, off) as u64,
                0x3c => reg[d] = div32(reg[d] as u32, reg[s] as u32, off) as u64,
                0x44 => reg[d] = (reg[d] as u32 | imm as u32) as u64,
                0x4c => reg[d] = (reg[d] as u32 | reg[s] as u32) as u64,
                0x54 => reg[d] = (reg[d] as u32 & imm as u32) as u64,
                0x5c => reg[d] = (reg[d] as u32 & reg[s] as u32) as u64,
                0x64 => reg[d] = ((reg[d] as u32) << (imm as u32 & 31)) as u64,
                0x6c => reg[d] = ((reg[d] as u32) << (reg[s] as u32 & 31)) as u64,
                0x74 => reg[d] = ((reg[d] as u32) >> (imm as u32 & 31)) as u64,
                0x7c => reg[d] = ((reg[d] as u32) >> (reg[s] as u32 & 31)) as u64,
                0x84 => reg[d] = (reg[d] as i32).wrapping_neg() as u32 as u64,
                0x94 => reg[d] = mod32(reg[d] as u32, imm as u32, off) as u64,
                0x9c => reg[d] = mod32(reg[d] as u32, reg[s] as u32, off) as u64,
                0xa4 => reg[d] = (reg[d] as u32 ^ imm as u32) as u64,
                0xac => reg[d] = (reg[d] as u32 ^ reg[s] as u32) as u64,
                0xb4 => reg[d] = imm as u32 as u64,
                0xbc => {
                    reg[d] = match off {
                        0 => reg[s] as u32,
                        8 => reg[s] as i8 as i32 as u32,
                        _ => reg[s] as i16 as i32 as u32,
                    } as u64
                }
                0xc4 => reg[d] = ((reg[d] as i32) >> (imm as u32 & 31)) as u32 as u64,
                0xcc => reg[d] = ((reg[d] as i32) >> (reg[s] as u32 & 31)) as u32 as u64,
                0xd4 => {
                    reg[d] = match imm {
                        16 => reg[d] as u16 as u64,
                        32 => reg[d] as u32 as u64,
                        _ => reg[d],
                    }
                }
                0xdc => {
                    reg[d] = match imm {
                        16 => (reg[d] as u16).swap_bytes() as u64,
                        32 => (reg[d] as u32).swap_bytes() as u64,
                        _ => reg[d].swap_bytes(),
                    }
                }
                // ---- BPF_JMP ----
                0x05 => pc = (pc as isize + off as isize) as usize,
                0x15 => jump!(reg[d] == imm as i64 as u64, off),
                0x1d => jump!(reg[d] == reg[s], off),
                0x25 => jump!(reg[d] > imm as i64 as u64, off),
                0x2d => jump!(reg[d] > reg[s], off),
                0x35 => jump!(reg[d] >= imm as i64 as u64, off),
                0x3d => jump!(reg[d] >= reg[s], off),
                0x45 => jump!(reg[d] & imm as i64 as u64 != 0, off),
                0x4d => jump!(reg[d] & reg[s] != 0, off),
                0x55 => jump!(reg[d] != imm as i64 as u64, off),
                0x5d => jump!(reg[d] != reg[s], off),
                0x65 => jump!(reg[d] as i64 > imm as i64, off),
                0x6d => jump!(reg[d] as i64 > reg[s] as i64, off),
                0x75 => jump!(reg[d] as i64 >= imm as i64, off),
                0x7d => jump!(reg[d] as i64 >= reg[s] as i64, off),
                0xa5 => jump!(reg[d] < imm as i64 as u64, off),
                0xad => jump!(reg[d] < reg[s], off),
                0xb5 => jump!(reg[d] <= imm as i64 as u64, off),
                0xbd => jump!(reg[d] <= reg[s], off),
                0xc5 => jump!((reg[d] as i64) < imm as i64, off),
                0xcd => jump!((reg[d] as i64) < reg[s] as i64, off),
                0xd5 => jump!(reg[d] as i64 <= imm as i64, off),
                0xdd => jump!(reg[d] as i64 <= reg[s] as i64, off),
                0xe5 => {
                    if may_goto == 0 {
                        pc = (pc as isize + off as isize) as usize;
                    } else {
                        may_goto -= 1;
                    }
                }
                0x85 => {
                    if s == kfvm_isa::opcode::PSEUDO_CALL as usize {
                        if self.frames.len() + 1 >= MAX_CALL_FRAMES {
                            return Err(VmError::CallDepth { pc: pc - 1, max: MAX_CALL_FRAMES });
                        }
                        self.frames.push(Frame {
                            ret_pc: pc,
                            saved: [reg[6], reg[7], reg[8], reg[9], reg[10]],
                            may_goto,
                        });
                        may_goto = MAY_GOTO_LOOPS;
                        // Wrapping: a program may have overwritten R10 (the loader does not
                        // refuse that), and then the new frame pointer is as meaningless as the
                        // old one, but no reason to panic.
                        reg[10] = reg[10].wrapping_sub(STACK_SIZE as u64);
                        pc = (pc as isize + imm as isize) as usize;
                    } else {
                        // Helper or kfunc: `imm` was rewritten to an index into `calls` at load.
                        let f = prog.calls[imm as usize];
                        reg[0] = f(&mut cctx, reg[1], reg[2], reg[3], reg[4], reg[5]);
                        if let Some(stop) = cctx.stop.take() {
                            return stop_run(stop, pc - 1);
                        }
                    }
                }
                0x8d => {
                    let id = reg[d];
                    let f = i32::try_from(id)
                        .ok()
                        .and_then(|id| prog.helpers.get(&id))
                        .ok_or(VmError::UnknownHelper { pc: pc - 1, id })?;
                    reg[0] = f(&mut cctx, reg[1], reg[2], reg[3], reg[4], reg[5]);
                    if let Some(stop) = cctx.stop.take() {
                        return stop_run(stop, pc - 1);
                    }
                }
                0x95 => match self.frames.pop() {
                    None => return Ok(reg[0]),
                    Some(f) => {
                        pc = f.ret_pc;
                        reg[6..11].copy_from_slice(&f.saved);
                        may_goto = f.may_goto;
                    }
                },
                // ---- BPF_JMP32 ----
                0x06 => pc = (pc as isize + imm as isize) as usize,
                0x16 => jump!(reg[d] as u32 == imm as u32, off),
                0x1e => jump!(reg[d] as u32 == reg[s] as u32, off),
                0x26 => jump!(reg[d] as u32 > imm as u32, off),
                0x2e => jump!(reg[d] as u32 > reg[s] as u32, off),
                0x36 => jump!(reg[d] as u32 >= imm as u32, off),
                0x3e => jump!(reg[d] as u32 >= reg[s] as u32, off),
                0x46 => jump!(reg[d] as u32 & imm as u32 != 0, off),
                0x4e => jump!(reg[d] as u32 & reg[s] as u32 != 0, off),
                0x56 => jump!(reg[d] as u32 != imm as u32, off),
                0x5e => jump!(reg[d] as u32 != reg[s] as u32, off),
                0x66 => jump!(reg[d] as i32 > imm, off),
                0x6e => jump!(reg[d] as i32 > reg[s] as i32, off),
                0x76 => jump!(reg[d] as i32 >= imm, off),
                0x7e => jump!(reg[d] as i32 >= reg[s] as i32, off),
                0xa6 => jump!((reg[d] as u32) < imm as u32, off),
                0xae => jump!((reg[d] as u32) < reg[s] as u32, off),
                0xb6 => jump!(reg[d] as u32 <= imm as u32, off),
                0xbe => jump!(reg[d] as u32 <= reg[s] as u32, off),
                0xc6 => jump!((reg[d] as i32) < imm, off),
                0xce => jump!((reg[d] as i32) < reg[s] as i32, off),
                0xd6 => jump!(reg[d] as i32 <= imm, off),
                0xde => jump!(reg[d] as i32 <= reg[s] as i32, off),
                // ---- BPF_LD ----
                0x18 => {
                    // SAFETY: loading checked that a `lddw` has its second slot.
                    let hi = unsafe { code.get_unchecked(pc) }.imm;
                    reg[d] = (imm as u32 as u64) | ((hi as u32 as u64) << 32);
                    pc += 1;
                }
                0x20 | 0x28 | 0x30 | 0x40 | 0x48 | 0x50 => {
                    // Legacy packet loads read the packet in R6's context; kfvm takes the first
                    // host region as the packet. Out of bounds ends the program with R0 = 0, as
                    // in the kernel.
                    let base = if insn.code & 0xe0 == 0x40 { reg[s] as i64 } else { 0 };
                    let off = base.wrapping_add(imm as i64);
                    let size = kfvm_isa::Size::from_code(insn.code).bytes() as u64;
                    let Some(pkt) = memory.regions.first() else { return Ok(0) };
                    if off < 0 || off as u64 > pkt.len || size > pkt.len - off as u64 {
                        return Ok(0);
                    }
                    let p = pkt.start + off as u64;
                    // SAFETY: inside the packet region, checked just above.
                    reg[0] = unsafe {
                        match size {
                            1 => *(p as *const u8) as u64,
                            2 => u16::from_be(core::ptr::read_unaligned(p as *const u16)) as u64,
                            _ => u32::from_be(core::ptr::read_unaligned(p as *const u32)) as u64,
                        }
                    };
                }
                // ---- BPF_LDX ----
                0x71 => reg[d] = load!(u8, reg[s].wrapping_add(off as i64 as u64)) as u64,
                0x69 => reg[d] = load!(u16, reg[s].wrapping_add(off as i64 as u64)) as u64,
                0x61 => reg[d] = load!(u32, reg[s].wrapping_add(off as i64 as u64)) as u64,
                0x79 => reg[d] = load!(u64, reg[s].wrapping_add(off as i64 as u64)),
                0x91 => reg[d] = load!(i8, reg[s].wrapping_add(off as i64 as u64)) as i64 as u64,
                0x89 => reg[d] = load!(i16, reg[s].wrapping_add(off as i64 as u64)) as i64 as u64,
                0x81 => reg[d] = load!(i32, reg[s].wrapping_add(off as i64 as u64)) as i64 as u64,
                // ---- BPF_ST ----
                0x72 => store!(u8, reg[d].wrapping_add(off as i64 as u64), imm),
                0x6a => store!(u16, reg[d].wrapping_add(off as i64 as u64), imm),
                0x62 => store!(u32, reg[d].wrapping_add(off as i64 as u64), imm),
                0x7a => store!(u64, reg[d].wrapping_add(off as i64 as u64), imm as i64),
                // ---- BPF_STX ----
                0x73 => store!(u8, reg[d].wrapping_add(off as i64 as u64), reg[s]),
                0x6b => store!(u16, reg[d].wrapping_add(off as i64 as u64), reg[s]),
                0x63 => store!(u32, reg[d].wrapping_add(off as i64 as u64), reg[s]),
                0x7b => store!(u64, reg[d].wrapping_add(off as i64 as u64), reg[s]),
                // ---- BPF_STX | BPF_ATOMIC ----
                0xdb => {
                    let addr = reg[d].wrapping_add(off as i64 as u64);
                    if imm == kfvm_isa::AtomicOp::LOAD_ACQ {
                        let addr = reg[s].wrapping_add(off as i64 as u64);
                        reg[d] = atomic_ref!(u64, AtomicU64, addr).load(Ordering::Acquire);
                    } else if imm == kfvm_isa::AtomicOp::STORE_REL {
                        atomic_ref!(u64, AtomicU64, addr).store(reg[s], Ordering::Release);
                    } else {
                        let a = atomic_ref!(u64, AtomicU64, addr);
                        let v = reg[s];
                        let old = match imm & !1 {
                            0x00 => a.fetch_add(v, Ordering::SeqCst),
                            0x40 => a.fetch_or(v, Ordering::SeqCst),
                            0x50 => a.fetch_and(v, Ordering::SeqCst),
                            0xa0 => a.fetch_xor(v, Ordering::SeqCst),
                            0xe0 => a.swap(v, Ordering::SeqCst),
                            _ => match a.compare_exchange(reg[0], v, Ordering::SeqCst, Ordering::SeqCst) {
                                Ok(o) | Err(o) => o,
                            },
                        };
                        if imm == kfvm_isa::AtomicOp::CMPXCHG {
                            reg[0] = old;
                        } else if imm & 1 != 0 {
                            reg[s] = old;
                        }
                    }
                }
                0xc3 => {
                    let addr = reg[d].wrapping_add(off as i64 as u64);
                    if imm == kfvm_isa::AtomicOp::LOAD_ACQ {
                        let addr = reg[s].wrapping_add(off as i64 as u64);
                        reg[d] = atomic_ref!(u32, AtomicU32, addr).load(Ordering::Acquire) as u64;
                    } else if imm == kfvm_isa::AtomicOp::STORE_REL {
                        atomic_ref!(u32, AtomicU32, addr).store(reg[s] as u32, Ordering::Release);
                    } else {
                        let a = atomic_ref!(u32, AtomicU32, addr);
                        let v = reg[s] as u32;
                        let old = match imm & !1 {
                            0x00 => a.fetch_add(v, Ordering::SeqCst),
                            0x40 => a.fetch_or(v, Ordering::SeqCst),
                            0x50 => a.fetch_and(v, Ordering::SeqCst),
                            0xa0 => a.fetch_xor(v, Ordering::SeqCst),
                            0xe0 => a.swap(v, Ordering::SeqCst),
                            _ => {
                                match a.compare_exchange(reg[0] as u32, v, Ordering::SeqCst, Ordering::SeqCst)
                                {
                                    Ok(o) | Err(o) => o,
                                }
                            }
                        };
                        if imm == kfvm_isa::AtomicOp::CMPXCHG {
                            reg[0] = old as u64;
                        } else if imm & 1 != 0 {
                            reg[s] = old as u64;
                        }
                    }
                }
                0xd3 | 0xcb => {
                    // Load-acquire / store-release of 8 and 16 bits. x86-64 gives both orderings
                    // to plain loads and stores; the fences keep the ordering on every target.
                    let size = if insn.code == 0xd3 { 1u64 } else { 2 };
                    if imm == kfvm_isa::AtomicOp::LOAD_ACQ {
                        let addr = reg[s].wrapping_add(off as i64 as u64);
                        let v = if size == 1 { load!(u8, addr) as u64 } else { load!(u16, addr) as u64 };
                        core::sync::atomic::fence(Ordering::Acquire);
                        reg[d] = v;
                    } else {
                        let addr = reg[d].wrapping_add(off as i64 as u64);
                        core::sync::atomic::fence(Ordering::Release);
                        if size == 1 {
                            store!(u8, addr, reg[s]);
                        } else {
                            store!(u16, addr, reg[s]);
                        }
                    }
                }
                SENTINEL => return Err(VmError::FellOffEnd { pc: pc - 1 }),
                other => unreachable!("opcode {other:#04x} passed Program::load"),
            }
        }
    }
}

#[cold]
fn stop_run(stop: Stop, pc: usize) -> Result<u64, VmError> {
    match stop {
        Stop::Return(r0) => Ok(r0),
        Stop::Error(message) => Err(VmError::Host { pc, message }),
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
