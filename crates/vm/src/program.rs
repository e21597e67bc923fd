//! Preparing a program for execution: validation, and resolving calls to host functions.

use crate::error::LoadError;
use crate::host::{HostFn, HostFns};
use kfvm_isa::{decode_program, AtomicOp, CallKind, Insn, Pseudo, RawInsn, Reg, Src};
use std::collections::BTreeMap;

/// A program ready to run.
///
/// Loading checks what the interpreter relies on to run without per-instruction decoding: every
/// instruction decodes, every jump and call lands on an instruction of the program, and every
/// helper and kfunc called exists. The executable copy has each call's `imm` replaced by an index
/// into the program's table of host functions, and one sentinel slot after the end that stops a
/// run falling off the end.
#[derive(Clone, Debug)]
pub struct Program {
    raw: Vec<RawInsn>,
    pub(crate) code: Vec<RawInsn>,
    pub(crate) calls: Vec<HostFn>,
    pub(crate) helpers: BTreeMap<i32, HostFn>,
    /// Slots whose address the program takes (`lddw rX, func`): the callbacks
    /// [`crate::CallCtx::call_bpf`] may enter, sorted.
    pub(crate) callbacks: Vec<usize>,
}

/// The opcode of the sentinel slot appended after the last instruction (`BPF_LD | BPF_IMM | BPF_W`,
/// which is not a valid instruction, so it can appear nowhere else in an executable copy except as
/// the unexecuted second half of a `lddw`).
pub(crate) const SENTINEL: u8 = 0x00;

/// The opcode of the second slot appended after the sentinel: the return address of a callback
/// run ([`crate::CallCtx::call_bpf`]), which ends that run with R0. (`BPF_LD | BPF_IMM | BPF_H`,
/// not a valid instruction either.)
pub(crate) const CALLBACK_RET: u8 = 0x08;

impl Program {
    /// Validates `insns` and resolves its calls against `host`.
    pub fn load(insns: &[RawInsn], host: &HostFns) -> Result<Program, LoadError> {
        let decoded = decode_program(insns)?;
        let mut starts = vec![false; insns.len()];
        for &(idx, _) in &decoded {
            starts[idx] = true;
        }
        let check_target = |pc: usize, rel: i64| -> Result<(), LoadError> {
            let target = pc as i64 + 1 + rel;
            if target < 0 || target as usize >= insns.len() || !starts[target as usize] {
                return Err(LoadError::JumpOutOfRange { pc, target });
            }
            Ok(())
        };
        let mut code = insns.to_vec();
        let mut calls: Vec<HostFn> = Vec::new();
        let mut index_of: BTreeMap<(bool, i32), i32> = BTreeMap::new();
        let mut callbacks = Vec::new();
        for &(pc, insn) in &decoded {
            match insn {
                Insn::Ja { off, .. } => check_target(pc, off as i64)?,
                Insn::Jmp { off, .. } | Insn::MayGoto { off } => check_target(pc, off as i64)?,
                Insn::Call(CallKind::Local(rel)) => check_target(pc, rel as i64)?,
                Insn::Call(CallKind::Helper(id)) => {
                    let f = *host.helpers.get(&id).ok_or(LoadError::UnknownHelper { pc, id })?;
                    code[pc].imm = *index_of.entry((false, id)).or_insert_with(|| {
                        calls.push(f);
                        calls.len() as i32 - 1
                    });
                }
                Insn::Call(CallKind::Kfunc { btf_id, .. }) => {
                    let f = *host.kfuncs.get(&btf_id).ok_or(LoadError::UnknownKfunc { pc, btf_id })?;
                    code[pc].imm = *index_of.entry((true, btf_id)).or_insert_with(|| {
                        calls.push(f);
                        calls.len() as i32 - 1
                    });
                }
                Insn::LdImm64 { pseudo: Pseudo::Func, imm, .. } => {
                    // The callback's address: a handle `CallCtx::call_bpf` turns back into the
                    // slot (what a JIT would patch in as the subprogram's code address).
                    check_target(pc, imm as i64)?;
                    let target = (pc as i64 + 1 + imm as i64) as usize;
                    let addr = crate::host::FUNC_ADDR_BASE + 8 * target as u64;
                    code[pc].regs &= 0x0f;
                    code[pc].imm = addr as u32 as i32;
                    code[pc + 1].imm = (addr >> 32) as u32 as i32;
                    callbacks.push(target);
                }
                Insn::LdImm64 { pseudo, .. } if pseudo != Pseudo::Imm => {
                    let what = match pseudo {
                        Pseudo::MapFd | Pseudo::MapIdx => "a map reference",
                        Pseudo::MapValue | Pseudo::MapIdxValue => "a map value address",
                        Pseudo::BtfId => "a kernel variable (BTF id)",
                        _ => "a function address",
                    };
                    return Err(LoadError::Unresolved { pc, what });
                }
                _ => {}
            }
        }
        check_reg_init(&decoded, insns.len())?;
        code.push(RawInsn::new(SENTINEL, 0, 0, 0, 0));
        code.push(RawInsn::new(CALLBACK_RET, 0, 0, 0, 0));
        callbacks.sort_unstable();
        callbacks.dedup();
        Ok(Program { raw: insns.to_vec(), code, calls, helpers: host.helpers.clone(), callbacks })
    }

    /// The program's instructions as loaded.
    pub fn insns(&self) -> &[RawInsn] {
        &self.raw
    }

    /// Turns the loads at `pcs` into `BPF_PROBE_MEM` loads, as the kernel does for the loads
    /// its verifier found reading through BTF-typed pointers: they read 0 where the address is
    /// not memory the run may read, in verified mode too. Each `pc` must be a `BPF_LDX` load
    /// (`BPF_MEM` or `BPF_MEMSX`).
    pub fn mark_probe_mem(&mut self, pcs: &[usize]) -> Result<(), LoadError> {
        for &pc in pcs {
            let code = self.code.get(pc).filter(|_| pc < self.raw.len()).map(|i| i.code);
            let probe = match code {
                Some(c) if c & 0xe7 == 0x61 => c & 0x18 | PROBE_MEM,
                Some(c) if c & 0xe7 == 0x81 => c & 0x18 | PROBE_MEMSX,
                _ => return Err(LoadError::NotALoad { pc }),
            };
            self.code[pc].code = probe;
        }
        Ok(())
    }
}

/// `BPF_LDX | BPF_PROBE_MEM` (mode 0x20, which no loaded program may use): a load through a
/// BTF-typed pointer that reads 0 where it would fault. The size bits are or-ed in.
pub(crate) const PROBE_MEM: u8 = 0x21;
/// `BPF_LDX | BPF_PROBE_MEMSX` (mode 0x40): the sign-extending form.
pub(crate) const PROBE_MEMSX: u8 = 0x41;

/// Registers as a bit set.
type Regs = u16;
const fn bit(r: Reg) -> Regs {
    1 << r.num()
}
const R0: Regs = 1;
const ARGS: Regs = 0b11_1110;
const FP: Regs = 1 << 10;

/// What an instruction reads and writes, for [`check_reg_init`].
fn uses(insn: &Insn) -> (Regs, Regs) {
    let src = |s: Src| if let Src::Reg(r) = s { bit(r) } else { 0 };
    match *insn {
        Insn::Alu { op: kfvm_isa::AluOp::Mov | kfvm_isa::AluOp::Movsx(_), dst, src: s, .. } => {
            (src(s), bit(dst))
        }
        Insn::Alu { dst, src: s, .. } => (bit(dst) | src(s), bit(dst)),
        Insn::Neg { dst, .. } | Insn::End { dst, .. } => (bit(dst), bit(dst)),
        Insn::AddrSpaceCast { dst, src, .. } => (bit(src), bit(dst)),
        Insn::Jmp { dst, src: s, .. } => (bit(dst) | src(s), 0),
        Insn::Callx { reg } => (bit(reg), 0),
        Insn::Exit => (R0, 0),
        Insn::Load { dst, src, .. } => (bit(src), bit(dst)),
        Insn::StoreImm { dst, .. } => (bit(dst), 0),
        Insn::Store { dst, src, .. } => (bit(dst) | bit(src), 0),
        Insn::Atomic { op: AtomicOp::LoadAcquire, dst, src, .. } => (bit(src), bit(dst)),
        Insn::Atomic { op: AtomicOp::Cmpxchg, dst, src, .. } => (bit(dst) | bit(src) | R0, R0),
        Insn::Atomic { op, dst, src, .. } => (bit(dst) | bit(src), if op.fetches() { bit(src) } else { 0 }),
        Insn::LdImm64 { dst, .. } => (0, bit(dst)),
        Insn::LdInd { src, .. } => (bit(src), R0),
        Insn::LdAbs { .. } => (0, R0),
        Insn::Ja { .. } | Insn::MayGoto { .. } | Insn::Call(_) => (0, 0),
    }
}

/// Refuses a program that reads a register no path has written: a must-be-initialised dataflow
/// over the control-flow graph, the part of the kernel's `check_reg_arg` that needs no types.
///
/// On entry to the main function and to every subprogram, R1–R5 and R10 are taken as written (the
/// host passes up to five arguments). A helper, kfunc or subprogram call writes R0 and leaves
/// R1–R5 unreadable, as in the kernel.
fn check_reg_init(decoded: &[(usize, Insn)], len: usize) -> Result<(), LoadError> {
    let mut at: Vec<Option<usize>> = vec![None; len];
    for (i, &(pc, _)) in decoded.iter().enumerate() {
        at[pc] = Some(i);
    }
    let entry = ARGS | FP;
    // `state[i]`: registers written on every path reaching decoded instruction `i` seen so far.
    let mut state: Vec<Option<Regs>> = vec![None; decoded.len()];
    let mut work = vec![0usize];
    state[0] = Some(entry);
    for &(pc, insn) in decoded {
        if let Insn::Call(CallKind::Local(rel)) = insn {
            if let Some(Some(i)) = at.get((pc as i64 + 1 + rel as i64) as usize) {
                state[*i] = Some(entry);
                work.push(*i);
            }
        }
    }
    while let Some(i) = work.pop() {
        let (pc, insn) = decoded[i];
        let s = state[i].expect("queued instructions have a state");
        let (reads, writes) = uses(&insn);
        if writes & FP != 0 {
            return Err(LoadError::FramePointerWrite { pc });
        }
        if let Some(r) = (0..11u8).find(|r| reads & !s & (1 << r) != 0) {
            return Err(LoadError::UninitRegister { pc, reg: r });
        }
        let mut out = s | writes;
        if matches!(insn, Insn::Call(_) | Insn::Callx { .. } | Insn::LdAbs { .. } | Insn::LdInd { .. }) {
            out = (out & !ARGS) | R0;
        }
        let next = |rel: i64| at.get((pc as i64 + 1 + rel) as usize).copied().flatten();
        let succs: [Option<usize>; 2] = match insn {
            Insn::Exit => [None, None],
            Insn::Ja { off, .. } => [next(off as i64), None],
            Insn::Jmp { off, .. } | Insn::MayGoto { off } => [next(0), next(off as i64)],
            _ => [next(insn.slots() as i64 - 1), None],
        };
        for j in succs.into_iter().flatten() {
            let merged = match state[j] {
                None => out,
                Some(old) => old & out,
            };
            if state[j] != Some(merged) {
                state[j] = Some(merged);
                work.push(j);
            }
        }
    }
    Ok(())
}
