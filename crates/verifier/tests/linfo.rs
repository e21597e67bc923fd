//! Source lines in the log (`verbose_linfo()`): `; <line> @ <file>:<N>` before the first
//! instruction of each line at levels 1 and 2, once per line (records of one line that differ
//! in the column print once), and at the CFG's back-edges. The C corpus
//! (`crates/kfvm/tests/verifier/log_lines.bpf.c`) compares whole logs with the live kernel's;
//! these cover what C cannot reach (an unprivileged loader's back-edge).

use kfvm_isa::RawInsn;
use kfvm_verifier::env::{prog_type, LineInfo};
use kfvm_verifier::{bpf_check_full, CheckOptions};

fn line(insn_off: u32, file_name_off: u32, file: &str, line: u32, source: &str) -> LineInfo {
    LineInfo { insn_off, file: file.into(), line, source: source.into(), file_name_off }
}

/// `r0 = 0; r1 = 1; r0 += r1; if r0 < 3 goto -2; exit`, five records over four lines.
fn prog() -> (Vec<RawInsn>, Vec<LineInfo>) {
    let insns = vec![
        RawInsn::new(0xb7, 0, 0, 0, 0),  // r0 = 0
        RawInsn::new(0xb7, 1, 0, 0, 1),  // r1 = 1
        RawInsn::new(0x0f, 0, 1, 0, 0),  // r0 += r1
        RawInsn::new(0xa5, 0, 0, -2, 3), // if r0 < 3 goto pc-2
        RawInsn::new(0x95, 0, 0, 0, 0),  // exit
    ];
    let f = "/home/dev/src/prog.bpf.c";
    let linfo = vec![
        line(0, 1, f, 10, "\tint x = 0, one = 1;"),
        line(1, 1, f, 10, "\tint x = 0, one = 1;"),
        line(2, 1, f, 12, "  \t  x += one;"),
        line(3, 1, f, 13, "\twhile (x < 3)"),
        line(4, 1, f, 14, "\treturn x;"),
    ];
    (insns, linfo)
}

fn opts(level: u32, bpf_capable: bool, line_info: Vec<LineInfo>) -> CheckOptions {
    CheckOptions {
        prog_type: prog_type::SOCKET_FILTER,
        log_level: level,
        bpf_capable,
        line_info,
        ..CheckOptions::default()
    }
}

#[test]
fn source_lines_precede_their_first_instruction_once() {
    let (insns, linfo) = prog();
    for level in [1, 2] {
        let v = bpf_check_full(&insns, &opts(level, true, linfo.clone()), None);
        assert!(v.result.is_ok(), "{:?}\n{}", v.result, v.log);
        if level == 1 {
            // An accepted program's level-1 log is only the statistics line.
            assert!(!v.log.contains(" @ "), "{}", v.log);
            continue;
        }
        let log = &v.log;
        assert!(log.contains("; int x = 0, one = 1; @ prog.bpf.c:10\n0: (b7) r0 = 0"), "{log}");
        // Insn 1's record has the same file and line: no second source line.
        assert!(log.contains("0: (b7) r0 = 0                        ; R0=0\n1: (b7) r1 = 1"), "{log}");
        assert!(log.contains("; x += one; @ prog.bpf.c:12\n2: (0f) r0 += r1"), "{log}");
        assert!(log.contains("; while (x < 3) @ prog.bpf.c:13\n3: (a5) if r0 < 0x3 goto pc-2"), "{log}");
        // The loop's next iterations print a line again when it changes.
        assert_eq!(log.matches("; x += one; @ prog.bpf.c:12\n").count(), 3, "{log}");
        assert!(log.contains("; return x; @ prog.bpf.c:14\n4: (95) exit"), "{log}");
    }
}

#[test]
fn no_source_lines_without_line_info_or_log() {
    let (insns, linfo) = prog();
    let v = bpf_check_full(&insns, &opts(2, true, Vec::new()), None);
    assert!(v.result.is_ok() && !v.log.contains(" @ "), "{}", v.log);
    let v = bpf_check_full(&insns, &opts(0, true, linfo), None);
    assert!(v.result.is_ok() && v.log.is_empty(), "{}", v.log);
}

#[test]
fn an_unprivileged_back_edge_names_both_source_lines() {
    let (insns, linfo) = prog();
    let v = bpf_check_full(&insns, &opts(1, false, linfo), None);
    assert!(v.result.is_err(), "{}", v.log);
    assert!(
        v.log.starts_with(
            "3: while (x < 3) @ prog.bpf.c:13\n2: x += one; @ prog.bpf.c:12\nback-edge from insn 3 to 2\n"
        ),
        "{}",
        v.log
    );
}
