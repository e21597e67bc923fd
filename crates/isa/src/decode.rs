//! Decoding slots into [`Insn`]s and encoding them back.
//!
//! Decoding refuses exactly what the Linux verifier refuses about an instruction's encoding
//! (unknown opcodes, reserved fields that are not zero, bad registers, a truncated or malformed
//! `lddw`), with the kernel's wording, and names the instruction index. Semantic checks (division by
//! a zero constant, shift ranges, jump targets) belong to the verifier.

use crate::insn::*;
use crate::opcode::{self, class, Shape};
use core::fmt;

/// Why a slot could not be decoded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum DecodeErrorKind {
    /// The opcode byte names no instruction (kernel: `unknown opcode %02x`).
    UnknownOpcode(u8),
    /// A field the instruction does not use is not zero, or an `off`/`imm` value selects no variant
    /// (kernel: `BPF_ALU uses reserved fields` and friends; the string is the kernel's prefix).
    ReservedFields(&'static str),
    /// A register number above 10 (kernel: `R%d is invalid`).
    InvalidRegister(u8),
    /// An atomic `imm` that names no operation (kernel: `BPF_ATOMIC uses invalid atomic opcode %02x`).
    InvalidAtomicOp(i32),
    /// An atomic operation on a size it does not support (kernel: `invalid atomic operand size`).
    InvalidAtomicSize,
    /// `lddw` is the last slot, or its second slot has non-zero fields (kernel: `invalid bpf_ld_imm64 insn`).
    InvalidLdImm64,
    /// `lddw` with an unknown `src_reg` (kernel: `unrecognized bpf_ld_imm64 insn`).
    UnrecognizedLdImm64,
    /// The byte-order width is not 16, 32 or 64 (kernel: `BPF_END uses reserved fields`).
    InvalidEndWidth(i32),
    /// `may_goto` with non-zero registers or imm (kernel: `invalid may_goto imm %d`).
    InvalidMayGoto(i32),
    /// The program's length in bytes is not a multiple of 8.
    TrailingBytes {
        /// Length in bytes.
        len: usize,
    },
    /// The program has no instructions.
    Empty,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::UnknownOpcode(c) => write!(f, "unknown opcode {c:02x}"),
            DecodeErrorKind::ReservedFields(what) => write!(f, "{what} uses reserved fields"),
            DecodeErrorKind::InvalidRegister(r) => write!(f, "R{r} is invalid"),
            DecodeErrorKind::InvalidAtomicOp(imm) => {
                write!(f, "BPF_ATOMIC uses invalid atomic opcode {imm:02x}")
            }
            DecodeErrorKind::InvalidAtomicSize => write!(f, "invalid atomic operand size"),
            DecodeErrorKind::InvalidLdImm64 => write!(f, "invalid bpf_ld_imm64 insn"),
            DecodeErrorKind::UnrecognizedLdImm64 => write!(f, "unrecognized bpf_ld_imm64 insn"),
            DecodeErrorKind::InvalidEndWidth(_) => write!(f, "BPF_END uses reserved fields"),
            DecodeErrorKind::InvalidMayGoto(imm) => write!(f, "invalid may_goto imm {imm}"),
            DecodeErrorKind::TrailingBytes { len } => {
                write!(f, "program length {len} is not a multiple of 8 bytes")
            }
            DecodeErrorKind::Empty => write!(f, "program has no instructions"),
        }
    }
}

/// A decode error with the index of the offending slot.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("insn {idx}: {kind}")]
pub struct DecodeError {
    /// Slot index in the program.
    pub idx: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// An error at slot `idx`.
    #[cold]
    pub fn new(idx: usize, kind: DecodeErrorKind) -> Self {
        DecodeError { idx, kind }
    }
}

fn reg(idx: usize, n: u8) -> Result<Reg, DecodeError> {
    Reg::new(n).ok_or_else(|| DecodeError::new(idx, DecodeErrorKind::InvalidRegister(n)))
}

fn width(code: u8) -> Width {
    match opcode::class_of(code) {
        class::ALU | class::JMP32 => Width::W32,
        _ => Width::W64,
    }
}

/// Decodes the instruction starting at slot `idx` of `prog`.
pub fn decode(prog: &[RawInsn], idx: usize) -> Result<Insn, DecodeError> {
    let r = prog[idx];
    let err = |kind| Err(DecodeError::new(idx, kind));
    let reserved = |what| Err(DecodeError::new(idx, DecodeErrorKind::ReservedFields(what)));
    let Some(shape) = opcode::shape(r.code) else {
        return err(DecodeErrorKind::UnknownOpcode(r.code));
    };
    let (d, s, off, imm) = (r.dst(), r.src(), r.off, r.imm);
    Ok(match shape {
        Shape::AluK | Shape::AluX => {
            let op_bits = r.code & 0xf0;
            let is_x = shape == Shape::AluX;
            let w = width(r.code);
            let op = match op_bits {
                0xb0 => {
                    // BPF_MOV: off selects movsx (X only) or, on ALU64, the address-space cast.
                    if !is_x {
                        if s != 0 || off != 0 {
                            return reserved("BPF_MOV");
                        }
                        AluOp::Mov
                    } else if w == Width::W64 && off == opcode::ADDR_SPACE_CAST {
                        if imm != 1 && imm != 1 << 16 {
                            return reserved("BPF_MOV");
                        }
                        return Ok(Insn::AddrSpaceCast {
                            dst: reg(idx, d)?,
                            src: reg(idx, s)?,
                            to_as: (imm >> 16) as u16,
                            from_as: imm as u16,
                        });
                    } else {
                        if imm != 0 {
                            return reserved("BPF_MOV");
                        }
                        match (off, w) {
                            (0, _) => AluOp::Mov,
                            (8 | 16, _) => AluOp::Movsx(off as u8),
                            (32, Width::W64) => AluOp::Movsx(32),
                            _ => return reserved("BPF_MOV"),
                        }
                    }
                }
                0x30 | 0x90 => {
                    if (is_x && imm != 0) || (!is_x && s != 0) {
                        return reserved("BPF_ALU");
                    }
                    match (op_bits, off) {
                        (0x30, 0) => AluOp::Div,
                        (0x30, 1) => AluOp::Sdiv,
                        (0x90, 0) => AluOp::Mod,
                        (0x90, 1) => AluOp::Smod,
                        _ => return reserved("BPF_ALU"),
                    }
                }
                _ => {
                    if (is_x && imm != 0) || (!is_x && s != 0) || off != 0 {
                        return reserved("BPF_ALU");
                    }
                    match op_bits {
                        0x00 => AluOp::Add,
                        0x10 => AluOp::Sub,
                        0x20 => AluOp::Mul,
                        0x40 => AluOp::Or,
                        0x50 => AluOp::And,
                        0x60 => AluOp::Lsh,
                        0x70 => AluOp::Rsh,
                        0xa0 => AluOp::Xor,
                        0xc0 => AluOp::Arsh,
                        _ => return err(DecodeErrorKind::UnknownOpcode(r.code)),
                    }
                }
            };
            let src = if is_x { Src::Reg(reg(idx, s)?) } else { Src::Imm(imm) };
            Insn::Alu { width: w, op, dst: reg(idx, d)?, src }
        }
        Shape::Neg => {
            if s != 0 || off != 0 || imm != 0 {
                return reserved("BPF_NEG");
            }
            Insn::Neg { width: width(r.code), dst: reg(idx, d)? }
        }
        Shape::End => {
            if s != 0 || off != 0 {
                return reserved("BPF_END");
            }
            if !matches!(imm, 16 | 32 | 64) {
                return err(DecodeErrorKind::InvalidEndWidth(imm));
            }
            let kind = match r.code {
                0xd4 => EndKind::ToLe,
                0xdc => EndKind::ToBe,
                _ => EndKind::Bswap,
            };
            Insn::End { kind, bits: imm as u8, dst: reg(idx, d)? }
        }
        Shape::AddrSpaceCast => unreachable!("the table gives 0xbf the AluX shape"),
        Shape::Ja => {
            let long = r.code == (class::JMP32 | opcode::OP_JA);
            if s != 0 || d != 0 || (!long && imm != 0) || (long && off != 0) {
                return reserved("BPF_JA");
            }
            Insn::Ja { off: if long { imm } else { off as i32 }, long }
        }
        Shape::JmpK | Shape::JmpX => {
            let is_x = shape == Shape::JmpX;
            if (is_x && imm != 0) || (!is_x && s != 0) {
                return reserved("BPF_JMP/JMP32");
            }
            let op = JmpOp::from_op_bits(r.code & 0xf0).expect("table has only conditional jumps here");
            let src = if is_x { Src::Reg(reg(idx, s)?) } else { Src::Imm(imm) };
            Insn::Jmp { width: width(r.code), op, dst: reg(idx, d)?, src, off }
        }
        Shape::Call => {
            let kind = match s {
                0 if off == 0 => CallKind::Helper(imm),
                opcode::PSEUDO_CALL if off == 0 => CallKind::Local(imm),
                opcode::PSEUDO_KFUNC_CALL => CallKind::Kfunc { btf_id: imm, btf_off: off },
                _ => return reserved("BPF_CALL"),
            };
            if d != 0 {
                return reserved("BPF_CALL");
            }
            Insn::Call(kind)
        }
        Shape::Callx => {
            if s != 0 || off != 0 || imm != 0 {
                return reserved("BPF_CALL");
            }
            Insn::Callx { reg: reg(idx, d)? }
        }
        Shape::Exit => {
            if s != 0 || d != 0 || off != 0 || imm != 0 {
                return reserved("BPF_EXIT");
            }
            Insn::Exit
        }
        Shape::MayGoto => {
            if s != 0 || d != 0 || imm != 0 {
                return err(DecodeErrorKind::InvalidMayGoto(imm));
            }
            Insn::MayGoto { off }
        }
        Shape::LdImm64 => {
            let Some(next) = prog.get(idx + 1) else {
                return err(DecodeErrorKind::InvalidLdImm64);
            };
            if next.code != 0 || next.regs != 0 || next.off != 0 || off != 0 {
                return err(DecodeErrorKind::InvalidLdImm64);
            }
            let Some(pseudo) = Pseudo::from_src(s) else {
                return err(DecodeErrorKind::UnrecognizedLdImm64);
            };
            Insn::LdImm64 { dst: reg(idx, d)?, pseudo, imm, imm_hi: next.imm }
        }
        Shape::LdAbs | Shape::LdInd => {
            let size = Size::from_code(r.code);
            if d != 0 || off != 0 || (shape == Shape::LdAbs && s != 0) {
                return reserved("BPF_LD_[ABS|IND]");
            }
            if shape == Shape::LdAbs {
                Insn::LdAbs { size, imm }
            } else {
                Insn::LdInd { size, src: reg(idx, s)?, imm }
            }
        }
        Shape::Ldx | Shape::LdxSx => {
            if imm != 0 {
                return reserved("BPF_LDX");
            }
            Insn::Load {
                size: Size::from_code(r.code),
                sign_extend: shape == Shape::LdxSx,
                dst: reg(idx, d)?,
                src: reg(idx, s)?,
                off,
            }
        }
        Shape::St => {
            if s != 0 {
                return reserved("BPF_ST");
            }
            Insn::StoreImm { size: Size::from_code(r.code), dst: reg(idx, d)?, off, imm }
        }
        Shape::Stx => {
            if imm != 0 {
                return reserved("BPF_STX");
            }
            Insn::Store { size: Size::from_code(r.code), dst: reg(idx, d)?, src: reg(idx, s)?, off }
        }
        Shape::Atomic => {
            let size = Size::from_code(r.code);
            let Some(op) = AtomicOp::from_imm(imm) else {
                return err(DecodeErrorKind::InvalidAtomicOp(imm));
            };
            let acq_rel = matches!(op, AtomicOp::LoadAcquire | AtomicOp::StoreRelease);
            if !acq_rel && !matches!(size, Size::W | Size::DW) {
                return err(DecodeErrorKind::InvalidAtomicSize);
            }
            Insn::Atomic { size, op, dst: reg(idx, d)?, src: reg(idx, s)?, off }
        }
    })
}

/// Decodes a whole program: one `(slot index, instruction)` per instruction. `lddw` takes two slots.
/// Refuses an empty program.
pub fn decode_program(prog: &[RawInsn]) -> Result<Vec<(usize, Insn)>, DecodeError> {
    if prog.is_empty() {
        return Err(DecodeError::new(0, DecodeErrorKind::Empty));
    }
    let mut out = Vec::with_capacity(prog.len());
    let mut idx = 0;
    while idx < prog.len() {
        let insn = decode(prog, idx)?;
        out.push((idx, insn));
        idx += insn.slots();
    }
    Ok(out)
}

fn alu_class(w: Width) -> u8 {
    match w {
        Width::W32 => class::ALU,
        Width::W64 => class::ALU64,
    }
}

fn jmp_class(w: Width) -> u8 {
    match w {
        Width::W32 => class::JMP32,
        Width::W64 => class::JMP,
    }
}

impl Insn {
    /// Encodes the instruction, appending one slot (two for `lddw`) to `out`.
    pub fn encode_into(&self, out: &mut Vec<RawInsn>) {
        let (a, b) = self.encode();
        out.push(a);
        if let Some(b) = b {
            out.push(b);
        }
    }

    /// Encodes the instruction: its slot, and the second slot of a `lddw`.
    pub fn encode(&self) -> (RawInsn, Option<RawInsn>) {
        let one = |code, dst: u8, src: u8, off, imm| (RawInsn::new(code, dst, src, off, imm), None);
        match *self {
            Insn::Alu { width, op, dst, src } => {
                let c = alu_class(width) | op.op_bits();
                match src {
                    Src::Imm(imm) => one(c, dst.num(), 0, op.off(), imm),
                    Src::Reg(s) => one(c | opcode::SRC_X, dst.num(), s.num(), op.off(), 0),
                }
            }
            Insn::Neg { width, dst } => one(alu_class(width) | opcode::OP_NEG, dst.num(), 0, 0, 0),
            Insn::End { kind, bits, dst } => {
                let code = match kind {
                    EndKind::ToLe => 0xd4,
                    EndKind::ToBe => 0xdc,
                    EndKind::Bswap => 0xd7,
                };
                one(code, dst.num(), 0, 0, bits as i32)
            }
            Insn::AddrSpaceCast { dst, src, to_as, from_as } => one(
                0xbf,
                dst.num(),
                src.num(),
                opcode::ADDR_SPACE_CAST,
                ((to_as as i32) << 16) | from_as as i32,
            ),
            Insn::Ja { off, long: false } => one(class::JMP, 0, 0, off as i16, 0),
            Insn::Ja { off, long: true } => one(class::JMP32, 0, 0, 0, off),
            Insn::Jmp { width, op, dst, src, off } => {
                let c = jmp_class(width) | op.op_bits();
                match src {
                    Src::Imm(imm) => one(c, dst.num(), 0, off, imm),
                    Src::Reg(s) => one(c | opcode::SRC_X, dst.num(), s.num(), off, 0),
                }
            }
            Insn::MayGoto { off } => one(class::JMP | opcode::OP_JCOND, 0, 0, off, 0),
            Insn::Call(kind) => {
                let c = class::JMP | opcode::OP_CALL;
                match kind {
                    CallKind::Helper(imm) => one(c, 0, 0, 0, imm),
                    CallKind::Local(imm) => one(c, 0, opcode::PSEUDO_CALL, 0, imm),
                    CallKind::Kfunc { btf_id, btf_off } => {
                        one(c, 0, opcode::PSEUDO_KFUNC_CALL, btf_off, btf_id)
                    }
                }
            }
            Insn::Callx { reg } => one(class::JMP | opcode::OP_CALL | opcode::SRC_X, reg.num(), 0, 0, 0),
            Insn::Exit => one(class::JMP | opcode::OP_EXIT, 0, 0, 0, 0),
            Insn::Load { size, sign_extend, dst, src, off } => {
                let m = if sign_extend { opcode::mode::MEMSX } else { opcode::mode::MEM };
                one(class::LDX | m | size.bits(), dst.num(), src.num(), off, 0)
            }
            Insn::StoreImm { size, dst, off, imm } => {
                one(class::ST | opcode::mode::MEM | size.bits(), dst.num(), 0, off, imm)
            }
            Insn::Store { size, dst, src, off } => {
                one(class::STX | opcode::mode::MEM | size.bits(), dst.num(), src.num(), off, 0)
            }
            Insn::Atomic { size, op, dst, src, off } => {
                one(class::STX | opcode::mode::ATOMIC | size.bits(), dst.num(), src.num(), off, op.imm())
            }
            Insn::LdImm64 { dst, pseudo, imm, imm_hi } => (
                RawInsn::new(
                    class::LD | opcode::mode::IMM | Size::DW.bits(),
                    dst.num(),
                    pseudo.src(),
                    0,
                    imm,
                ),
                Some(RawInsn::new(0, 0, 0, 0, imm_hi)),
            ),
            Insn::LdAbs { size, imm } => one(class::LD | opcode::mode::ABS | size.bits(), 0, 0, 0, imm),
            Insn::LdInd { size, src, imm } => {
                one(class::LD | opcode::mode::IND | size.bits(), 0, src.num(), 0, imm)
            }
        }
    }
}

/// Encodes a sequence of instructions into slots.
pub fn encode_program(insns: &[Insn]) -> Vec<RawInsn> {
    let mut out = Vec::with_capacity(insns.len());
    for i in insns {
        i.encode_into(&mut out);
    }
    out
}
