//! The bpf_conformance suite's assembler syntax (uBPF's: `mov32 %r0, 1`, `ldxh %r3, [%r1+12]`,
//! `lock fetch add [%r10-8], %r1`, `call local f`, labels `L1:`), so the suite's `.data` files run.
//!
//! Mnemonics come from the opcode table ([`crate::opcode::FORMS`]); this module only parses
//! operands. Immediates are range-checked the way the suite's own assembler checks them: a decimal
//! 32-bit immediate must fit `i32`, a hexadecimal one `u32`; memory and jump offsets must fit `i16`.

use crate::insn::RawInsn;
use crate::opcode::{self, Shape, Variant};
use std::collections::HashMap;

/// An assembly error, with the 1-based line it is on.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AsmError {
    /// 1-based line number in the source text.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

struct Line<'a> {
    no: usize,
    mnemonic: String,
    operands: Vec<&'a str>,
}

/// Assembles conformance-syntax source into slots.
pub fn assemble(src: &str) -> Result<Vec<RawInsn>, AsmError> {
    let mut lines = Vec::new();
    let mut labels: HashMap<&str, usize> = HashMap::new();
    let mut slot = 0usize;
    let mut first_exit = None;
    for (i, text) in src.lines().enumerate() {
        let no = i + 1;
        let text = text.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        if let Some(label) = text.strip_suffix(':') {
            let label = label.trim();
            if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(AsmError { line: no, message: format!("invalid label `{label}`") });
            }
            if labels.insert(label, slot).is_some() {
                return Err(AsmError { line: no, message: format!("label `{label}` defined twice") });
            }
            continue;
        }
        let (mnemonic, rest) = split_mnemonic(text);
        let operands: Vec<&str> =
            if rest.is_empty() { Vec::new() } else { rest.split(',').map(str::trim).collect() };
        if mnemonic == "exit" && first_exit.is_none() {
            first_exit = Some(slot);
        }
        slot += if mnemonic == "lddw" { 2 } else { 1 };
        lines.push(Line { no, mnemonic, operands });
    }
    // Like the suite's assembler, the first `exit` is also a label named `exit`.
    if let Some(e) = first_exit {
        labels.entry("exit").or_insert(e);
    }
    let mut out = Vec::with_capacity(slot);
    for line in &lines {
        let pc = out.len();
        assemble_line(line, pc, &labels, &mut out).map_err(|message| AsmError { line: line.no, message })?;
    }
    Ok(out)
}

/// Splits a line into its mnemonic and operand text. `lock` takes the words before the memory
/// operand into the mnemonic (`lock fetch add32`), and `call local` is one mnemonic.
fn split_mnemonic(text: &str) -> (String, &str) {
    let first_end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (first, rest) = (&text[..first_end], text[first_end..].trim_start());
    if first == "lock" {
        let end = rest.find('[').unwrap_or(rest.len());
        let words: Vec<&str> = std::iter::once(first).chain(rest[..end].split_whitespace()).collect();
        return (words.join(" "), &rest[end..]);
    }
    if first == "call" {
        for mode in ["local", "helper", "runtime"] {
            if let Some(target) = rest.strip_prefix(mode) {
                if target.starts_with(char::is_whitespace) {
                    return (format!("call {mode}"), target.trim_start());
                }
            }
        }
    }
    (first.to_string(), rest)
}

fn reg(s: &str) -> Result<u8, String> {
    let n = s.strip_prefix("%r").ok_or_else(|| format!("expected a register, found `{s}`"))?;
    match n.parse::<u8>() {
        Ok(n) if n <= 10 => Ok(n),
        _ => Err(format!("invalid register `{s}`")),
    }
}

fn parse_int(s: &str) -> Result<(i128, bool), String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (v, hex) = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (i128::from_str_radix(h, 16), true)
    } else {
        (body.parse::<i128>(), false)
    };
    let v = v.map_err(|_| format!("invalid number `{s}`"))?;
    Ok((if neg { -v } else { v }, hex))
}

fn imm32(s: &str) -> Result<i32, String> {
    let (v, hex) = parse_int(s)?;
    let ok = if hex {
        (-(1i128 << 32) < v) && v < (1i128 << 32)
    } else {
        i32::MIN as i128 <= v && v <= i32::MAX as i128
    };
    if !ok {
        return Err(format!("immediate `{s}` out of 32-bit range"));
    }
    Ok(v as i64 as i32)
}

fn imm64(s: &str) -> Result<u64, String> {
    let (v, _) = parse_int(s)?;
    if v < i64::MIN as i128 || v > u64::MAX as i128 {
        return Err(format!("immediate `{s}` out of 64-bit range"));
    }
    Ok(v as u64)
}

fn off16(s: &str) -> Result<i16, String> {
    let (v, _) = parse_int(s)?;
    i16::try_from(v).map_err(|_| format!("offset `{s}` out of 16-bit range"))
}

/// `[%rN]`, `[%rN+off]`, `[%rN-off]`.
fn mem(s: &str) -> Result<(u8, i16), String> {
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("expected a memory operand `[%rN+off]`, found `{s}`"))?;
    match inner.find(['+', '-']) {
        None => Ok((reg(inner.trim())?, 0)),
        Some(p) => Ok((reg(inner[..p].trim())?, off16(inner[p..].trim())?)),
    }
}

fn target(s: &str, pc: usize, labels: &HashMap<&str, usize>) -> Result<i64, String> {
    if s.starts_with(['+', '-']) || s.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(parse_int(s)?.0 as i64);
    }
    let t = labels.get(s).ok_or_else(|| format!("unknown label `{s}`"))?;
    Ok(*t as i64 - pc as i64 - 1)
}

fn count(ops: &[&str], n: usize, mnemonic: &str) -> Result<(), String> {
    if ops.len() != n {
        return Err(format!("Invalid number of operands for {mnemonic}: expected {n}, found {}", ops.len()));
    }
    Ok(())
}

fn assemble_line(
    line: &Line<'_>,
    pc: usize,
    labels: &HashMap<&str, usize>,
    out: &mut Vec<RawInsn>,
) -> Result<(), String> {
    let m = line.mnemonic.as_str();
    let ops = line.operands.as_slice();
    if m.starts_with("lock") && (ops.len() != 2 || m == "lock") {
        return Err("Invalid number of operands for lock".into());
    }
    if m == "call local" {
        count(ops, 1, m)?;
        let rel = target(ops[0], pc, labels)?;
        out.push(RawInsn::new(0x85, 0, opcode::PSEUDO_CALL, 0, rel as i32));
        return Ok(());
    }
    if m == "call" && ops.len() == 1 && ops[0].starts_with('%') {
        out.push(RawInsn::new(0x8d, reg(ops[0])?, 0, 0, 0));
        return Ok(());
    }
    // `call helper N` and `call runtime N` name the call's kind; `swapN` is the suite's older
    // name for `bswapN`.
    let m = match m {
        "call helper" => "call",
        "call runtime" => {
            count(ops, 1, m)?;
            out.push(RawInsn::new(0x85, 0, opcode::PSEUDO_KFUNC_CALL, 0, imm32(ops[0])?));
            return Ok(());
        }
        "swap16" => "bswap16",
        "swap32" => "bswap32",
        "swap64" => "bswap64",
        m => m,
    };
    let form = opcode::by_mnemonic(m).ok_or_else(|| format!("unknown mnemonic `{m}`"))?;
    let (off_v, imm_v) = match form.variant {
        Variant::None => (0, 0),
        Variant::Off(o) => (o, 0),
        Variant::Imm(i) => (0, i),
    };
    let code = form.code;
    let insn = match form.shape {
        Shape::AluK | Shape::AluX => {
            count(ops, 2, m)?;
            let dst = reg(ops[0])?;
            if ops[1].starts_with('%') {
                // The table lists the K opcode first for each mnemonic; X is the same with BPF_X.
                RawInsn::new(code | opcode::SRC_X, dst, reg(ops[1])?, off_v, 0)
            } else if form.shape == Shape::AluX {
                return Err(format!("`{m}` takes a register source"));
            } else {
                RawInsn::new(code, dst, 0, off_v, imm32(ops[1])?)
            }
        }
        Shape::Neg | Shape::End => {
            count(ops, 1, m)?;
            RawInsn::new(code, reg(ops[0])?, 0, 0, imm_v)
        }
        Shape::AddrSpaceCast => return Err(format!("`{m}` has no conformance syntax")),
        Shape::Ja => {
            count(ops, 1, m)?;
            let rel = target(ops[0], pc, labels)?;
            if code == 0x06 {
                RawInsn::new(code, 0, 0, 0, i32::try_from(rel).map_err(|_| "jump out of range")?)
            } else {
                RawInsn::new(code, 0, 0, i16::try_from(rel).map_err(|_| "jump out of range")?, 0)
            }
        }
        Shape::JmpK | Shape::JmpX => {
            count(ops, 3, m)?;
            let dst = reg(ops[0])?;
            let rel = i16::try_from(target(ops[2], pc, labels)?).map_err(|_| "jump out of range")?;
            if ops[1].starts_with('%') {
                RawInsn::new(code | opcode::SRC_X, dst, reg(ops[1])?, rel, 0)
            } else {
                RawInsn::new(code, dst, 0, rel, imm32(ops[1])?)
            }
        }
        Shape::Call => {
            count(ops, 1, m)?;
            RawInsn::new(code, 0, 0, 0, imm32(ops[0])?)
        }
        Shape::Callx => {
            count(ops, 1, m)?;
            RawInsn::new(code, reg(ops[0])?, 0, 0, 0)
        }
        Shape::Exit => {
            count(ops, 0, m)?;
            RawInsn::new(code, 0, 0, 0, 0)
        }
        Shape::MayGoto => {
            count(ops, 1, m)?;
            let rel = i16::try_from(target(ops[0], pc, labels)?).map_err(|_| "jump out of range")?;
            RawInsn::new(code, 0, 0, rel, 0)
        }
        Shape::LdImm64 => {
            count(ops, 2, m)?;
            let v = imm64(ops[1])?;
            out.push(RawInsn::new(code, reg(ops[0])?, 0, 0, v as u32 as i32));
            RawInsn::new(0, 0, 0, 0, (v >> 32) as u32 as i32)
        }
        Shape::LdAbs => {
            count(ops, 1, m)?;
            RawInsn::new(code, 0, 0, 0, imm32(ops[0])?)
        }
        Shape::LdInd => {
            count(ops, 2, m)?;
            RawInsn::new(code, 0, reg(ops[0])?, 0, imm32(ops[1])?)
        }
        Shape::Ldx | Shape::LdxSx => {
            count(ops, 2, m)?;
            let (base, off) = mem(ops[1])?;
            RawInsn::new(code, reg(ops[0])?, base, off, 0)
        }
        Shape::St => {
            count(ops, 2, m)?;
            let (base, off) = mem(ops[0])?;
            RawInsn::new(code, base, 0, off, imm32(ops[1])?)
        }
        Shape::Stx | Shape::Atomic => {
            count(ops, 2, m)?;
            let (base, off) = mem(ops[0])?;
            RawInsn::new(code, base, reg(ops[1])?, off, imm_v)
        }
    };
    out.push(insn);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_and_labels() {
        let p = assemble(
            "mov32 %r0, 1\nL1:\nldxh %r3, [%r1+12]\nlock fetch add32 [%r10-8], %r1\njne %r0, 5, L1\nlddw %r1, 0x1122334455667788\ncall local L1\ncall %r2\nexit\n",
        )
        .unwrap();
        assert_eq!(p[0], RawInsn::new(0xb4, 0, 0, 0, 1));
        assert_eq!(p[1], RawInsn::new(0x69, 3, 1, 12, 0));
        assert_eq!(p[2], RawInsn::new(0xc3, 10, 1, -8, 0x01));
        assert_eq!(p[3], RawInsn::new(0x55, 0, 0, -3, 5));
        assert_eq!(p[4], RawInsn::new(0x18, 1, 0, 0, 0x55667788));
        assert_eq!(p[5], RawInsn::new(0, 0, 0, 0, 0x11223344));
        assert_eq!(p[6], RawInsn::new(0x85, 0, 1, 0, -6));
        assert_eq!(p[7], RawInsn::new(0x8d, 2, 0, 0, 0));
    }

    #[test]
    fn refuses_bad_operands() {
        for bad in [
            "mov32 %r0, 2147483648",
            "mov32 %r0, 0x100000000",
            "ja NOT_A_LABEL",
            "lock or [%r10-8]",
            "lock",
            "ldxq %r0, %r1",
            "ldxb %r0, %r1",
            "ldxb %r0, [%r1+0x10000]",
            "lddw %r0",
            "or %r0, %r50",
        ] {
            assert!(assemble(bad).is_err(), "{bad}");
        }
    }
}
