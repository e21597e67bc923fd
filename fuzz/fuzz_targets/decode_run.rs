//! Arbitrary bytes → `raw_from_bytes` → `decode_program` → `Program::load` → a checked run with a
//! small budget, then a repeat and a verified run of the same state that must agree with it. The
//! harness (and the input layout) lives in the kfvm-vm tests, so that every crash kept under
//! `crates/vm/tests/fuzz/` replays in a plain `cargo test`.

#![no_main]

#[path = "../../crates/vm/tests/support/decode_run.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::decode_run(data);
});
