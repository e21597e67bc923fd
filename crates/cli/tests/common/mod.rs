//! Running the `kfvm` binary, for the command tests.

// Each test file uses part of this.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `kfvm ARGS` with `stdin` as its input: (exit code, or -1 if killed; stdout; stderr).
pub(crate) fn kfvm_with_input(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kfvm"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `kfvm ARGS` with no input: (success, stdout, stderr).
pub(crate) fn kfvm(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = kfvm_with_input(args, b"");
    (code == 0, out, err)
}
