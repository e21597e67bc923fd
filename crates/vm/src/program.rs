//! Preparing a program for execution: validation, and resolving calls to host functions.

use crate::error::LoadError;
use crate::host::{HostFn, HostFns};
use kfvm_isa::{decode_program, CallKind, Insn, Pseudo, RawInsn};
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
}

/// The opcode of the sentinel slot appended after the last instruction (`BPF_LD | BPF_IMM | BPF_W`,
/// which is not a valid instruction, so it can appear nowhere else in an executable copy except as
/// the unexecuted second half of a `lddw`).
pub(crate) const SENTINEL: u8 = 0x00;

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
        code.push(RawInsn::new(SENTINEL, 0, 0, 0, 0));
        Ok(Program { raw: insns.to_vec(), code, calls, helpers: host.helpers.clone() })
    }

    /// The program's instructions as loaded.
    pub fn insns(&self) -> &[RawInsn] {
        &self.raw
    }
}
