//! The opcode table: every instruction form of the eBPF ISA, once.
//!
//! This is the single source of truth for which opcodes exist. The decoder takes an opcode's
//! [`Shape`] from here, the encoder's output is checked against it, the conformance assembler takes
//! its mnemonics from it, and the conformance groups and CPU versions of RFC 9669 §2.4 are recorded
//! per form. A form is an opcode byte plus, where the opcode alone is ambiguous, the `off` or `imm`
//! value that selects the variant (`sdiv` is `div` with off 1; atomics are selected by imm).

/// Instruction classes (`BPF_CLASS`).
pub mod class {
    /// `BPF_LD`
    pub const LD: u8 = 0x00;
    /// `BPF_LDX`
    pub const LDX: u8 = 0x01;
    /// `BPF_ST`
    pub const ST: u8 = 0x02;
    /// `BPF_STX`
    pub const STX: u8 = 0x03;
    /// `BPF_ALU`
    pub const ALU: u8 = 0x04;
    /// `BPF_JMP`
    pub const JMP: u8 = 0x05;
    /// `BPF_JMP32`
    pub const JMP32: u8 = 0x06;
    /// `BPF_ALU64`
    pub const ALU64: u8 = 0x07;
}

/// Memory modes (`BPF_MODE`).
pub mod mode {
    /// `BPF_IMM`
    pub const IMM: u8 = 0x00;
    /// `BPF_ABS`
    pub const ABS: u8 = 0x20;
    /// `BPF_IND`
    pub const IND: u8 = 0x40;
    /// `BPF_MEM`
    pub const MEM: u8 = 0x60;
    /// `BPF_MEMSX`
    pub const MEMSX: u8 = 0x80;
    /// `BPF_ATOMIC`
    pub const ATOMIC: u8 = 0xc0;
}

/// `BPF_K`: the operand is the immediate.
pub const SRC_K: u8 = 0x00;
/// `BPF_X`: the operand is the source register.
pub const SRC_X: u8 = 0x08;
/// `BPF_NEG`
pub const OP_NEG: u8 = 0x80;
/// `BPF_END`
pub const OP_END: u8 = 0xd0;
/// `BPF_JA`
pub const OP_JA: u8 = 0x00;
/// `BPF_CALL`
pub const OP_CALL: u8 = 0x80;
/// `BPF_EXIT`
pub const OP_EXIT: u8 = 0x90;
/// `BPF_JCOND` (`may_goto`)
pub const OP_JCOND: u8 = 0xe0;
/// `BPF_PSEUDO_CALL`: `src_reg` of a bpf-to-bpf call.
pub const PSEUDO_CALL: u8 = 1;
/// `BPF_PSEUDO_KFUNC_CALL`: `src_reg` of a kfunc call.
pub const PSEUDO_KFUNC_CALL: u8 = 2;
/// `BPF_ADDR_SPACE_CAST`: the `off` of `BPF_ALU64 | BPF_MOV | BPF_X` that makes it an address-space cast.
pub const ADDR_SPACE_CAST: i16 = 1;

/// The class of an opcode.
pub const fn class_of(code: u8) -> u8 {
    code & 0x07
}

/// How an opcode's fields are laid out and checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Shape {
    /// `dst op= imm`
    AluK,
    /// `dst op= src`
    AluX,
    /// `dst = -dst`
    Neg,
    /// byte order, width in imm
    End,
    /// `BPF_ALU64 | BPF_MOV | BPF_X` with off 1
    AddrSpaceCast,
    /// unconditional jump
    Ja,
    /// `if dst op imm goto`
    JmpK,
    /// `if dst op src goto`
    JmpX,
    /// `call imm`
    Call,
    /// `callx reg`
    Callx,
    /// `exit`
    Exit,
    /// `may_goto`
    MayGoto,
    /// 16-byte immediate load
    LdImm64,
    /// legacy packet load, absolute
    LdAbs,
    /// legacy packet load, indirect
    LdInd,
    /// load from memory
    Ldx,
    /// sign-extending load
    LdxSx,
    /// store immediate
    St,
    /// store register
    Stx,
    /// atomic operation, selected by imm
    Atomic,
}

/// The field that, with the opcode, selects a form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Variant {
    /// The opcode alone selects the form.
    None,
    /// The `off` field has this value.
    Off(i16),
    /// The `imm` field has this value.
    Imm(i32),
}

/// Conformance groups (RFC 9669 §2.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Group {
    /// `base32`
    Base32,
    /// `base64`
    Base64,
    /// `atomic32`
    Atomic32,
    /// `atomic64`
    Atomic64,
    /// `divmul32`
    DivMul32,
    /// `divmul64`
    DivMul64,
    /// `packet` (legacy BPF_ABS/BPF_IND)
    Packet,
    /// `callx` (not in the RFC; the bpf_conformance suite's register call)
    Callx,
}

/// CPU versions (`-mcpu=v1` .. `v4`): the first version that has the form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum CpuVersion {
    /// v1
    V1 = 1,
    /// v2: `jlt`/`jle`/`jslt`/`jsle`
    V2 = 2,
    /// v3: `BPF_JMP32`, atomics
    V3 = 3,
    /// v4: `sdiv`/`smod`, `movsx`, `bswap`, `BPF_MEMSX`, `gotol`, load-acquire/store-release
    V4 = 4,
}

/// One instruction form: a row of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Form {
    /// The opcode byte.
    pub code: u8,
    /// Field layout.
    pub shape: Shape,
    /// The `off`/`imm` value that selects this form, if the opcode alone does not.
    pub variant: Variant,
    /// The bpf_conformance assembler's mnemonic.
    pub mnemonic: &'static str,
    /// Conformance group.
    pub group: Group,
    /// First CPU version with this form.
    pub version: CpuVersion,
}

const fn form(
    code: u8,
    shape: Shape,
    variant: Variant,
    mnemonic: &'static str,
    group: Group,
    version: CpuVersion,
) -> Form {
    Form { code, shape, variant, mnemonic, group, version }
}

use CpuVersion::*;
use Group::*;
use Shape::*;
use Variant::{Imm, Off};
#[allow(non_upper_case_globals)]
const None: Variant = Variant::None;

/// Every instruction form.
pub static FORMS: &[Form] = &[
    // BPF_ALU64
    form(0x07, AluK, None, "add", Base64, V1),
    form(0x0f, AluX, None, "add", Base64, V1),
    form(0x17, AluK, None, "sub", Base64, V1),
    form(0x1f, AluX, None, "sub", Base64, V1),
    form(0x27, AluK, None, "mul", DivMul64, V1),
    form(0x2f, AluX, None, "mul", DivMul64, V1),
    form(0x37, AluK, None, "div", DivMul64, V1),
    form(0x3f, AluX, None, "div", DivMul64, V1),
    form(0x37, AluK, Off(1), "sdiv", DivMul64, V4),
    form(0x3f, AluX, Off(1), "sdiv", DivMul64, V4),
    form(0x47, AluK, None, "or", Base64, V1),
    form(0x4f, AluX, None, "or", Base64, V1),
    form(0x57, AluK, None, "and", Base64, V1),
    form(0x5f, AluX, None, "and", Base64, V1),
    form(0x67, AluK, None, "lsh", Base64, V1),
    form(0x6f, AluX, None, "lsh", Base64, V1),
    form(0x77, AluK, None, "rsh", Base64, V1),
    form(0x7f, AluX, None, "rsh", Base64, V1),
    form(0x97, AluK, None, "mod", DivMul64, V1),
    form(0x9f, AluX, None, "mod", DivMul64, V1),
    form(0x97, AluK, Off(1), "smod", DivMul64, V4),
    form(0x9f, AluX, Off(1), "smod", DivMul64, V4),
    form(0xa7, AluK, None, "xor", Base64, V1),
    form(0xaf, AluX, None, "xor", Base64, V1),
    form(0xb7, AluK, None, "mov", Base64, V1),
    form(0xbf, AluX, None, "mov", Base64, V1),
    form(0xc7, AluK, None, "arsh", Base64, V1),
    form(0xcf, AluX, None, "arsh", Base64, V1),
    form(0x87, Neg, None, "neg", Base64, V1),
    form(0xbf, AluX, Off(8), "movsx864", Base64, V4),
    form(0xbf, AluX, Off(16), "movsx1664", Base64, V4),
    form(0xbf, AluX, Off(32), "movsx3264", Base64, V4),
    form(0xbf, AddrSpaceCast, Off(1), "addr_space_cast", Base64, V4),
    form(0xd7, End, Imm(16), "bswap16", Base64, V4),
    form(0xd7, End, Imm(32), "bswap32", Base64, V4),
    form(0xd7, End, Imm(64), "bswap64", Base64, V4),
    // BPF_ALU
    form(0x04, AluK, None, "add32", Base32, V1),
    form(0x0c, AluX, None, "add32", Base32, V1),
    form(0x14, AluK, None, "sub32", Base32, V1),
    form(0x1c, AluX, None, "sub32", Base32, V1),
    form(0x24, AluK, None, "mul32", DivMul32, V1),
    form(0x2c, AluX, None, "mul32", DivMul32, V1),
    form(0x34, AluK, None, "div32", DivMul32, V1),
    form(0x3c, AluX, None, "div32", DivMul32, V1),
    form(0x34, AluK, Off(1), "sdiv32", DivMul32, V4),
    form(0x3c, AluX, Off(1), "sdiv32", DivMul32, V4),
    form(0x44, AluK, None, "or32", Base32, V1),
    form(0x4c, AluX, None, "or32", Base32, V1),
    form(0x54, AluK, None, "and32", Base32, V1),
    form(0x5c, AluX, None, "and32", Base32, V1),
    form(0x64, AluK, None, "lsh32", Base32, V1),
    form(0x6c, AluX, None, "lsh32", Base32, V1),
    form(0x74, AluK, None, "rsh32", Base32, V1),
    form(0x7c, AluX, None, "rsh32", Base32, V1),
    form(0x94, AluK, None, "mod32", DivMul32, V1),
    form(0x9c, AluX, None, "mod32", DivMul32, V1),
    form(0x94, AluK, Off(1), "smod32", DivMul32, V4),
    form(0x9c, AluX, Off(1), "smod32", DivMul32, V4),
    form(0xa4, AluK, None, "xor32", Base32, V1),
    form(0xac, AluX, None, "xor32", Base32, V1),
    form(0xb4, AluK, None, "mov32", Base32, V1),
    form(0xbc, AluX, None, "mov32", Base32, V1),
    form(0xc4, AluK, None, "arsh32", Base32, V1),
    form(0xcc, AluX, None, "arsh32", Base32, V1),
    form(0x84, Neg, None, "neg32", Base32, V1),
    form(0xbc, AluX, Off(8), "movsx832", Base32, V4),
    form(0xbc, AluX, Off(16), "movsx1632", Base32, V4),
    form(0xd4, End, Imm(16), "le16", Base32, V1),
    form(0xd4, End, Imm(32), "le32", Base32, V1),
    form(0xd4, End, Imm(64), "le64", Base32, V1),
    form(0xdc, End, Imm(16), "be16", Base32, V1),
    form(0xdc, End, Imm(32), "be32", Base32, V1),
    form(0xdc, End, Imm(64), "be64", Base32, V1),
    // BPF_JMP
    form(0x05, Ja, None, "ja", Base32, V1),
    form(0x15, JmpK, None, "jeq", Base64, V1),
    form(0x1d, JmpX, None, "jeq", Base64, V1),
    form(0x25, JmpK, None, "jgt", Base64, V1),
    form(0x2d, JmpX, None, "jgt", Base64, V1),
    form(0x35, JmpK, None, "jge", Base64, V1),
    form(0x3d, JmpX, None, "jge", Base64, V1),
    form(0x45, JmpK, None, "jset", Base64, V1),
    form(0x4d, JmpX, None, "jset", Base64, V1),
    form(0x55, JmpK, None, "jne", Base64, V1),
    form(0x5d, JmpX, None, "jne", Base64, V1),
    form(0x65, JmpK, None, "jsgt", Base64, V1),
    form(0x6d, JmpX, None, "jsgt", Base64, V1),
    form(0x75, JmpK, None, "jsge", Base64, V1),
    form(0x7d, JmpX, None, "jsge", Base64, V1),
    form(0xa5, JmpK, None, "jlt", Base64, V2),
    form(0xad, JmpX, None, "jlt", Base64, V2),
    form(0xb5, JmpK, None, "jle", Base64, V2),
    form(0xbd, JmpX, None, "jle", Base64, V2),
    form(0xc5, JmpK, None, "jslt", Base64, V2),
    form(0xcd, JmpX, None, "jslt", Base64, V2),
    form(0xd5, JmpK, None, "jsle", Base64, V2),
    form(0xdd, JmpX, None, "jsle", Base64, V2),
    form(0x85, Call, None, "call", Base32, V1),
    form(0x8d, Shape::Callx, None, "callx", Group::Callx, V1),
    form(0x95, Exit, None, "exit", Base32, V1),
    form(0xe5, MayGoto, None, "may_goto", Base32, V4),
    // BPF_JMP32
    form(0x06, Ja, None, "ja32", Base32, V4),
    form(0x16, JmpK, None, "jeq32", Base32, V3),
    form(0x1e, JmpX, None, "jeq32", Base32, V3),
    form(0x26, JmpK, None, "jgt32", Base32, V3),
    form(0x2e, JmpX, None, "jgt32", Base32, V3),
    form(0x36, JmpK, None, "jge32", Base32, V3),
    form(0x3e, JmpX, None, "jge32", Base32, V3),
    form(0x46, JmpK, None, "jset32", Base32, V3),
    form(0x4e, JmpX, None, "jset32", Base32, V3),
    form(0x56, JmpK, None, "jne32", Base32, V3),
    form(0x5e, JmpX, None, "jne32", Base32, V3),
    form(0x66, JmpK, None, "jsgt32", Base32, V3),
    form(0x6e, JmpX, None, "jsgt32", Base32, V3),
    form(0x76, JmpK, None, "jsge32", Base32, V3),
    form(0x7e, JmpX, None, "jsge32", Base32, V3),
    form(0xa6, JmpK, None, "jlt32", Base32, V3),
    form(0xae, JmpX, None, "jlt32", Base32, V3),
    form(0xb6, JmpK, None, "jle32", Base32, V3),
    form(0xbe, JmpX, None, "jle32", Base32, V3),
    form(0xc6, JmpK, None, "jslt32", Base32, V3),
    form(0xce, JmpX, None, "jslt32", Base32, V3),
    form(0xd6, JmpK, None, "jsle32", Base32, V3),
    form(0xde, JmpX, None, "jsle32", Base32, V3),
    // BPF_LD
    form(0x18, LdImm64, None, "lddw", Base64, V1),
    form(0x20, LdAbs, None, "ldabsw", Packet, V1),
    form(0x40, LdInd, None, "ldindw", Packet, V1),
    form(0x28, LdAbs, None, "ldabsh", Packet, V1),
    form(0x48, LdInd, None, "ldindh", Packet, V1),
    form(0x30, LdAbs, None, "ldabsb", Packet, V1),
    form(0x50, LdInd, None, "ldindb", Packet, V1),
    // BPF_LDX, BPF_ST, BPF_STX
    form(0x71, Ldx, None, "ldxb", Base32, V1),
    form(0x91, LdxSx, None, "ldxsb", Base32, V4),
    form(0x72, St, None, "stb", Base32, V1),
    form(0x73, Stx, None, "stxb", Base32, V1),
    form(0x69, Ldx, None, "ldxh", Base32, V1),
    form(0x89, LdxSx, None, "ldxsh", Base32, V4),
    form(0x6a, St, None, "sth", Base32, V1),
    form(0x6b, Stx, None, "stxh", Base32, V1),
    form(0x61, Ldx, None, "ldxw", Base32, V1),
    form(0x81, LdxSx, None, "ldxsw", Base32, V4),
    form(0x62, St, None, "stw", Base32, V1),
    form(0x63, Stx, None, "stxw", Base32, V1),
    form(0x79, Ldx, None, "ldxdw", Base64, V1),
    form(0x7a, St, None, "stdw", Base64, V1),
    form(0x7b, Stx, None, "stxdw", Base64, V1),
    // BPF_STX | BPF_ATOMIC
    form(0xc3, Atomic, Imm(0x0), "lock add32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0x1), "lock fetch add32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0x40), "lock or32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0x41), "lock fetch or32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0x50), "lock and32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0x51), "lock fetch and32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0xa0), "lock xor32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0xa1), "lock fetch xor32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0xe1), "lock xchg32", Atomic32, V3),
    form(0xc3, Atomic, Imm(0xf1), "lock cmpxchg32", Atomic32, V3),
    form(0xdb, Atomic, Imm(0x0), "lock add", Atomic64, V3),
    form(0xdb, Atomic, Imm(0x1), "lock fetch add", Atomic64, V3),
    form(0xdb, Atomic, Imm(0x40), "lock or", Atomic64, V3),
    form(0xdb, Atomic, Imm(0x41), "lock fetch or", Atomic64, V3),
    form(0xdb, Atomic, Imm(0x50), "lock and", Atomic64, V3),
    form(0xdb, Atomic, Imm(0x51), "lock fetch and", Atomic64, V3),
    form(0xdb, Atomic, Imm(0xa0), "lock xor", Atomic64, V3),
    form(0xdb, Atomic, Imm(0xa1), "lock fetch xor", Atomic64, V3),
    form(0xdb, Atomic, Imm(0xe1), "lock xchg", Atomic64, V3),
    form(0xdb, Atomic, Imm(0xf1), "lock cmpxchg", Atomic64, V3),
    form(0xd3, Atomic, Imm(0x100), "load_acquireb", Atomic32, V4),
    form(0xd3, Atomic, Imm(0x110), "store_releaseb", Atomic32, V4),
    form(0xcb, Atomic, Imm(0x100), "load_acquireh", Atomic32, V4),
    form(0xcb, Atomic, Imm(0x110), "store_releaseh", Atomic32, V4),
    form(0xc3, Atomic, Imm(0x100), "load_acquirew", Atomic32, V4),
    form(0xc3, Atomic, Imm(0x110), "store_releasew", Atomic32, V4),
    form(0xdb, Atomic, Imm(0x100), "load_acquiredw", Atomic64, V4),
    form(0xdb, Atomic, Imm(0x110), "store_releasedw", Atomic64, V4),
];

/// For each opcode byte, its shape, or `None` if the opcode does not exist. Derived from [`FORMS`]:
/// the first form of an opcode gives its shape (so `BPF_ALU64 | BPF_MOV | BPF_X` is `AluX`, and the
/// address-space cast is told apart by its `off`).
pub static SHAPES: [Option<Shape>; 256] = {
    let mut t = [Option::None; 256];
    let mut i = 0;
    while i < FORMS.len() {
        if t[FORMS[i].code as usize].is_none() {
            t[FORMS[i].code as usize] = Some(FORMS[i].shape);
        }
        i += 1;
    }
    t
};

/// The shape of an opcode, if it exists.
pub fn shape(code: u8) -> Option<Shape> {
    SHAPES[code as usize]
}

/// All forms that share an opcode byte.
pub fn forms_of(code: u8) -> impl Iterator<Item = &'static Form> {
    FORMS.iter().filter(move |f| f.code == code)
}

/// The form with a conformance mnemonic, if any.
pub fn by_mnemonic(mnemonic: &str) -> Option<&'static Form> {
    FORMS.iter().find(|f| f.mnemonic == mnemonic)
}

/// The form an instruction slot belongs to (by opcode and, where needed, its `off`/`imm`).
pub fn form_of(insn: crate::RawInsn) -> Option<&'static Form> {
    let mut plain = Option::None;
    for f in forms_of(insn.code) {
        match f.variant {
            Variant::None => plain = Some(f),
            Variant::Off(o) if o == insn.off => return Some(f),
            Variant::Imm(i) if i == insn.imm => return Some(f),
            _ => {}
        }
    }
    plain
}
