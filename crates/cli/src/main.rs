//! `kfvm`: run and verify BPF programs outside the kernel.

use clap::{Parser, Subcommand};
use kfvm::conformance;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kfvm", version, about = "Run and verify BPF programs outside the kernel")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bpf_conformance suite: every `.data` file under DIR (default: the suite in
    /// `../shared/conformance`), in the checked interpreter. Ends with `N passed, M failed`.
    Conformance {
        /// Directory of `.data` files (searched recursively).
        dir: Option<PathBuf>,
        /// Print every test, not only failures.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Speak the bpf_conformance plugin protocol: bytecode as hex on stdin, input memory as the
    /// argument, R0 in hex on stdout.
    Plugin {
        /// `[MEM_HEX] [OPTIONS...]`: input memory as hex bytes, then any options the reference
        /// runner passes (ignored).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "MEM_HEX")]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conformance { dir, verbose } => cmd_conformance(dir, verbose),
        Command::Plugin { args } => cmd_plugin(args.into_iter().next().filter(|a| !a.starts_with('-'))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kfvm: {e}");
            ExitCode::from(2)
        }
    }
}

fn cmd_conformance(dir: Option<PathBuf>, verbose: bool) -> Result<ExitCode, String> {
    let dir = match dir {
        Some(d) => d,
        None => {
            let d = PathBuf::from("../shared/conformance");
            if !d.is_dir() {
                return Err("no DIR given and no suite at ../shared/conformance".into());
            }
            d.join("tests")
        }
    };
    let files = conformance::data_files(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if files.is_empty() {
        return Err(format!("{}: no .data files", dir.display()));
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for f in &files {
        let name = f.strip_prefix(&dir).unwrap_or(f).display();
        let outcome = conformance::run_file(f);
        match &outcome {
            conformance::Outcome::Pass => {
                passed += 1;
                if verbose {
                    println!("PASS {name}");
                }
            }
            conformance::Outcome::Skipped(why) => {
                skipped += 1;
                println!("SKIP {name}: {why}");
            }
            other => {
                failed += 1;
                println!("FAIL {name}: {other}");
            }
        }
    }
    if skipped > 0 {
        println!("{skipped} skipped");
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn parse_hex(s: &str, what: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("{what}: odd number of hex digits"));
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, c)| {
            std::str::from_utf8(c)
                .ok()
                .and_then(|c| u8::from_str_radix(c, 16).ok())
                .ok_or_else(|| format!("{what}: bad hex byte at offset {i}"))
        })
        .collect()
}

fn cmd_plugin(mem: Option<String>) -> Result<ExitCode, String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| format!("stdin: {e}"))?;
    let code = parse_hex(&input, "bytecode")?;
    let mem = match mem {
        Some(m) => parse_hex(&m, "memory")?,
        None => Vec::new(),
    };
    let insns = kfvm::isa::raw_from_bytes(&code).map_err(|e| e.to_string())?;
    match conformance::run_program(&insns, &mem) {
        Ok(r0) => {
            println!("{r0:x}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
