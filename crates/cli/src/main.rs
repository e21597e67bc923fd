//! `kfvm`: run and verify BPF programs outside the kernel.

use clap::{Parser, Subcommand};
use kfvm::conformance;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

mod json;
mod kfuncs;
mod link;
mod run;
mod verify;

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
    /// Assemble text into bytecode: kernel pseudo-C as the verifier log prints it (default; a
    /// pasted log with `N: (xx)` prefixes is fine) or the bpf_conformance syntax.
    Asm {
        /// Source file (`-` for stdin).
        file: PathBuf,
        /// Write raw bytecode here; without it, print one instruction per line as hex.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Source syntax.
        #[arg(long, value_enum, default_value_t = Syntax::Kernel)]
        syntax: Syntax,
    },
    /// Disassemble bytecode into the kernel verifier log's pseudo-C.
    Disasm {
        /// Raw bytecode file (`-` for stdin); with `--hex`, hex text.
        file: PathBuf,
        /// The input is hex text (whitespace ignored).
        #[arg(long)]
        hex: bool,
        /// Print kfvm's lossless forms (map references, module kfuncs, callx) that `kfvm asm`
        /// reads back exactly, instead of the kernel's text.
        #[arg(long)]
        lossless: bool,
    },
    /// Print each program of a BPF ELF object in the kernel verifier log's syntax, subprograms
    /// appended as libbpf links them, with source lines (`; line @ file:N`) from line_info.
    Objdump {
        /// The object file.
        obj: PathBuf,
        /// Only this program.
        #[arg(long)]
        prog: Option<String>,
    },
    /// Link a BPF ELF object against a host as libbpf loads it (externs, CO-RE relocations) and
    /// print each linked program: kfunc calls with the host's BTF ids, CO-RE relocations applied
    /// or poisoned, map references as map indices.
    Link {
        /// The object file.
        obj: PathBuf,
        /// Only this program.
        #[arg(long)]
        prog: Option<String>,
        /// `host` (the built-in kernel model), `vmlinux` (this machine's kernel BTF), or a raw BTF
        /// file.
        #[arg(long, default_value = "host")]
        target: String,
        /// Kconfig (`CONFIG_X=y` lines) for `.kconfig` externs.
        #[arg(long)]
        kconfig: Option<PathBuf>,
        /// Print libbpf's log of the link first (candidates, patches, extern resolution).
        #[arg(short, long)]
        verbose: bool,
    },
    /// List the kernel model's kfuncs: prototype, flags, hooks (and sets), deprecation.
    Kfuncs {
        /// Only the kfuncs a program of this type may call (`tracing`, `SCHED_CLS`, `xdp`, ...),
        /// with the flags it sees them with.
        #[arg(long, value_name = "TYPE")]
        prog_type: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run an object's programs against the kernel model: attach each to its hook, replay the
    /// model's events (every cgroup fires cgroup_mkdir, every task task_newtask, then the
    /// events of the model file), print bpf_printk lines as they come, then a summary per
    /// program.
    Run {
        /// The object file.
        obj: PathBuf,
        /// A model file (TOML: CPUs, cgroups, tasks, events); default: a snapshot of this machine.
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// Print every map's contents at the end.
        #[arg(long)]
        maps: bool,
        /// Do not ask the verifier: run in the interpreter's checked mode.
        #[arg(long)]
        checked: bool,
    },
    /// Run one program, as BPF_PROG_TEST_RUN does: prints `retval: N` and the average duration.
    TestRun {
        /// The object file.
        obj: PathBuf,
        /// The program.
        #[arg(long)]
        prog: String,
        /// A hook argument, in order: an integer, `task:PID`, `cgroup:ID` or `cgroup:/path`.
        #[arg(long = "arg", value_name = "V", allow_hyphen_values = true)]
        args: Vec<String>,
        /// The packet of an XDP program, or the context of a syscall program.
        #[arg(long, value_name = "FILE")]
        data_in: Option<PathBuf>,
        /// Runs (the duration is their average).
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// A model file; default: a snapshot of this machine.
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// JSON: {"retval": N, "duration_ns": D, ...}.
        #[arg(long)]
        json: bool,
        /// Do not ask the verifier: run in the interpreter's checked mode.
        #[arg(long)]
        checked: bool,
    },
    /// Verify each program of an object as the kernel's BPF_PROG_LOAD would, against the kernel
    /// model: prints `NAME: accepted`, `NAME: rejected` with the kernel's error lines, or
    /// `NAME: unsupported: WHY` where kfvm cannot decide yet.
    ///
    /// Exit status: 0 when every selected program is accepted; 1 when one is rejected; 2 on a
    /// usage or load error (unknown --prog, unreadable or malformed object, a program or map
    /// that cannot be loaded); 3 when kfvm cannot decide for one (unsupported, or an internal
    /// verifier error) and none is rejected.
    Verify {
        /// The object file.
        obj: PathBuf,
        /// Only this program.
        #[arg(long)]
        prog: Option<String>,
        /// Verifier log level: 0 (none), 1 (the walk), 2 (every instruction); add 4 for the
        /// statistics. The log is printed before each verdict.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=7))]
        log_level: u32,
        /// One JSON object per program per line: program, section, verdict
        /// (accept/reject/unsupported/internal/load_failed), error (the kernel-style error lines),
        /// insns_processed, errno, reason, the state counts, and the log if one was asked for.
        #[arg(long)]
        json: bool,
        /// A model file (for its number of CPUs); default: a snapshot of this machine.
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// Refuse calls of deprecated kfuncs (KF_DEPRECATED) instead of warning about them.
        #[arg(long)]
        deny_deprecated: bool,
        /// Leave out kfvm's `hint:` line after the kernel's message of a rejection.
        #[arg(long)]
        no_hints: bool,
        /// Give the loader a capability (bpf, perfmon, sys_admin, sys_boot); the default is a
        /// root loader, with all four.
        #[arg(long = "cap", value_name = "CAP")]
        caps: Vec<String>,
        /// Take a capability away from the loader (`--no-cap sys_boot`).
        #[arg(long = "no-cap", value_name = "CAP")]
        no_caps: Vec<String>,
        /// Verify each program N times and print the fastest verification time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        repeat: u32,
    },
    /// BTF tools.
    Btf {
        #[command(subcommand)]
        command: BtfCommand,
    },
}

#[derive(Subcommand)]
enum BtfCommand {
    /// Print a BTF file, or the host BTF (the kernel model's `vmlinux` BTF) with `--host`.
    /// `--format c --host` is the header BPF programs compile against, kfunc prototypes included.
    Dump {
        /// A raw BTF file (`/sys/kernel/btf/vmlinux`, a `.btf` blob).
        file: Option<PathBuf>,
        /// The kernel model's host BTF instead of a file.
        #[arg(long)]
        host: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = kfuncs::BtfFormat::Raw)]
        format: kfuncs::BtfFormat,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Syntax {
    /// Kernel verifier-log pseudo-C.
    Kernel,
    /// bpf_conformance / uBPF assembler syntax.
    Conformance,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conformance { dir, verbose } => cmd_conformance(dir, verbose),
        Command::Asm { file, output, syntax } => cmd_asm(&file, output.as_deref(), syntax),
        Command::Disasm { file, hex, lossless } => cmd_disasm(&file, hex, lossless),
        Command::Objdump { obj, prog } => cmd_objdump(&obj, prog.as_deref()),
        Command::Link { obj, prog, target, kconfig, verbose } => {
            link::cmd_link(&obj, prog.as_deref(), &target, kconfig.as_deref(), verbose)
        }
        Command::Run { obj, model, maps, checked } => run::cmd_run(&obj, model.as_deref(), maps, checked),
        Command::TestRun { obj, prog, args, data_in, repeat, model, json, checked } => {
            run::cmd_test_run(&obj, &prog, &args, data_in.as_deref(), repeat, model.as_deref(), json, checked)
        }
        Command::Verify {
            obj,
            prog,
            log_level,
            json,
            model,
            deny_deprecated,
            no_hints,
            caps,
            no_caps,
            repeat,
        } => verify::cmd_verify(&verify::Args {
            obj: &obj,
            prog: prog.as_deref(),
            log_level,
            json,
            model: model.as_deref(),
            deny_deprecated,
            hints: !no_hints,
            caps: &caps,
            no_caps: &no_caps,
            repeat,
        }),
        Command::Kfuncs { prog_type, json } => kfuncs::cmd_kfuncs(prog_type.as_deref(), json),
        Command::Btf { command: BtfCommand::Dump { file, host, format } } => {
            kfuncs::cmd_btf_dump(file.as_deref(), host, format)
        }
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

fn read_input(path: &std::path::Path) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| format!("stdin: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn cmd_asm(
    file: &std::path::Path,
    output: Option<&std::path::Path>,
    syntax: Syntax,
) -> Result<ExitCode, String> {
    let src =
        String::from_utf8(read_input(file)?).map_err(|_| format!("{}: not UTF-8 text", file.display()))?;
    let insns = match syntax {
        Syntax::Kernel => kfvm::isa::asm::assemble_raw(&src, &kfvm::isa::disasm::NoSymbols)
            .map_err(|e| format!("{}: {e}", file.display()))?,
        Syntax::Conformance => {
            kfvm::isa::conformance::assemble(&src).map_err(|e| format!("{}: {e}", file.display()))?
        }
    };
    match output {
        Some(out) => std::fs::write(out, kfvm::isa::raw_to_bytes(&insns))
            .map_err(|e| format!("{}: {e}", out.display()))?,
        None => {
            for i in &insns {
                let b = i.to_bytes();
                let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
                println!("{}", hex.join(" "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_disasm(file: &std::path::Path, hex: bool, lossless: bool) -> Result<ExitCode, String> {
    let mut bytes = read_input(file)?;
    if hex {
        let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", file.display()))?;
        bytes = parse_hex(&text, "bytecode")?;
    }
    let insns = kfvm::isa::raw_from_bytes(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let opts = if lossless { kfvm::isa::disasm::Options::LOSSLESS } else { kfvm::isa::disasm::Options::LOG };
    let text = kfvm::isa::disasm::listing_raw(&insns, &kfvm::isa::disasm::NoSymbols, opts)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn cmd_objdump(path: &std::path::Path, prog: Option<&str>) -> Result<ExitCode, String> {
    let obj = kfvm::object::Object::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = kfvm::object::objdump::objdump(&obj, prog)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
