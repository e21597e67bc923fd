//! File-driven assembler tests: every `tests/asm/*.s` (kernel pseudo-C) is assembled, and its
//! encoding and re-disassembly are compared with `tests/asm/*.expected`. `BLESS=1` rewrites the
//! expected files. A file that does not assemble expects its error message instead.
//!
//! Each instruction prints as `slot: bytes  text`, the text in the lossless syntax, followed by
//! `; kernel: ...` where the kernel's own text differs; a `lddw` shows its second slot on its own
//! line. The re-disassembly must assemble back to the same instructions.

use kfvm_isa::asm::{assemble, assemble_lines};
use kfvm_isa::disasm::{insn_to_string, NoSymbols, Options};
use kfvm_isa::Insn;
use libtest_mimic::{Arguments, Failed, Trial};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn render(source: &str) -> Result<String, Failed> {
    let insns = match assemble_lines(source, &NoSymbols) {
        Ok(insns) => insns,
        Err(e) => return Ok(format!("error: {e}\n")),
    };
    let mut out = String::new();
    let mut lossless = String::new();
    let mut slot = 0;
    for (_, insn) in &insns {
        let text = insn_to_string(insn, &NoSymbols, Options::LOSSLESS);
        let kernel = insn_to_string(insn, &NoSymbols, Options::KERNEL);
        let (a, b) = insn.encode();
        write!(out, "{slot}: {}  {text}", hex(a.to_bytes()))?;
        if kernel != text {
            write!(out, "  ; kernel: {kernel}")?;
        }
        out.push('\n');
        if let Some(b) = b {
            writeln!(out, "{}: {}", slot + 1, hex(b.to_bytes()))?;
        }
        writeln!(lossless, "{text}")?;
        slot += insn.slots();
    }
    let insns: Vec<Insn> = insns.into_iter().map(|(_, i)| i).collect();
    let back =
        assemble(&lossless).map_err(|e| format!("re-disassembly does not assemble: {e}\n{lossless}"))?;
    if back != insns {
        return Err(format!("re-disassembly assembles to other instructions:\n{lossless}").into());
    }
    Ok(out)
}

fn hex(bytes: [u8; 8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn check(path: &Path) -> Result<(), Failed> {
    let source = std::fs::read_to_string(path)?;
    let actual = render(&source)?;
    let expected_path = path.with_extension("expected");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&expected_path, &actual)?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e} (run with BLESS=1 to create it)", expected_path.display()))?;
    if expected != actual {
        let mut msg = format!("{} differs (BLESS=1 rewrites it):\n", expected_path.display());
        for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
            if e != a {
                writeln!(msg, "line {}:\n  expected: {e}\n  actual:   {a}", i + 1)?;
            }
        }
        let (ne, na) = (expected.lines().count(), actual.lines().count());
        if ne != na {
            writeln!(msg, "expected {ne} lines, got {na}")?;
        }
        return Err(msg.into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/asm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/asm")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    files.sort();
    let trials = files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || check(&p))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
