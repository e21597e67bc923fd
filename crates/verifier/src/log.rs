//! The verifier log (`struct bpf_verifier_log`): what `BPF_PROG_LOAD` writes to `log_buf`.

use crate::env::LineInfo;
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
    /// `prog->aux->linfo`: the program's `line_info`, set when logging is on.
    linfo: Vec<LineInfo>,
    /// `prog->len`: instructions the `line_info` covers.
    prog_len: usize,
    /// `env->prev_linfo`: the record of the last source line printed (index in `linfo`).
    prev_linfo: Option<usize>,
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

    /// Gives the log the program's `line_info` (`prog->aux->linfo`) for [`Self::verbose_linfo`];
    /// kfvm keeps it, and `env->prev_linfo`, with the log so that the passes before the path
    /// walk, which only see the log, print source lines too.
    pub fn set_line_info(&mut self, linfo: &[LineInfo], prog_len: usize) {
        if self.needed() {
            self.linfo = linfo.to_vec();
            self.prog_len = prog_len;
            self.prev_linfo = None;
        }
    }

    /// `env->prev_linfo = NULL` (`do_check_common()`): the next source line is printed even if
    /// it is the last one printed.
    pub fn reset_prev_linfo(&mut self) {
        self.prev_linfo = None;
    }

    /// Mirrors `find_linfo()`: the last record starting at or before `insn_off`.
    fn find_linfo(&self, insn_off: usize) -> Option<usize> {
        if self.linfo.is_empty() || insn_off >= self.prog_len {
            return None;
        }
        // Records are sorted by insn_off, the first at 0 (check_btf_line_info).
        Some(self.linfo.partition_point(|l| l.insn_off as usize <= insn_off).saturating_sub(1))
    }

    /// Mirrors `verbose_linfo()`: `prefix` and `<source line, left-trimmed> @ <file>:<line>`
    /// for the record covering `insn_off`, unless it is the record (or the file and line) last
    /// printed.
    pub fn verbose_linfo(&mut self, insn_off: usize, prefix: fmt::Arguments<'_>) {
        if !self.needed() {
            return;
        }
        let Some(cur) = self.find_linfo(insn_off) else { return };
        if let Some(prev) = self.prev_linfo {
            let (l, p) = (&self.linfo[cur], &self.linfo[prev]);
            // Records of one line that differ only in the column print once.
            if prev == cur || (l.file_name_off == p.file_name_off && l.line == p.line) {
                return;
            }
        }
        self.verbose(prefix);
        let l = &self.linfo[cur];
        let source = l.source.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        let file = l.file.rsplit('/').next().unwrap_or(&l.file);
        let text = format!("{source} @ {file}:{}\n", l.line);
        self.verbose(format_args!("{text}"));
        self.prev_linfo = Some(cur);
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
