//! The verifier log (`struct bpf_verifier_log`): what `BPF_PROG_LOAD` writes to `log_buf`.

use core::fmt::{self, Write};

/// `BPF_LOG_LEVEL1`: messages, and the instructions of the paths being verified.
pub const LOG_LEVEL1: u32 = 1;
/// `BPF_LOG_LEVEL2`: also the register state after every instruction.
pub const LOG_LEVEL2: u32 = 2;
/// `BPF_LOG_STATS`: the closing statistics line.
pub const LOG_STATS: u32 = 4;

/// The log being written.
///
/// With a buffer size ([`VerifierLog::with_size`]) it behaves like the kernel's default
/// rotating log: only the last `size - 1` bytes are kept, and a log that ever grew past them
/// makes the load fail with `ENOSPC` ([`VerifierLog::truncated`]), whatever the verdict.
#[derive(Clone, Debug, Default)]
pub struct VerifierLog {
    level: u32,
    /// The kept text: the logical log from `start_pos` on.
    buf: String,
    /// `log->start_pos`: logical offset of `buf`'s first byte.
    start_pos: usize,
    /// `log->len_total`: the buffer size; 0 for no limit.
    len_total: usize,
    /// `log->len_max`: the longest the log has been, with its terminating zero.
    len_max: usize,
}

impl VerifierLog {
    /// A log at `level` (a combination of [`LOG_LEVEL1`], [`LOG_LEVEL2`], [`LOG_STATS`]).
    pub fn new(level: u32) -> Self {
        VerifierLog { level, ..Default::default() }
    }

    /// A log at `level` written into a buffer of `size` bytes (`log_size`; 0: unlimited).
    pub fn with_size(level: u32, size: u32) -> Self {
        VerifierLog { level, len_total: size as usize, ..Default::default() }
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

    /// `log->end_pos`: bytes written so far (logical offset, past any rotation).
    pub fn end_pos(&self) -> usize {
        self.start_pos + self.buf.len()
    }

    /// Mirrors `bpf_vlog_reset()`: forgets everything written after `pos`.
    pub fn reset(&mut self, pos: usize) {
        if !self.needed() || pos > self.end_pos() {
            return;
        }
        if pos >= self.start_pos {
            self.buf.truncate(pos - self.start_pos);
        } else {
            // The text before `pos` rotated out already: the log restarts empty there.
            self.buf.clear();
            self.start_pos = pos;
        }
    }

    fn grew(&mut self) {
        self.len_max = self.len_max.max(self.end_pos() + 1);
        if self.len_total == 0 {
            return;
        }
        let keep = self.len_total - 1;
        // Drop the rotated-out front in batches (the kept text is the last `keep` bytes).
        if self.buf.len() > keep.saturating_mul(2).max(keep + 4096) {
            let cut = self.buf.len() - keep;
            self.buf.drain(..cut);
            self.start_pos += cut;
        }
    }

    /// `verbose()`: appends formatted text if logging is on.
    pub fn verbose(&mut self, args: fmt::Arguments<'_>) {
        if self.needed() {
            // Writing to a String cannot fail.
            let _ = self.buf.write_fmt(args);
            self.grew();
        }
    }

    /// Appends text unconditionally (the statistics line is written whenever a log buffer exists).
    pub fn push_str(&mut self, s: &str) {
        self.buf.push_str(s);
        self.grew();
    }

    /// Mirrors the `-ENOSPC` of `bpf_vlog_finalize()`: the log did not fit its buffer.
    pub fn truncated(&self) -> bool {
        self.len_total != 0 && self.len_max > self.len_total
    }

    /// The text so far (what the buffer holds).
    pub fn as_str(&self) -> &str {
        self.kept()
    }

    fn kept(&self) -> &str {
        if self.len_total != 0 && self.buf.len() > self.len_total - 1 {
            &self.buf[self.buf.len() - (self.len_total - 1)..]
        } else {
            &self.buf
        }
    }

    /// Takes the text (what the buffer holds at the end).
    pub fn into_string(self) -> String {
        self.kept().to_string()
    }
}

/// `verbose(env, ...)`: formats into the log.
#[macro_export]
macro_rules! verbose {
    ($log:expr, $($arg:tt)*) => {
        $log.verbose(format_args!($($arg)*))
    };
}
