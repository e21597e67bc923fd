//! An assembler for the Linux verifier log's pseudo-C, the text [`crate::disasm`] prints.
//!
//! One instruction per line, in the syntax of `print_bpf_insn` (`kernel/bpf/disasm.c`):
//!
//! ```text
//! start:                           ; a label
//!     r1 = 0                       ; mov with a decimal immediate
//!     r2 = 0x100000000             ; lddw: the kernel prints 64-bit constants in hex
//!     *(u64 *)(r10 -8) = r1
//!     r0 = atomic64_fetch_add((u64 *)(r10 -8), r0)
//!     if r1 s> 0x5 goto start      // a jump to a label, or `goto pc+N`
//!     call bpf_map_lookup_elem#1   # by name and id, by name, or by id: `call 1`
//! 3: (95) exit                     ; verifier-log lines paste as they are
//! ```
//!
//! A line may start with a slot index `N:` (ignored) and an opcode prefix `(xx)` (checked against
//! the instruction's opcode), then a label `name:`, so a verifier log or a [`crate::disasm::listing`]
//! assembles directly. Comments start with `;`, `//`, or a `#` at the start of a line or after
//! blank space (`#` right after a name is the `name#id` of a call). Blank space between tokens is
//! free: `*(u64*)(r10-8)` reads like `*(u64 *)(r10 -8)`.
//!
//! Besides the kernel's text, the assembler reads kfvm's lossless extensions (see
//! [`crate::disasm::Options::lossless`]): `r1 = map[fd:N]`, `map[fd:N][0]+OFF`, `map[idx:N]`,
//! `map[idx:N][0]+OFF`, `btf_id[N]`, `subprog[+N]` or `subprog[label]` (each with `+HI` for a second `imm`),
//! `call name#id@off` and `callx rN`; `ll` after a constant forces a `lddw`.
//!
//! Immediates that the kernel prints in decimal (ALU, stores) take `-2^31 .. 2^32-1`; jump
//! immediates, which it prints as `0x%x`, the same. `rN = <hex>` is a `lddw`, `rN = <decimal>` a
//! 32-bit-immediate `mov`, as in the kernel's output.

use crate::disasm::{helper_id, NoSymbols, Symbols};
use crate::insn::*;
use std::collections::HashMap;

/// An assembly error: where (1-based line and column, in bytes) and what was expected.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("line {line}, column {col}: {msg}")]
pub struct AsmError {
    /// Line number, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
    /// What is wrong.
    pub msg: String,
}

/// Assembles a program, naming calls with the helper table only.
pub fn assemble(text: &str) -> Result<Vec<Insn>, AsmError> {
    assemble_with(text, &NoSymbols)
}

/// Assembles a program, resolving call names with `syms` ([`Symbols::call_by_name`]).
pub fn assemble_with(text: &str, syms: &dyn Symbols) -> Result<Vec<Insn>, AsmError> {
    Ok(assemble_lines(text, syms)?.into_iter().map(|(_, i)| i).collect())
}

/// Assembles a program into slots.
pub fn assemble_raw(text: &str, syms: &dyn Symbols) -> Result<Vec<RawInsn>, AsmError> {
    Ok(crate::encode_program(&assemble_with(text, syms)?))
}

/// Assembles a program, giving each instruction with its (1-based) source line.
pub fn assemble_lines(text: &str, syms: &dyn Symbols) -> Result<Vec<(usize, Insn)>, AsmError> {
    let mut items: Vec<Item> = Vec::new();
    let mut labels: HashMap<String, (usize, usize, usize)> = HashMap::new();
    let mut slot = 0usize;
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let parsed = parse_line(line, lineno, syms)?;
        if let Some((name, col)) = parsed.label {
            if let Some(&(l, c, _)) = labels.get(&name) {
                return Err(err(
                    lineno,
                    col,
                    format!("label `{name}` already defined at line {l}, column {c}"),
                ));
            }
            labels.insert(name, (lineno, col, slot));
        }
        if let Some(item) = parsed.item {
            slot += item.insn.slots();
            items.push(item);
        }
    }
    let mut out = Vec::with_capacity(items.len());
    let mut slot = 0usize;
    for mut item in items {
        if let Some(target) = &item.target {
            let Some(&(_, _, to)) = labels.get(&target.name) else {
                let what = if target.call { "label or function" } else { "label" };
                return Err(err(item.line, target.col, format!("undefined {what} `{}`", target.name)));
            };
            let rel = to as i64 - (slot as i64 + 1);
            set_target(&mut item.insn, rel).map_err(|m| err(item.line, target.col, m))?;
        }
        slot += item.insn.slots();
        out.push((item.line, item.insn));
    }
    Ok(out)
}

/// Parses one instruction, without labels (a `goto label` is an error); accepts the same `N:` and
/// `(xx)` prefixes and comments as [`assemble`].
pub fn parse_insn(line: &str) -> Result<Insn, AsmError> {
    parse_insn_with(line, &NoSymbols)
}

/// [`parse_insn`] resolving call names with `syms`.
pub fn parse_insn_with(line: &str, syms: &dyn Symbols) -> Result<Insn, AsmError> {
    let parsed = parse_line(line, 1, syms)?;
    if let Some((name, col)) = parsed.label {
        return Err(err(1, col, format!("expected an instruction, found label `{name}:`")));
    }
    let Some(item) = parsed.item else {
        return Err(err(1, line.len() + 1, "expected an instruction, found nothing".into()));
    };
    if let Some(t) = item.target {
        return Err(err(
            1,
            t.col,
            format!("expected `pc+N`, found label `{}` (labels need `assemble`)", t.name),
        ));
    }
    Ok(item.insn)
}

fn err(line: usize, col: usize, msg: String) -> AsmError {
    AsmError { line, col, msg }
}

/// An instruction with an unresolved label.
struct Target {
    name: String,
    col: usize,
    /// `call name` with no `#id`: a label, or an error naming functions too.
    call: bool,
}

struct Item {
    line: usize,
    insn: Insn,
    target: Option<Target>,
}

struct Line {
    label: Option<(String, usize)>,
    item: Option<Item>,
}

/// Sets the relative target of a jump or call parsed with a label.
fn set_target(insn: &mut Insn, rel: i64) -> Result<(), String> {
    let short =
        |rel: i64| i16::try_from(rel).map_err(|_| format!("jump offset {rel} does not fit in 16 bits"));
    let long = |rel: i64| i32::try_from(rel).map_err(|_| format!("offset {rel} does not fit in 32 bits"));
    match insn {
        Insn::Ja { off, long: false } => *off = short(rel)? as i32,
        Insn::Ja { off, long: true } => *off = long(rel)?,
        Insn::Jmp { off, .. } | Insn::MayGoto { off } => *off = short(rel)?,
        Insn::Call(CallKind::Local(imm)) | Insn::LdImm64 { pseudo: Pseudo::Func, imm, .. } => {
            *imm = long(rel)?
        }
        _ => unreachable!("only jumps and calls take labels"),
    }
    Ok(())
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// Splits a line into its optional `N:` index, `(xx)` opcode prefix, `label:`, and the rest.
fn parse_line(line: &str, lineno: usize, syms: &dyn Symbols) -> Result<Line, AsmError> {
    let b = line.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(0);
    // `N:` slot index, as in the verifier log.
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j > i && j < b.len() && b[j] == b':' {
        i = skip_ws(j + 1);
    }
    // `(xx)` opcode prefix.
    let mut prefix = None;
    if b.len() >= i + 4 && b[i] == b'(' && b[i + 3] == b')' {
        if let Ok(code) = u8::from_str_radix(&line[i + 1..i + 3], 16) {
            prefix = Some((code, i + 1));
            i = skip_ws(i + 4);
        }
    }
    // `label:`
    let mut label = None;
    if i < b.len() && is_ident_start(b[i]) {
        let mut j = i;
        while j < b.len() && is_ident_char(b[j]) {
            j += 1;
        }
        if j < b.len() && b[j] == b':' {
            label = Some((line[i..j].to_string(), i + 1));
            i = skip_ws(j + 1);
        }
    }
    let toks = lex(line, i, lineno)?;
    if toks.is_empty() {
        if let Some((_, col)) = prefix {
            return Err(err(lineno, col, "expected an instruction after the opcode prefix".into()));
        }
        return Ok(Line { label, item: None });
    }
    let mut p = Parser { toks: &toks, pos: 0, line: lineno, eol: line.len() + 1, syms, target: None };
    let mut insn = p.stmt()?;
    p.end()?;
    if let Some((code, col)) = prefix {
        // The kernel prints `callx` (0x8d) as helper 0 and does not show its register.
        if code == 0x8d && insn == Insn::Call(CallKind::Helper(0)) {
            insn = Insn::Callx { reg: Reg::R0 };
        }
        let actual = insn.encode().0.code;
        if actual != code {
            return Err(err(
                lineno,
                col,
                format!("opcode prefix ({code:02x}) does not match the instruction, whose opcode is ({actual:02x})"),
            ));
        }
    }
    Ok(Line { label, item: Some(Item { line: lineno, insn, target: p.target }) })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok<'a> {
    Ident(&'a str),
    /// A number's magnitude (the sign is a separate `-`) and whether it was written in hex.
    Num(u64, bool),
    Punct(&'static str),
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    tok: Tok<'a>,
    /// 1-based column.
    col: usize,
    text: &'a str,
}

/// Punctuation, longest first. The `s`-prefixed operators are tried only where a token starts.
const PUNCT: &[&str] = &[
    "s>>=", "<<=", ">>=", "s/=", "s%=", "s>=", "s<=", "+=", "-=", "*=", "/=", "|=", "&=", "%=", "^=", "==",
    "!=", ">=", "<=", "s>", "s<", "=", ">", "<", "&", "(", ")", "[", "]", "*", ",", ":", "+", "-", "#", "@",
];

fn lex(line: &str, start: usize, lineno: usize) -> Result<Vec<Token<'_>>, AsmError> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    'outer: while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b';'
            || line[i..].starts_with("//")
            || (c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()))
        {
            break;
        }
        let col = i + 1;
        if c.is_ascii_digit() {
            let (val, hex, len) = lex_number(&line[i..]).map_err(|m| err(lineno, col, m))?;
            out.push(Token { tok: Tok::Num(val, hex), col, text: &line[i..i + len] });
            i += len;
            continue;
        }
        if c == b's' && i + 1 < b.len() && matches!(b[i + 1], b'>' | b'<' | b'/' | b'%') {
            for p in PUNCT.iter().filter(|p| p.starts_with('s')) {
                if line[i..].starts_with(p) {
                    out.push(Token { tok: Tok::Punct(p), col, text: &line[i..i + p.len()] });
                    i += p.len();
                    continue 'outer;
                }
            }
        }
        if is_ident_start(c) {
            let mut j = i + 1;
            // `-` joins words (`kernel-function`), never a word and a number (`pc-3`).
            while j < b.len()
                && (is_ident_char(b[j])
                    || (b[j] == b'-' && j + 1 < b.len() && b[j + 1].is_ascii_alphabetic()))
            {
                j += 1;
            }
            out.push(Token { tok: Tok::Ident(&line[i..j]), col, text: &line[i..j] });
            i = j;
            continue;
        }
        for p in PUNCT.iter().filter(|p| !p.starts_with('s')) {
            if line[i..].starts_with(p) {
                out.push(Token { tok: Tok::Punct(p), col, text: &line[i..i + p.len()] });
                i += p.len();
                continue 'outer;
            }
        }
        let ch = line[i..].chars().next().unwrap_or('?');
        return Err(err(lineno, col, format!("unexpected character `{ch}`")));
    }
    Ok(out)
}

/// Reads a decimal or `0x` number at the start of `s`: its value, whether hex, and its length.
fn lex_number(s: &str) -> Result<(u64, bool, usize), String> {
    let b = s.as_bytes();
    let (hex, start) =
        if b.len() > 1 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') { (true, 2) } else { (false, 0) };
    let mut j = start;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    let digits = &s[start..j];
    let v = if hex { u64::from_str_radix(digits, 16) } else { digits.parse::<u64>() };
    match v {
        Ok(v) => Ok((v, hex, j)),
        Err(_) if digits.is_empty() => Err("expected hex digits after `0x`".into()),
        Err(_) => Err(format!("`{}` is not a number that fits in 64 bits", &s[..j])),
    }
}

/// Register width letter and number.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct R {
    width: Width,
    reg: Reg,
}

fn reg_of(name: &str) -> Option<R> {
    let width = match name.as_bytes().first()? {
        b'r' => Width::W64,
        b'w' => Width::W32,
        _ => return None,
    };
    let num = &name[1..];
    if num.is_empty() || (num.len() > 1 && num.starts_with('0')) {
        return None;
    }
    let reg = Reg::new(num.parse().ok()?)?;
    Some(R { width, reg })
}

/// `bpf_ldst_string` / `bpf_ldsx_string` by name: size and signedness.
fn c_type(name: &str) -> Option<(Size, bool)> {
    Some(match name {
        "u8" => (Size::B, false),
        "u16" => (Size::H, false),
        "u32" => (Size::W, false),
        "u64" => (Size::DW, false),
        "s8" => (Size::B, true),
        "s16" => (Size::H, true),
        "s32" => (Size::W, true),
        _ => return None,
    })
}

fn alu_op(p: &str) -> Option<AluOp> {
    Some(match p {
        "+=" => AluOp::Add,
        "-=" => AluOp::Sub,
        "*=" => AluOp::Mul,
        "/=" => AluOp::Div,
        "s/=" => AluOp::Sdiv,
        "|=" => AluOp::Or,
        "&=" => AluOp::And,
        "<<=" => AluOp::Lsh,
        ">>=" => AluOp::Rsh,
        "%=" => AluOp::Mod,
        "s%=" => AluOp::Smod,
        "^=" => AluOp::Xor,
        "s>>=" => AluOp::Arsh,
        _ => return None,
    })
}

fn jmp_op(p: &str) -> Option<JmpOp> {
    JmpOp::ALL.into_iter().find(|op| op.kernel_str() == p)
}

/// A memory operand `(rN +off)`.
struct Mem {
    base: Reg,
    off: i16,
}

struct Parser<'a, 't> {
    toks: &'t [Token<'a>],
    pos: usize,
    line: usize,
    /// Column just past the end of the line, for errors at the end.
    eol: usize,
    syms: &'t dyn Symbols,
    target: Option<Target>,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<Token<'a>> {
        self.toks.get(self.pos).copied()
    }

    fn peek_tok(&self) -> Option<Tok<'a>> {
        self.peek().map(|t| t.tok)
    }

    fn col(&self) -> usize {
        self.peek().map_or(self.eol, |t| t.col)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.peek();
        self.pos += t.is_some() as usize;
        t
    }

    /// An error at the current token: "expected WHAT, found ...".
    fn expected<T>(&self, what: &str) -> Result<T, AsmError> {
        let found = match self.peek() {
            Some(t) => format!("`{}`", t.text),
            None => "end of line".into(),
        };
        Err(err(self.line, self.col(), format!("expected {what}, found {found}")))
    }

    fn fail<T>(&self, col: usize, msg: String) -> Result<T, AsmError> {
        Err(err(self.line, col, msg))
    }

    fn end(&self) -> Result<(), AsmError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.expected("end of instruction"),
        }
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek_tok(), Some(Tok::Punct(q)) if q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn punct(&mut self, p: &str) -> Result<(), AsmError> {
        if self.eat(p) {
            Ok(())
        } else {
            self.expected(&format!("`{p}`"))
        }
    }

    fn eat_ident(&mut self, name: &str) -> bool {
        if self.peek_tok() == Some(Tok::Ident(name)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn keyword(&mut self, name: &str) -> Result<(), AsmError> {
        if self.eat_ident(name) {
            Ok(())
        } else {
            self.expected(&format!("`{name}`"))
        }
    }

    fn any_reg(&mut self) -> Result<R, AsmError> {
        if let Some(Tok::Ident(name)) = self.peek_tok() {
            if let Some(r) = reg_of(name) {
                self.pos += 1;
                return Ok(r);
            }
        }
        self.expected("a register (`r0`..`r10` or `w0`..`w10`)")
    }

    /// A register of the given width.
    fn reg(&mut self, width: Width) -> Result<Reg, AsmError> {
        let col = self.col();
        let r = self.any_reg()?;
        if r.width != width {
            let want = if width == Width::W64 { "an `rN` register" } else { "a `wN` register" };
            return self.fail(col, format!("expected {want}, found `{}`", self.toks[self.pos - 1].text));
        }
        Ok(r.reg)
    }

    /// A specific register (`rN` repeated, as in `r1 = -r1` or `r1 = be16 r1`).
    fn same_reg(&mut self, want: R) -> Result<(), AsmError> {
        let col = self.col();
        let r = self.any_reg()?;
        if r != want {
            let c = if want.width == Width::W64 { 'r' } else { 'w' };
            return self
                .fail(col, format!("expected `{c}{}` (the destination register) here", want.reg.num()));
        }
        Ok(())
    }

    /// A signed number, as i64 (magnitude at most 2^63), with whether it was hex.
    fn signed(&mut self) -> Result<(i128, bool), AsmError> {
        let neg = self.eat("-");
        if !neg {
            self.eat("+");
        }
        match self.peek_tok() {
            Some(Tok::Num(v, hex)) => {
                self.pos += 1;
                Ok((if neg { -(v as i128) } else { v as i128 }, hex))
            }
            _ => self.expected("a number"),
        }
    }

    /// A 32-bit immediate: `-2^31 ..= 2^32-1`, the upper half taken as its two's complement.
    fn imm32(&mut self) -> Result<i32, AsmError> {
        let col = self.col();
        let (v, _) = self.signed()?;
        imm32_of(v).ok_or(()).or_else(|_| self.fail(col, format!("immediate {v} does not fit in 32 bits")))
    }

    /// A signed value in `lo..=hi`.
    fn ranged(&mut self, what: &str, lo: i128, hi: i128) -> Result<i128, AsmError> {
        let col = self.col();
        let (v, _) = self.signed()?;
        if v < lo || v > hi {
            return self.fail(col, format!("{what} {v} is out of range ({lo} to {hi})"));
        }
        Ok(v)
    }

    /// `(rN +off)`: the offset's sign is required by the kernel's `%+d` but optional here.
    fn mem(&mut self) -> Result<Mem, AsmError> {
        self.punct("(")?;
        let base = self.reg(Width::W64)?;
        let off = if matches!(self.peek_tok(), Some(Tok::Punct("+" | "-"))) {
            self.ranged("offset", i16::MIN as i128, i16::MAX as i128)? as i16
        } else {
            0
        };
        self.punct(")")?;
        Ok(Mem { base, off })
    }

    /// `*(u32 *)` or `(u32 *)` (`star` says which): size and signedness.
    fn cast(&mut self, star: bool) -> Result<(Size, bool, usize), AsmError> {
        if star {
            self.punct("*")?;
        }
        self.punct("(")?;
        let col = self.col();
        let t = match self.peek_tok() {
            Some(Tok::Ident(name)) => c_type(name),
            _ => None,
        };
        let Some((size, signed)) = t else {
            return self.expected("a type (`u8`, `u16`, `u32`, `u64`, `s8`, `s16`, `s32`)");
        };
        self.pos += 1;
        self.punct("*")?;
        self.punct(")")?;
        Ok((size, signed, col))
    }

    /// An unsigned cast: `*(uN *)`.
    fn ucast(&mut self, star: bool) -> Result<Size, AsmError> {
        let (size, signed, col) = self.cast(star)?;
        if signed {
            return self.fail(col, "expected an unsigned type (`u8` .. `u64`) here".into());
        }
        Ok(size)
    }

    /// A jump target: `pc+N`, `pc-N`, or a label; `lo..=hi` bounds N.
    fn target(&mut self, lo: i128, hi: i128, call: bool) -> Result<i128, AsmError> {
        let col = self.col();
        match self.peek_tok() {
            Some(Tok::Ident("pc")) => {
                self.pos += 1;
                if !matches!(self.peek_tok(), Some(Tok::Punct("+" | "-"))) {
                    return self.expected("`+` or `-` after `pc`");
                }
                self.ranged("jump offset", lo, hi)
            }
            Some(Tok::Ident(name)) if reg_of(name).is_none() => {
                self.pos += 1;
                self.target = Some(Target { name: name.to_string(), col, call });
                Ok(0)
            }
            _ => self.expected("`pc+N`, `pc-N` or a label"),
        }
    }

    fn stmt(&mut self) -> Result<Insn, AsmError> {
        let first = self.peek().expect("non-empty");
        let Tok::Ident(word) = first.tok else {
            if first.tok == Tok::Punct("*") {
                return self.store();
            }
            return self.expected("an instruction");
        };
        if let Some(r) = reg_of(word) {
            self.pos += 1;
            return self.assign(r);
        }
        let short = (i16::MIN as i128, i16::MAX as i128);
        let long = (i32::MIN as i128, i32::MAX as i128);
        self.pos += 1;
        Ok(match word {
            "exit" => Insn::Exit,
            "goto" => Insn::Ja { off: self.target(short.0, short.1, false)? as i32, long: false },
            "gotol" => Insn::Ja { off: self.target(long.0, long.1, false)? as i32, long: true },
            "may_goto" => Insn::MayGoto { off: self.target(short.0, short.1, false)? as i16 },
            "call" => self.call()?,
            "callx" => Insn::Callx { reg: self.reg(Width::W64)? },
            "if" => self.cond_jump()?,
            "lock" => self.lock()?,
            "store_release" => {
                self.punct("(")?;
                let size = self.ucast(false)?;
                let m = self.mem()?;
                self.punct(",")?;
                let src = self.reg(Width::W64)?;
                self.punct(")")?;
                Insn::Atomic { size, op: AtomicOp::StoreRelease, dst: m.base, src, off: m.off }
            }
            _ => {
                self.pos -= 1;
                return self.expected("an instruction");
            }
        })
    }

    /// `call pc+N`, `call N`, `call name`, `call name#id`, `call name#id@off`.
    fn call(&mut self) -> Result<Insn, AsmError> {
        let col = self.col();
        match self.peek_tok() {
            Some(Tok::Ident("pc")) => {
                let imm = self.target(i32::MIN as i128, i32::MAX as i128, true)?;
                return Ok(Insn::Call(CallKind::Local(imm as i32)));
            }
            Some(Tok::Num(..)) => return Ok(Insn::Call(CallKind::Helper(self.imm32()?))),
            Some(Tok::Ident(_)) => {}
            _ => return self.expected("`pc+N`, a helper id, or a function name"),
        }
        let Some(Tok::Ident(name)) = self.next().map(|t| t.tok) else { unreachable!() };
        let id = if self.eat("#") {
            Some((self.col(), self.ranged("call id", i32::MIN as i128, i32::MAX as i128)? as i32))
        } else {
            None
        };
        let btf_off = if self.eat("@") {
            Some((self.col(), self.ranged("BTF offset", i16::MIN as i128, i16::MAX as i128)? as i16))
        } else {
            None
        };
        let no_off = |p: &Self, what: &str| match btf_off {
            Some((c, _)) => p.fail(c, format!("a BTF offset (`@N`) is only for kfuncs, not {what}")),
            None => Ok(()),
        };
        if name == "kernel-function" {
            let Some((_, btf_id)) = id else { return self.expected("`#` and the kfunc's BTF id") };
            return Ok(Insn::Call(CallKind::Kfunc { btf_id, btf_off: btf_off.map_or(0, |o| o.1) }));
        }
        if name == "unknown" {
            let Some((_, id)) = id else { return self.expected("`#` and the helper id") };
            no_off(self, "helpers")?;
            return Ok(Insn::Call(CallKind::Helper(id)));
        }
        if let Some(h) = helper_id(name) {
            no_off(self, "helpers")?;
            if let Some((c, id)) = id {
                if id != h {
                    return self.fail(c, format!("`{name}` is helper #{h}, not #{id}"));
                }
            }
            return Ok(Insn::Call(CallKind::Helper(h)));
        }
        if let Some(kind) = self.syms.call_by_name(name) {
            let (kind_id, kind_off) = match kind {
                CallKind::Helper(i) | CallKind::Local(i) => (i, 0),
                CallKind::Kfunc { btf_id, btf_off } => (btf_id, btf_off),
            };
            if let Some((c, id)) = id {
                if id != kind_id {
                    return self.fail(c, format!("`{name}` has id {kind_id}, not {id}"));
                }
            }
            if let Some((c, off)) = btf_off {
                if off != kind_off {
                    return self.fail(c, format!("`{name}` is in the BTF at offset {kind_off}, not {off}"));
                }
            }
            return Ok(Insn::Call(kind));
        }
        match id {
            Some((_, btf_id)) => {
                Ok(Insn::Call(CallKind::Kfunc { btf_id, btf_off: btf_off.map_or(0, |o| o.1) }))
            }
            None => {
                no_off(self, "local calls")?;
                self.target = Some(Target { name: name.to_string(), col, call: true });
                Ok(Insn::Call(CallKind::Local(0)))
            }
        }
    }

    /// `if rA op rB|imm goto target`.
    fn cond_jump(&mut self) -> Result<Insn, AsmError> {
        let a = self.any_reg()?;
        let op = match self.peek_tok() {
            Some(Tok::Punct(p)) => jmp_op(p),
            _ => None,
        };
        let Some(op) = op else {
            return self.expected("a comparison (`==`, `!=`, `>`, `s<=`, `&`, ...)");
        };
        self.pos += 1;
        let src = if matches!(self.peek_tok(), Some(Tok::Ident(_))) {
            Src::Reg(self.reg(a.width)?)
        } else {
            Src::Imm(self.imm32()?)
        };
        self.keyword("goto")?;
        let off = self.target(i16::MIN as i128, i16::MAX as i128, false)? as i16;
        Ok(Insn::Jmp { width: a.width, op, dst: a.reg, src, off })
    }

    /// `lock *(u64 *)(rD +off) op= rS`.
    fn lock(&mut self) -> Result<Insn, AsmError> {
        let (size, signed, col) = self.cast(true)?;
        if signed || !matches!(size, Size::W | Size::DW) {
            return self.fail(col, "atomic operations take `u32` or `u64`".into());
        }
        let m = self.mem()?;
        let op = match self.peek_tok() {
            Some(Tok::Punct("+=")) => AtomicOp::Add { fetch: false },
            Some(Tok::Punct("&=")) => AtomicOp::And { fetch: false },
            Some(Tok::Punct("|=")) => AtomicOp::Or { fetch: false },
            Some(Tok::Punct("^=")) => AtomicOp::Xor { fetch: false },
            _ => return self.expected("`+=`, `&=`, `|=` or `^=`"),
        };
        self.pos += 1;
        let src = self.reg(Width::W64)?;
        Ok(Insn::Atomic { size, op, dst: m.base, src, off: m.off })
    }

    /// `*(uN *)(rD +off) = rS|imm`.
    fn store(&mut self) -> Result<Insn, AsmError> {
        let size = self.ucast(true)?;
        let m = self.mem()?;
        self.punct("=")?;
        if matches!(self.peek_tok(), Some(Tok::Ident(_))) {
            let src = self.reg(Width::W64)?;
            Ok(Insn::Store { size, dst: m.base, src, off: m.off })
        } else {
            let imm = self.imm32()?;
            Ok(Insn::StoreImm { size, dst: m.base, off: m.off, imm })
        }
    }

    /// Everything that starts with a register: ALU, moves, loads, fetching atomics, `lddw`.
    fn assign(&mut self, d: R) -> Result<Insn, AsmError> {
        let (width, dst) = (d.width, d.reg);
        let op = match self.peek_tok() {
            Some(Tok::Punct("=")) => AluOp::Mov,
            Some(Tok::Punct(p)) => match alu_op(p) {
                Some(op) => op,
                None => return self.expected("`=` or an operator (`+=`, `s>>=`, ...)"),
            },
            _ => return self.expected("`=` or an operator (`+=`, `s>>=`, ...)"),
        };
        self.pos += 1;
        if op != AluOp::Mov {
            let src = if matches!(self.peek_tok(), Some(Tok::Ident(_))) {
                Src::Reg(self.reg(width)?)
            } else {
                Src::Imm(self.imm32()?)
            };
            return Ok(Insn::Alu { width, op, dst, src });
        }
        let col = self.col();
        match self.peek_tok() {
            Some(Tok::Punct("-"))
                if matches!(self.toks.get(self.pos + 1).map(|t| t.tok), Some(Tok::Ident(_))) =>
            {
                self.pos += 1;
                self.same_reg(d)?;
                Ok(Insn::Neg { width, dst })
            }
            Some(Tok::Punct("-" | "+") | Tok::Num(..)) => self.mov_imm(d),
            Some(Tok::Punct("(")) => {
                // `(s8)rS`: movsx.
                self.pos += 1;
                let bits = match self.peek_tok() {
                    Some(Tok::Ident("s8")) => 8,
                    Some(Tok::Ident("s16")) => 16,
                    Some(Tok::Ident("s32")) => 32,
                    _ => return self.expected("`s8`, `s16` or `s32`"),
                };
                self.pos += 1;
                self.punct(")")?;
                let src = self.reg(width)?;
                Ok(Insn::Alu { width, op: AluOp::Movsx(bits), dst, src: Src::Reg(src) })
            }
            Some(Tok::Punct("*")) => self.load(d),
            Some(Tok::Ident(name)) => {
                if reg_of(name).is_some() {
                    let src = self.reg(width)?;
                    return Ok(Insn::Alu { width, op: AluOp::Mov, dst, src: Src::Reg(src) });
                }
                self.pos += 1;
                self.named_rhs(d, name, col)
            }
            _ => self.expected("a register, a number, or an expression"),
        }
    }

    /// `rD = imm` (mov) or `rD = 0x... [ll]` (lddw).
    fn mov_imm(&mut self, d: R) -> Result<Insn, AsmError> {
        let col = self.col();
        let (v, hex) = self.signed()?;
        let ll = self.eat_ident("ll");
        if d.width == Width::W64 && (hex || ll) {
            if v < i64::MIN as i128 || v > u64::MAX as i128 {
                return self.fail(col, format!("constant {v} does not fit in 64 bits"));
            }
            let v = v as u64;
            return Ok(Insn::LdImm64 {
                dst: d.reg,
                pseudo: Pseudo::Imm,
                imm: v as u32 as i32,
                imm_hi: (v >> 32) as u32 as i32,
            });
        }
        if ll {
            return self.fail(col, "`ll` (lddw) needs an `rN` destination".into());
        }
        match imm32_of(v) {
            Some(imm) => Ok(Insn::Alu { width: d.width, op: AluOp::Mov, dst: d.reg, src: Src::Imm(imm) }),
            None if d.width == Width::W64 => self.fail(
                col,
                format!("immediate {v} does not fit in 32 bits (write a 64-bit constant in hex for lddw)"),
            ),
            None => self.fail(col, format!("immediate {v} does not fit in 32 bits")),
        }
    }

    /// `rD = *(uN *)(rS +off)`, `rD = *(sN *)(rS +off)`, `r0 = *(uN *)skb[...]`.
    fn load(&mut self, d: R) -> Result<Insn, AsmError> {
        let dcol = self.toks[self.pos - 2].col;
        if d.width != Width::W64 {
            return self.fail(dcol, "loads write an `rN` register".into());
        }
        let (size, sign_extend, tcol) = self.cast(true)?;
        if self.eat_ident("skb") {
            if sign_extend {
                return self.fail(tcol, "packet loads take `u8`, `u16` or `u32`".into());
            }
            if d.reg != Reg::R0 {
                return self.fail(dcol, "packet loads (`skb[...]`) write `r0`".into());
            }
            self.punct("[")?;
            let insn = if matches!(self.peek_tok(), Some(Tok::Ident(_))) {
                let src = self.reg(Width::W64)?;
                self.punct("+")?;
                let imm = self.imm32()?;
                Insn::LdInd { size, src, imm }
            } else {
                Insn::LdAbs { size, imm: self.imm32()? }
            };
            self.punct("]")?;
            return Ok(insn);
        }
        let m = self.mem()?;
        Ok(Insn::Load { size, sign_extend, dst: d.reg, src: m.base, off: m.off })
    }

    /// Right-hand sides that start with a name: byte order, casts, atomics, pseudo `lddw`.
    fn named_rhs(&mut self, d: R, name: &str, col: usize) -> Result<Insn, AsmError> {
        let dst = d.reg;
        let need_r = |p: &Self| {
            if d.width != Width::W64 {
                p.fail(p.toks[0].col, format!("`{name}` writes an `rN` register"))
            } else {
                Ok(())
            }
        };
        let end = |s: &str| -> Option<(EndKind, u8)> {
            let (kind, bits) = if let Some(b) = s.strip_prefix("bswap") {
                (EndKind::Bswap, b)
            } else if let Some(b) = s.strip_prefix("be") {
                (EndKind::ToBe, b)
            } else if let Some(b) = s.strip_prefix("le") {
                (EndKind::ToLe, b)
            } else {
                return None;
            };
            match bits {
                "16" => Some((kind, 16)),
                "32" => Some((kind, 32)),
                "64" => Some((kind, 64)),
                _ => None,
            }
        };
        if let Some((kind, bits)) = end(name) {
            need_r(self)?;
            self.same_reg(R { width: Width::W64, reg: dst })?;
            return Ok(Insn::End { kind, bits, dst });
        }
        match name {
            "addr_space_cast" => {
                need_r(self)?;
                self.punct("(")?;
                let src = self.reg(Width::W64)?;
                self.punct(",")?;
                let to_as = self.ranged("address space", 0, u16::MAX as i128)? as u16;
                self.punct(",")?;
                let from_as = self.ranged("address space", 0, u16::MAX as i128)? as u16;
                self.punct(")")?;
                Ok(Insn::AddrSpaceCast { dst, src, to_as, from_as })
            }
            "load_acquire" => {
                need_r(self)?;
                self.punct("(")?;
                let size = self.ucast(false)?;
                let m = self.mem()?;
                self.punct(")")?;
                Ok(Insn::Atomic { size, op: AtomicOp::LoadAcquire, dst, src: m.base, off: m.off })
            }
            "map" | "btf_id" | "subprog" => {
                need_r(self)?;
                self.pseudo(dst, name)
            }
            _ => {
                if let Some(insn) = self.fetch_atomic(d, name, col)? {
                    return Ok(insn);
                }
                self.fail(col, format!("expected a register, a number, or an expression, found `{name}`"))
            }
        }
    }

    /// `rS = atomic[64]_fetch_OP((uN *)(rD +off), rS)`, `..._xchg(...)`, `r0 = ..._cmpxchg(..., r0, rS)`.
    fn fetch_atomic(&mut self, d: R, name: &str, col: usize) -> Result<Option<Insn>, AsmError> {
        let Some(rest) = name.strip_prefix("atomic") else { return Ok(None) };
        let (is64, rest) = match rest.strip_prefix("64") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let op = match rest {
            "_fetch_add" => AtomicOp::Add { fetch: true },
            "_fetch_and" => AtomicOp::And { fetch: true },
            "_fetch_or" => AtomicOp::Or { fetch: true },
            "_fetch_xor" => AtomicOp::Xor { fetch: true },
            "_xchg" => AtomicOp::Xchg,
            "_cmpxchg" => AtomicOp::Cmpxchg,
            _ => return Ok(None),
        };
        if d.width != Width::W64 {
            return self.fail(self.toks[0].col, format!("`{name}` writes an `rN` register"));
        }
        self.punct("(")?;
        let (size, signed, tcol) = self.cast(false)?;
        if signed || !matches!(size, Size::W | Size::DW) {
            return self.fail(tcol, "atomic operations take `u32` or `u64`".into());
        }
        if is64 != (size == Size::DW) {
            let want = if size == Size::DW { "atomic64" } else { "atomic" };
            return self.fail(col, format!("a `{}` access is written `{want}{rest}`", size.c_type()));
        }
        let m = self.mem()?;
        self.punct(",")?;
        if op == AtomicOp::Cmpxchg {
            if d.reg != Reg::R0 {
                return self.fail(self.toks[0].col, "cmpxchg writes `r0`".into());
            }
            self.same_reg(R { width: Width::W64, reg: Reg::R0 })?;
            self.punct(",")?;
        }
        let src_col = self.col();
        let src = self.reg(Width::W64)?;
        if op != AtomicOp::Cmpxchg && src != d.reg {
            return self.fail(
                src_col,
                format!("`{name}` returns the old value in its operand: expected `r{}` here", d.reg.num()),
            );
        }
        self.punct(")")?;
        Ok(Some(Insn::Atomic { size, op, dst: m.base, src, off: m.off }))
    }

    /// The lossless `lddw` forms: `map[fd:N]`, `map[fd:N][0]+OFF`, `map[idx:N]`,
    /// `map[idx:N][0]+OFF`, `btf_id[N]`, `subprog[+N]`, each with an optional `+HI`.
    fn pseudo(&mut self, dst: Reg, name: &str) -> Result<Insn, AsmError> {
        self.punct("[")?;
        let (mut pseudo, value_pseudo) = match name {
            "map" => {
                let p = if self.eat_ident("fd") {
                    (Pseudo::MapFd, Pseudo::MapValue)
                } else if self.eat_ident("idx") {
                    (Pseudo::MapIdx, Pseudo::MapIdxValue)
                } else {
                    return self.expected("`fd` or `idx`");
                };
                self.punct(":")?;
                p
            }
            "btf_id" => (Pseudo::BtfId, Pseudo::BtfId),
            _ => (Pseudo::Func, Pseudo::Func),
        };
        let imm = if pseudo == Pseudo::Func && matches!(self.peek_tok(), Some(Tok::Ident(_))) {
            // `subprog[label]`
            self.target(0, 0, true)? as i32
        } else {
            self.imm32()?
        };
        self.punct("]")?;
        if name == "map" && self.eat("[") {
            let col = self.col();
            if self.ranged("map key", 0, 0).is_err() {
                return self.fail(col, "expected `0` (map values are addressed as `[0]+OFF`)".into());
            }
            self.punct("]")?;
            pseudo = value_pseudo;
            if !matches!(self.peek_tok(), Some(Tok::Punct("+"))) {
                return self.expected("`+OFF` after a map value");
            }
        }
        let imm_hi = if self.eat("+") { self.imm32()? } else { 0 };
        Ok(Insn::LdImm64 { dst, pseudo, imm, imm_hi })
    }
}

fn imm32_of(v: i128) -> Option<i32> {
    if (i32::MIN as i128..=u32::MAX as i128).contains(&v) {
        Some(v as i64 as u32 as i32)
    } else {
        None
    }
}
