//! Assembles kernel pseudo-C into raw instructions: `kasm IN.s OUT.bin` writes the 8-byte slots.
//!
//! The kernel-log capture script (`tests/kernel-logs/rebuild.sh`) uses it to turn
//! `tests/asm/*.s` into programs for the live kernel.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        eprintln!("usage: kasm IN.s OUT.bin");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match kfvm_isa::asm::assemble_raw(&text, &kfvm_isa::disasm::NoSymbols) {
        Ok(slots) => match std::fs::write(output, kfvm_isa::raw_to_bytes(&slots)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{output}: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{input}: {e}");
            ExitCode::FAILURE
        }
    }
}
