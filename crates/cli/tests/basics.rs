//! The foundation commands: conformance, plugin, asm/disasm, objdump, btf dump of an object.

mod common;

use common::kfvm_with_input as kfvm;

const OBJECTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../object/tests/progs");

#[test]
fn plugin_speaks_the_conformance_protocol() {
    // r0 = *(u64 *)(r1 + 2); exit — on ten bytes of memory.
    let (code, out, _) =
        kfvm(&["plugin", "0102030405060708090a"], b"79 10 02 00 00 00 00 00 95 00 00 00 00 00 00 00");
    assert_eq!((code, out.trim()), (0, "a09080706050403"));
    // Options after the memory are ignored; errors go to stderr with a non-zero status.
    let (code, out, err) = kfvm(&["plugin", "--elf"], b"bf 60 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("R6 !read_ok"), "{err}");
}

#[test]
fn conformance_summarises() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/negative");
    let (code, out, _) = kfvm(&["conformance", dir], b"");
    assert_eq!(code, 1);
    assert_eq!(out.lines().last(), Some("0 passed, 60 failed"));
}

#[test]
fn asm_and_disasm_round_trip() {
    let src = "r0 = 42\nr1 = 0x1122334455667788 ll\nlock *(u64 *)(r10 -8) += r1\nexit\n";
    let (code, hex, err) = kfvm(&["asm", "-"], src.as_bytes());
    assert_eq!(code, 0, "{err}");
    let (code, text, err) = kfvm(&["disasm", "--hex", "-"], hex.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        text,
        "0: (b7) r0 = 42\n1: (18) r1 = 0x1122334455667788\n3: (db) lock *(u64 *)(r10 -8) += r1\n4: (95) exit\n"
    );
    let (code, _, err) = kfvm(&["asm", "-"], b"r0 = 42\nr1 +=\n");
    assert_eq!(code, 2);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn objdump_interleaves_source_lines() {
    let obj = format!("{OBJECTS}/tracing.bpf.o");
    let (code, out, err) = kfvm(&["objdump", &obj, "--prog", "on_switch"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("; switches++; @ tracing.bpf.c:41"), "{out}");
    assert!(out.contains("call bpf_ringbuf_reserve#131"), "{out}");
}

#[test]
fn btf_dump_reads_objects() {
    let obj = format!("{OBJECTS}/kptr.bpf.o");
    let (code, out, err) = kfvm(&["btf", "dump", &obj, "--format", "c"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("#ifndef __VMLINUX_H__"), "{out}");
    assert!(out.contains("struct bpf_spin_lock {"), "{out}");
    let (code, _, err) = kfvm(&["btf", "dump", concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")], b"");
    assert_eq!(code, 2);
    assert!(err.contains("bad BTF magic"), "{err}");
}
