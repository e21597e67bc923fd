//! The raw instruction (`struct bpf_insn`) and its decoded form.

use core::fmt;

/// One 8-byte slot of a BPF program, exactly as `struct bpf_insn` in `include/uapi/linux/bpf.h`.
///
/// `regs` keeps `dst_reg` in its low nibble and `src_reg` in its high nibble (little-endian bitfield
/// order), so the in-memory layout is the kernel's and a `&[RawInsn]` can be handed to a JIT as is.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RawInsn {
    /// Opcode: class, size/mode or operation, source bit.
    pub code: u8,
    /// `dst_reg:4` (low) and `src_reg:4` (high).
    pub regs: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
}

impl RawInsn {
    /// Builds a slot from its fields. Register numbers are truncated to four bits, as the bitfield does.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        RawInsn { code, regs: (dst & 0xf) | ((src & 0xf) << 4), off, imm }
    }

    /// `dst_reg`.
    pub const fn dst(self) -> u8 {
        self.regs & 0xf
    }

    /// `src_reg`.
    pub const fn src(self) -> u8 {
        self.regs >> 4
    }

    /// Reads one slot from 8 little-endian bytes.
    pub const fn from_bytes(b: [u8; 8]) -> Self {
        RawInsn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The 8 little-endian bytes of this slot.
    pub const fn to_bytes(self) -> [u8; 8] {
        let o = self.off.to_le_bytes();
        let i = self.imm.to_le_bytes();
        [self.code, self.regs, o[0], o[1], i[0], i[1], i[2], i[3]]
    }

    /// The slot as one little-endian 64-bit word (the conformance suite's `-- raw` form).
    pub const fn to_u64(self) -> u64 {
        u64::from_le_bytes(self.to_bytes())
    }

    /// The slot from one little-endian 64-bit word.
    pub const fn from_u64(w: u64) -> Self {
        Self::from_bytes(w.to_le_bytes())
    }
}

impl fmt::Debug for RawInsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RawInsn {{ code: {:#04x}, dst: {}, src: {}, off: {}, imm: {} }}",
            self.code,
            self.dst(),
            self.src(),
            self.off,
            self.imm
        )
    }
}

/// Parses a byte buffer into slots. The length must be a multiple of 8.
pub fn raw_from_bytes(bytes: &[u8]) -> Result<Vec<RawInsn>, crate::DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(crate::DecodeError::new(
            bytes.len() / 8,
            crate::DecodeErrorKind::TrailingBytes { len: bytes.len() },
        ));
    }
    Ok(bytes.chunks_exact(8).map(|c| RawInsn::from_bytes(c.try_into().unwrap())).collect())
}

/// Serialises slots to bytes.
pub fn raw_to_bytes(insns: &[RawInsn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

/// A register number, 0 to 10. `r10` is the read-only frame pointer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// Return value and scratch.
    pub const R0: Reg = Reg(0);
    /// First argument; the context pointer on entry.
    pub const R1: Reg = Reg(1);
    /// Second argument.
    pub const R2: Reg = Reg(2);
    /// Third argument.
    pub const R3: Reg = Reg(3);
    /// Fourth argument.
    pub const R4: Reg = Reg(4);
    /// Fifth argument.
    pub const R5: Reg = Reg(5);
    /// The frame pointer.
    pub const R10: Reg = Reg(10);
    /// Number of registers, `MAX_BPF_REG` without the kernel's internal AX.
    pub const COUNT: usize = 11;

    /// A register from its number, if it is 0..=10.
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }

    /// The register's number.
    pub const fn num(self) -> u8 {
        self.0
    }

    /// As an index into a register file.
    pub const fn idx(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Operand width of an ALU or jump instruction: the class `BPF_ALU`/`BPF_JMP32` (32) or
/// `BPF_ALU64`/`BPF_JMP` (64).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Width {
    /// 32-bit subregisters (`wN`); ALU results are zero-extended to 64 bits.
    W32,
    /// Full 64-bit registers.
    W64,
}

/// The second operand: a register (`BPF_X`) or the immediate (`BPF_K`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Src {
    /// `BPF_X`: the source register.
    Reg(Reg),
    /// `BPF_K`: the 32-bit immediate, sign-extended for 64-bit operations.
    Imm(i32),
}

/// Memory access size (`BPF_SIZE`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Size {
    /// `BPF_B`, 1 byte.
    B,
    /// `BPF_H`, 2 bytes.
    H,
    /// `BPF_W`, 4 bytes.
    W,
    /// `BPF_DW`, 8 bytes.
    DW,
}

impl Size {
    /// Size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// The `BPF_SIZE` bits.
    pub const fn bits(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }

    /// From the `BPF_SIZE` bits of an opcode.
    pub const fn from_code(code: u8) -> Size {
        match code & 0x18 {
            0x00 => Size::W,
            0x08 => Size::H,
            0x10 => Size::B,
            _ => Size::DW,
        }
    }

    /// The kernel's C type name for this size (`u8` .. `u64`), as printed in `*(u32 *)(r1 +0)`.
    pub const fn c_type(self) -> &'static str {
        match self {
            Size::B => "u8",
            Size::H => "u16",
            Size::W => "u32",
            Size::DW => "u64",
        }
    }

    /// The signed C type name (`s8` .. `s32`), for sign-extending loads.
    pub const fn c_stype(self) -> &'static str {
        match self {
            Size::B => "s8",
            Size::H => "s16",
            Size::W => "s32",
            Size::DW => "s64",
        }
    }
}

/// A binary ALU operation, with the `off`-selected variants (`sdiv`/`smod` with off 1, `movsx` with
/// off 8/16/32) as their own operations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AluOp {
    /// `BPF_ADD`
    Add,
    /// `BPF_SUB`
    Sub,
    /// `BPF_MUL`
    Mul,
    /// `BPF_DIV`, off 0: unsigned division; division by zero gives 0.
    Div,
    /// `BPF_DIV`, off 1: signed division; division by zero gives 0, `MIN / -1` gives `MIN`.
    Sdiv,
    /// `BPF_OR`
    Or,
    /// `BPF_AND`
    And,
    /// `BPF_LSH`; the shift amount is masked to the width.
    Lsh,
    /// `BPF_RSH`, logical.
    Rsh,
    /// `BPF_MOD`, off 0: unsigned; modulo by zero leaves dst unchanged.
    Mod,
    /// `BPF_MOD`, off 1: signed; modulo by zero leaves dst unchanged, `MIN % -1` gives 0.
    Smod,
    /// `BPF_XOR`
    Xor,
    /// `BPF_MOV`, off 0.
    Mov,
    /// `BPF_MOV` with off 8, 16 or 32 (`BPF_X` only): move with sign extension from that many bits.
    Movsx(u8),
    /// `BPF_ARSH`, arithmetic right shift.
    Arsh,
}

impl AluOp {
    /// The `BPF_OP` bits.
    pub const fn op_bits(self) -> u8 {
        match self {
            AluOp::Add => 0x00,
            AluOp::Sub => 0x10,
            AluOp::Mul => 0x20,
            AluOp::Div | AluOp::Sdiv => 0x30,
            AluOp::Or => 0x40,
            AluOp::And => 0x50,
            AluOp::Lsh => 0x60,
            AluOp::Rsh => 0x70,
            AluOp::Mod | AluOp::Smod => 0x90,
            AluOp::Xor => 0xa0,
            AluOp::Mov | AluOp::Movsx(_) => 0xb0,
            AluOp::Arsh => 0xc0,
        }
    }

    /// The value of the `off` field that selects this variant.
    pub const fn off(self) -> i16 {
        match self {
            AluOp::Sdiv | AluOp::Smod => 1,
            AluOp::Movsx(bits) => bits as i16,
            _ => 0,
        }
    }

    /// The kernel disassembler's operator (`bpf_alu_string`, plus `s/=` and `s%=`).
    pub const fn kernel_str(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::Sdiv => "s/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Mod => "%=",
            AluOp::Smod => "s%=",
            AluOp::Xor => "^=",
            AluOp::Mov | AluOp::Movsx(_) => "=",
            AluOp::Arsh => "s>>=",
        }
    }
}

/// Byte-order operation (`BPF_END`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EndKind {
    /// `BPF_ALU | BPF_END | BPF_TO_LE`: convert to little endian (truncate on x86).
    ToLe,
    /// `BPF_ALU | BPF_END | BPF_TO_BE`: convert to big endian.
    ToBe,
    /// `BPF_ALU64 | BPF_END | BPF_TO_LE`: unconditional byte swap (cpu v4).
    Bswap,
}

/// A conditional jump condition.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum JmpOp {
    /// `BPF_JEQ`, `==`
    Jeq,
    /// `BPF_JGT`, unsigned `>`
    Jgt,
    /// `BPF_JGE`, unsigned `>=`
    Jge,
    /// `BPF_JSET`, `&`
    Jset,
    /// `BPF_JNE`, `!=`
    Jne,
    /// `BPF_JSGT`, signed `>`
    Jsgt,
    /// `BPF_JSGE`, signed `>=`
    Jsge,
    /// `BPF_JLT`, unsigned `<`
    Jlt,
    /// `BPF_JLE`, unsigned `<=`
    Jle,
    /// `BPF_JSLT`, signed `<`
    Jslt,
    /// `BPF_JSLE`, signed `<=`
    Jsle,
}

impl JmpOp {
    /// All conditions, in opcode order.
    pub const ALL: [JmpOp; 11] = [
        JmpOp::Jeq,
        JmpOp::Jgt,
        JmpOp::Jge,
        JmpOp::Jset,
        JmpOp::Jne,
        JmpOp::Jsgt,
        JmpOp::Jsge,
        JmpOp::Jlt,
        JmpOp::Jle,
        JmpOp::Jslt,
        JmpOp::Jsle,
    ];

    /// The `BPF_OP` bits.
    pub const fn op_bits(self) -> u8 {
        match self {
            JmpOp::Jeq => 0x10,
            JmpOp::Jgt => 0x20,
            JmpOp::Jge => 0x30,
            JmpOp::Jset => 0x40,
            JmpOp::Jne => 0x50,
            JmpOp::Jsgt => 0x60,
            JmpOp::Jsge => 0x70,
            JmpOp::Jlt => 0xa0,
            JmpOp::Jle => 0xb0,
            JmpOp::Jslt => 0xc0,
            JmpOp::Jsle => 0xd0,
        }
    }

    /// The condition for `BPF_OP` bits, if they name one.
    pub const fn from_op_bits(op: u8) -> Option<JmpOp> {
        Some(match op {
            0x10 => JmpOp::Jeq,
            0x20 => JmpOp::Jgt,
            0x30 => JmpOp::Jge,
            0x40 => JmpOp::Jset,
            0x50 => JmpOp::Jne,
            0x60 => JmpOp::Jsgt,
            0x70 => JmpOp::Jsge,
            0xa0 => JmpOp::Jlt,
            0xb0 => JmpOp::Jle,
            0xc0 => JmpOp::Jslt,
            0xd0 => JmpOp::Jsle,
            _ => return None,
        })
    }

    /// The kernel disassembler's operator (`bpf_jmp_string`).
    pub const fn kernel_str(self) -> &'static str {
        match self {
            JmpOp::Jeq => "==",
            JmpOp::Jgt => ">",
            JmpOp::Jge => ">=",
            JmpOp::Jset => "&",
            JmpOp::Jne => "!=",
            JmpOp::Jsgt => "s>",
            JmpOp::Jsge => "s>=",
            JmpOp::Jlt => "<",
            JmpOp::Jle => "<=",
            JmpOp::Jslt => "s<",
            JmpOp::Jsle => "s<=",
        }
    }

    /// Evaluates the condition on 64-bit operands.
    #[inline(always)]
    pub fn eval64(self, a: u64, b: u64) -> bool {
        match self {
            JmpOp::Jeq => a == b,
            JmpOp::Jgt => a > b,
            JmpOp::Jge => a >= b,
            JmpOp::Jset => a & b != 0,
            JmpOp::Jne => a != b,
            JmpOp::Jsgt => (a as i64) > (b as i64),
            JmpOp::Jsge => (a as i64) >= (b as i64),
            JmpOp::Jlt => a < b,
            JmpOp::Jle => a <= b,
            JmpOp::Jslt => (a as i64) < (b as i64),
            JmpOp::Jsle => (a as i64) <= (b as i64),
        }
    }

    /// Evaluates the condition on 32-bit operands (`BPF_JMP32`).
    #[inline(always)]
    pub fn eval32(self, a: u32, b: u32) -> bool {
        match self {
            JmpOp::Jeq => a == b,
            JmpOp::Jgt => a > b,
            JmpOp::Jge => a >= b,
            JmpOp::Jset => a & b != 0,
            JmpOp::Jne => a != b,
            JmpOp::Jsgt => (a as i32) > (b as i32),
            JmpOp::Jsge => (a as i32) >= (b as i32),
            JmpOp::Jlt => a < b,
            JmpOp::Jle => a <= b,
            JmpOp::Jslt => (a as i32) < (b as i32),
            JmpOp::Jsle => (a as i32) <= (b as i32),
        }
    }
}

/// An atomic read-modify-write operation (`BPF_STX | BPF_ATOMIC`, selected by `imm`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AtomicOp {
    /// `BPF_ADD`, optionally with `BPF_FETCH` (old value into src).
    Add {
        /// `BPF_FETCH`
        fetch: bool,
    },
    /// `BPF_OR`
    Or {
        /// `BPF_FETCH`
        fetch: bool,
    },
    /// `BPF_AND`
    And {
        /// `BPF_FETCH`
        fetch: bool,
    },
    /// `BPF_XOR`
    Xor {
        /// `BPF_FETCH`
        fetch: bool,
    },
    /// `BPF_XCHG`: swap src and memory.
    Xchg,
    /// `BPF_CMPXCHG`: compare memory with r0, store src if equal; r0 gets the old value.
    Cmpxchg,
    /// `BPF_LOAD_ACQ`: dst = load-acquire of `*(src + off)` (encoded with the loaded register in `dst`).
    LoadAcquire,
    /// `BPF_STORE_REL`: store-release of src to `*(dst + off)`.
    StoreRelease,
}

impl AtomicOp {
    /// `BPF_FETCH`
    pub const FETCH: i32 = 0x01;
    /// `BPF_XCHG`
    pub const XCHG: i32 = 0xe0 | 0x01;
    /// `BPF_CMPXCHG`
    pub const CMPXCHG: i32 = 0xf0 | 0x01;
    /// `BPF_LOAD_ACQ`
    pub const LOAD_ACQ: i32 = 0x100;
    /// `BPF_STORE_REL`
    pub const STORE_REL: i32 = 0x110;

    /// The `imm` field that encodes this operation.
    pub const fn imm(self) -> i32 {
        const fn f(fetch: bool) -> i32 {
            if fetch {
                AtomicOp::FETCH
            } else {
                0
            }
        }
        match self {
            AtomicOp::Add { fetch } => f(fetch),
            AtomicOp::Or { fetch } => 0x40 | f(fetch),
            AtomicOp::And { fetch } => 0x50 | f(fetch),
            AtomicOp::Xor { fetch } => 0xa0 | f(fetch),
            AtomicOp::Xchg => Self::XCHG,
            AtomicOp::Cmpxchg => Self::CMPXCHG,
            AtomicOp::LoadAcquire => Self::LOAD_ACQ,
            AtomicOp::StoreRelease => Self::STORE_REL,
        }
    }

    /// The operation an `imm` encodes, if any.
    pub const fn from_imm(imm: i32) -> Option<AtomicOp> {
        Some(match imm {
            0x00 => AtomicOp::Add { fetch: false },
            0x01 => AtomicOp::Add { fetch: true },
            0x40 => AtomicOp::Or { fetch: false },
            0x41 => AtomicOp::Or { fetch: true },
            0x50 => AtomicOp::And { fetch: false },
            0x51 => AtomicOp::And { fetch: true },
            0xa0 => AtomicOp::Xor { fetch: false },
            0xa1 => AtomicOp::Xor { fetch: true },
            Self::XCHG => AtomicOp::Xchg,
            Self::CMPXCHG => AtomicOp::Cmpxchg,
            Self::LOAD_ACQ => AtomicOp::LoadAcquire,
            Self::STORE_REL => AtomicOp::StoreRelease,
            _ => return None,
        })
    }

    /// Whether the old memory value is written back to a register (src, or r0 for cmpxchg).
    pub const fn fetches(self) -> bool {
        match self {
            AtomicOp::Add { fetch }
            | AtomicOp::Or { fetch }
            | AtomicOp::And { fetch }
            | AtomicOp::Xor { fetch } => fetch,
            AtomicOp::Xchg | AtomicOp::Cmpxchg | AtomicOp::LoadAcquire => true,
            AtomicOp::StoreRelease => false,
        }
    }
}

/// The source of a 64-bit immediate load (`BPF_LD | BPF_IMM | BPF_DW`): `src_reg` selects how the
/// loader or verifier turns `imm` into a value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Pseudo {
    /// src 0: a plain 64-bit constant.
    Imm,
    /// `BPF_PSEUDO_MAP_FD` (1): the map with fd `imm`.
    MapFd,
    /// `BPF_PSEUDO_MAP_VALUE` (2): address of the value of map fd `imm`, plus the offset in the second `imm`.
    MapValue,
    /// `BPF_PSEUDO_BTF_ID` (3): address of a kernel variable by BTF id.
    BtfId,
    /// `BPF_PSEUDO_FUNC` (4): address of the subprogram `imm` slots after the next instruction.
    Func,
    /// `BPF_PSEUDO_MAP_IDX` (5): like `MapFd`, by index into the `fd_array`.
    MapIdx,
    /// `BPF_PSEUDO_MAP_IDX_VALUE` (6): like `MapValue`, by index into the `fd_array`.
    MapIdxValue,
}

impl Pseudo {
    /// The `src_reg` value.
    pub const fn src(self) -> u8 {
        match self {
            Pseudo::Imm => 0,
            Pseudo::MapFd => 1,
            Pseudo::MapValue => 2,
            Pseudo::BtfId => 3,
            Pseudo::Func => 4,
            Pseudo::MapIdx => 5,
            Pseudo::MapIdxValue => 6,
        }
    }

    /// From `src_reg`.
    pub const fn from_src(src: u8) -> Option<Pseudo> {
        Some(match src {
            0 => Pseudo::Imm,
            1 => Pseudo::MapFd,
            2 => Pseudo::MapValue,
            3 => Pseudo::BtfId,
            4 => Pseudo::Func,
            5 => Pseudo::MapIdx,
            6 => Pseudo::MapIdxValue,
            _ => return None,
        })
    }
}

/// What a `call` (`BPF_JMP | BPF_CALL | BPF_K`) calls, selected by `src_reg`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CallKind {
    /// src 0: helper function number `imm`.
    Helper(i32),
    /// `BPF_PSEUDO_CALL` (1): the bpf-to-bpf function at `pc + 1 + imm`.
    Local(i32),
    /// `BPF_PSEUDO_KFUNC_CALL` (2): the kernel function with BTF id `imm`, in the BTF named by
    /// `off` (0: vmlinux; otherwise an index into the `fd_array` of module BTFs).
    Kfunc {
        /// BTF id of the FUNC.
        btf_id: i32,
        /// 0 for the base BTF, else the module BTF's `fd_array` index.
        btf_off: i16,
    },
}

/// A decoded instruction. `LdImm64` stands for two slots; every other variant for one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Insn {
    /// `dst op= src` on 32 or 64 bits.
    Alu {
        /// `BPF_ALU` or `BPF_ALU64`.
        width: Width,
        /// The operation.
        op: AluOp,
        /// Destination (and first operand).
        dst: Reg,
        /// Second operand.
        src: Src,
    },
    /// `dst = -dst`.
    Neg {
        /// `BPF_ALU` or `BPF_ALU64`.
        width: Width,
        /// Operand.
        dst: Reg,
    },
    /// Byte-order conversion or swap of the low `bits` of dst.
    End {
        /// Which conversion.
        kind: EndKind,
        /// 16, 32 or 64.
        bits: u8,
        /// Operand.
        dst: Reg,
    },
    /// `dst = addr_space_cast(src, 0, 1)` (`BPF_ALU64 | BPF_MOV | BPF_X` with off 1), arena pointers.
    AddrSpaceCast {
        /// Destination.
        dst: Reg,
        /// Source.
        src: Reg,
        /// Address space converted to (high 16 bits of imm).
        to_as: u16,
        /// Address space converted from (low 16 bits of imm).
        from_as: u16,
    },
    /// Unconditional jump: `goto pc+off` (`BPF_JMP | BPF_JA`) or `gotol pc+imm` (`BPF_JMP32 | BPF_JA`).
    Ja {
        /// Relative target, in slots, from the next instruction.
        off: i32,
        /// `gotol`: the 32-bit form.
        long: bool,
    },
    /// `if dst op src goto pc+off`.
    Jmp {
        /// `BPF_JMP32` or `BPF_JMP`.
        width: Width,
        /// The condition.
        op: JmpOp,
        /// First operand.
        dst: Reg,
        /// Second operand.
        src: Src,
        /// Relative target.
        off: i16,
    },
    /// `may_goto pc+off` (`BPF_JMP | BPF_JCOND`): taken once the loop budget runs out.
    MayGoto {
        /// Relative target.
        off: i16,
    },
    /// `call`.
    Call(CallKind),
    /// `callx reg` (`BPF_JMP | BPF_CALL | BPF_X`, the register in `dst`): call the helper whose number
    /// is in the register. Linux does not accept it; the conformance suite's `callx` group uses it.
    Callx {
        /// The register holding the target.
        reg: Reg,
    },
    /// `exit`.
    Exit,
    /// `dst = *(size *)(src + off)`, zero-extending (`BPF_LDX | BPF_MEM`) or sign-extending (`BPF_MEMSX`).
    Load {
        /// Access size.
        size: Size,
        /// `BPF_MEMSX`.
        sign_extend: bool,
        /// Destination.
        dst: Reg,
        /// Base address register.
        src: Reg,
        /// Offset from the base.
        off: i16,
    },
    /// `*(size *)(dst + off) = imm` (`BPF_ST | BPF_MEM`).
    StoreImm {
        /// Access size.
        size: Size,
        /// Base address register.
        dst: Reg,
        /// Offset.
        off: i16,
        /// Value, truncated to the size.
        imm: i32,
    },
    /// `*(size *)(dst + off) = src` (`BPF_STX | BPF_MEM`).
    Store {
        /// Access size.
        size: Size,
        /// Base address register.
        dst: Reg,
        /// Value register.
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// `BPF_STX | BPF_ATOMIC`.
    Atomic {
        /// `BPF_W` or `BPF_DW` (and `BPF_B`/`BPF_H` for load-acquire/store-release).
        size: Size,
        /// The operation.
        op: AtomicOp,
        /// Base address register (the loaded register for load-acquire).
        dst: Reg,
        /// Operand register (the base register for load-acquire).
        src: Reg,
        /// Offset.
        off: i16,
    },
    /// `dst = imm64` (`BPF_LD | BPF_IMM | BPF_DW`), two slots.
    LdImm64 {
        /// Destination.
        dst: Reg,
        /// How `imm` is interpreted.
        pseudo: Pseudo,
        /// `imm` of the first slot.
        imm: i32,
        /// `imm` of the second slot.
        imm_hi: i32,
    },
    /// Legacy packet load `r0 = *(size *)skb[imm]` (`BPF_LD | BPF_ABS`).
    LdAbs {
        /// `BPF_B`, `BPF_H` or `BPF_W`.
        size: Size,
        /// Packet offset.
        imm: i32,
    },
    /// Legacy packet load `r0 = *(size *)skb[src + imm]` (`BPF_LD | BPF_IND`).
    LdInd {
        /// `BPF_B`, `BPF_H` or `BPF_W`.
        size: Size,
        /// Offset register.
        src: Reg,
        /// Added offset.
        imm: i32,
    },
}

impl Insn {
    /// Number of slots the instruction occupies (2 for `lddw`).
    pub const fn slots(&self) -> usize {
        match self {
            Insn::LdImm64 { .. } => 2,
            _ => 1,
        }
    }

    /// For `LdImm64`, the 64-bit constant `imm | imm_hi << 32`.
    pub const fn imm64(&self) -> Option<u64> {
        match *self {
            Insn::LdImm64 { imm, imm_hi, .. } => Some((imm as u32 as u64) | ((imm_hi as u32 as u64) << 32)),
            _ => None,
        }
    }
}
