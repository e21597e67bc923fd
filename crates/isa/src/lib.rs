//! The eBPF instruction set as Linux 6.18 and RFC 9669 define it.
//!
//! - [`opcode`]: the one opcode table ([`opcode::FORMS`]) that everything else derives from;
//! - [`RawInsn`] (`struct bpf_insn`) and the decoded [`Insn`];
//! - [`decode`]/[`decode_program`] and [`Insn::encode`], refusing what the kernel refuses;
//!
//! Text forms live beside them: the kernel verifier log's pseudo-C ([`disasm`] prints it exactly as
//! `print_bpf_insn` does, [`asm`] reads it back) and the bpf_conformance suite's assembler syntax
//! (`conformance`).

#![deny(missing_docs)]

pub mod asm;
pub mod conformance;
mod decode;
pub mod disasm;
mod insn;
pub mod opcode;

pub use decode::{decode, decode_program, encode_program, DecodeError, DecodeErrorKind};
pub use insn::*;
