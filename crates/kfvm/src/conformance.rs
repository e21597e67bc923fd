//! The bpf_conformance suite: its `.data` file format, and running a test in the interpreter.
//!
//! A file has sections started by lines containing `--`: `asm` (the program in the suite's
//! assembler syntax), `raw` (instruction words, replacing `asm`), `mem` (input memory: R1 points
//! to it, R2 holds its length), `result` (expected R0) and `error` (an expected failure, in the
//! suite's negative files). `c` and `no register offset` are notes and ignored. Helper 5 is the
//! suite's "unwind" helper: it returns R1, and ends the program with R0 = 0 when R1 is 0.

use kfvm_isa::{conformance::assemble, RawInsn};
use kfvm_vm::{CallCtx, HostFns, Interpreter, Program, Region};
use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed `.data` file.
#[derive(Clone, Debug, Default)]
pub struct TestFile {
    /// `-- asm` text.
    pub asm: Option<String>,
    /// `-- raw` instruction words.
    pub raw: Option<Vec<u64>>,
    /// `-- mem` bytes.
    pub mem: Vec<u8>,
    /// `-- result`, the expected R0.
    pub result: Option<u64>,
    /// `-- error` text, if the file expects a failure.
    pub error: Option<String>,
    /// Sections the format does not know; a file with one is skipped.
    pub unknown_sections: Vec<String>,
}

/// Why a file could not be parsed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl TestFile {
    /// Parses the text of a `.data` file.
    pub fn parse(text: &str) -> Result<TestFile, ParseError> {
        let mut t = TestFile::default();
        let mut section: Option<(String, usize)> = None;
        let mut body = String::new();
        let finish = |t: &mut TestFile, section: &Option<(String, usize)>, body: &mut String| {
            let Some((name, line)) = section else {
                body.clear();
                return Ok(());
            };
            let b = std::mem::take(body);
            let err = |message: String| ParseError { line: *line, message };
            match name.as_str() {
                "asm" => t.asm = Some(b),
                "raw" => {
                    let mut words = Vec::new();
                    for l in b.lines().map(strip_comment).filter(|l| !l.is_empty()) {
                        words.push(parse_raw_word(l).map_err(err)?);
                    }
                    t.raw = Some(words);
                }
                "mem" => {
                    for tok in b.split_whitespace() {
                        t.mem.push(
                            u8::from_str_radix(tok, 16).map_err(|_| err(format!("bad mem byte `{tok}`")))?,
                        );
                    }
                }
                "result" => {
                    let v = b.lines().map(strip_comment).find(|l| !l.is_empty()).unwrap_or("");
                    t.result = Some(parse_u64(v).ok_or_else(|| err(format!("bad result `{v}`")))?);
                }
                "error" => t.error = Some(b.trim().to_string()),
                "c" | "no register offset" => {}
                other => t.unknown_sections.push(other.to_string()),
            }
            Ok(())
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(p) = line.find("--") {
                if !line[..p].contains('#') {
                    finish(&mut t, &section, &mut body)?;
                    section = Some((line[p + 2..].trim().to_string(), i + 1));
                    continue;
                }
            }
            if section.is_some() {
                body.push_str(line);
                body.push('\n');
            }
        }
        finish(&mut t, &section, &mut body)?;
        Ok(t)
    }

    /// The program's slots, from `raw` or by assembling `asm`.
    pub fn program(&self) -> Result<Vec<RawInsn>, String> {
        if let Some(raw) = &self.raw {
            return Ok(raw.iter().map(|w| RawInsn::from_u64(*w)).collect());
        }
        match &self.asm {
            Some(asm) => assemble(asm).map_err(|e| format!("assembly failed: {e}")),
            None => Err("the file has no program".into()),
        }
    }
}

fn strip_comment(l: &str) -> &str {
    l.split('#').next().unwrap_or("").trim()
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse::<u64>().ok().or_else(|| s.parse::<i64>().ok().map(|v| v as u64)),
    }
}

/// A `-- raw` line: one 64-bit word (`0x...`), or eight hex bytes in memory order.
fn parse_raw_word(l: &str) -> Result<u64, String> {
    let toks: Vec<&str> = l.split_whitespace().collect();
    if toks.len() == 8 {
        let mut b = [0u8; 8];
        for (d, t) in b.iter_mut().zip(&toks) {
            *d = u8::from_str_radix(t, 16).map_err(|_| format!("bad raw byte `{t}`"))?;
        }
        return Ok(u64::from_le_bytes(b));
    }
    parse_u64(l).ok_or_else(|| format!("bad raw instruction `{l}`"))
}

/// How a test went.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// R0 matched the expected result.
    Pass,
    /// The program ran and returned something else.
    Mismatch {
        /// Expected R0.
        expected: u64,
        /// Actual R0.
        actual: u64,
    },
    /// The program ran but the file expected a failure.
    UnexpectedSuccess {
        /// Actual R0.
        actual: u64,
    },
    /// kfvm refused the program or stopped it: assembly, decoding, loading or running failed.
    Refused(String),
    /// The file uses a section kfvm does not know.
    Skipped(String),
}

impl Outcome {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        *self == Outcome::Pass
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Pass => write!(f, "passed"),
            Outcome::Mismatch { expected, actual } => {
                write!(f, "r0 is {actual:#x}, expected {expected:#x}")
            }
            Outcome::UnexpectedSuccess { actual } => {
                write!(f, "ran and returned {actual:#x}, but the test expects an error")
            }
            Outcome::Refused(why) => write!(f, "{why}"),
            Outcome::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

extern "C" fn unwind(ctx: &mut CallCtx, r1: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    if r1 == 0 {
        ctx.stop_with(0);
    }
    r1
}

/// The suite's helpers: number 5, "unwind".
pub fn helpers() -> HostFns {
    let mut h = HostFns::new();
    h.helper(5, unwind);
    h
}

/// Runs a program the way the suite's plugin protocol does: `mem` as R1/R2, helper 5 available,
/// checked mode.
pub fn run_program(insns: &[RawInsn], mem: &[u8]) -> Result<u64, String> {
    let prog = Program::load(insns, &helpers()).map_err(|e| format!("load failed: {e}"))?;
    let mut mem = mem.to_vec();
    let (args, regions) = if mem.is_empty() {
        ([0u64, 0], Vec::new())
    } else {
        let r = Region::writable(&mut mem);
        ([r.start, r.len], vec![r])
    };
    let mut vm = Interpreter::new();
    vm.run(&prog, &args, &regions, std::ptr::null_mut()).map_err(|e| format!("run failed: {e}"))
}

/// Runs one parsed test.
pub fn run(test: &TestFile) -> Outcome {
    if let Some(s) = test.unknown_sections.first() {
        if test.error.is_none() && test.asm.is_some() {
            return Outcome::Skipped(format!("unknown section `{s}`"));
        }
    }
    let insns = match test.program() {
        Ok(i) => i,
        Err(e) => return Outcome::Refused(e),
    };
    match run_program(&insns, &test.mem) {
        Err(e) => Outcome::Refused(e),
        Ok(actual) if test.error.is_some() => Outcome::UnexpectedSuccess { actual },
        Ok(actual) => match test.result {
            Some(expected) if expected == actual => Outcome::Pass,
            Some(expected) => Outcome::Mismatch { expected, actual },
            None => Outcome::Refused("the file gives no expected result".into()),
        },
    }
}

/// Reads and runs one file.
pub fn run_file(path: &Path) -> Outcome {
    match std::fs::read_to_string(path) {
        Err(e) => Outcome::Refused(format!("cannot read {}: {e}", path.display())),
        Ok(text) => match TestFile::parse(&text) {
            Err(e) => Outcome::Refused(format!("bad test file: {e}")),
            Ok(t) => run(&t),
        },
    }
}

/// The `.data` files under `dir`, recursively, sorted.
pub fn data_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "data") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}
