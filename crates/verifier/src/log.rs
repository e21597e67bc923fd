//! The verifier log (`struct bpf_verifier_log`): what `BPF_PROG_LOAD` writes to `log_buf`.

use core::fmt::{self, Write};

/// `BPF_LOG_LEVEL1`: messages, and the instructions of the paths being verified.
pub const LOG_LEVEL1: u32 = 1;
/// `BPF_LOG_LEVEL2`: also the register state after every instruction.
pub const LOG_LEVEL2: u32 = 2;
/// `BPF_LOG_STATS`: the closing statistics line.
pub const LOG_STATS: u32 = 4;

/// The log being written.
#[derive(Clone, Debug, Default)]
pub struct VerifierLog {
    level: u32,
    buf: String,
}

impl VerifierLog {
    /// A log at `level` (a combination of [`LOG_LEVEL1`], [`LOG_LEVEL2`], [`LOG_STATS`]).
    pub fn new(level: u32) -> Self {
        VerifierLog { level, buf: String::new() }
    }

    /// The level.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Whether anything is logged at all (`bpf_verifier_log_needed`).
    pub fn needed(&self) -> bool {
        self.level != 0
    }

    /// Whether level 2 (register states) is on.
    pub fn level2(&self) -> bool {
        self.level & LOG_LEVEL2 != 0
    }

    /// Whether instructions are logged (`BPF_LOG_LEVEL`: level 1 or 2).
    pub fn level12(&self) -> bool {
        self.level & (LOG_LEVEL1 | LOG_LEVEL2) != 0
    }

    /// `log->end_pos`: bytes written so far.
    pub fn end_pos(&self) -> usize {
        self.buf.len()
    }

    /// Mirrors `bpf_vlog_reset()`: forgets everything written after `pos`.
    pub fn reset(&mut self, pos: usize) {
        if self.needed() && pos <= self.buf.len() {
            self.buf.truncate(pos);
        }
    }

    /// `verbose()`: appends formatted text if logging is on.
    pub fn verbose(&mut self, args: fmt::Arguments<'_>) {
        if self.needed() {
            // Writing to a String cannot fail.
            let _ = self.buf.write_fmt(args);
        }
    }

    /// Appends text unconditionally (the statistics line is written whenever a log buffer exists).
    pub fn push_str(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// Takes the text.
    pub fn into_string(self) -> String {
        self.buf
    }
}

/// `verbose(env, ...)`: formats into the log.
#[macro_export]
macro_rules! verbose {
    ($log:expr, $($arg:tt)*) => {
        $log.verbose(format_args!($($arg)*))
    };
}
