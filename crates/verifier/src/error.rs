//! The two ways verification ends without a verdict of "accepted": the program is rejected (the
//! kernel's answer, with its errno and message), or kfvm has a bug.

use core::fmt;

/// The `errno` the kernel returns with a rejection.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Errno {
    /// `EINVAL`: the program is malformed or unsafe.
    Inval,
    /// `EACCES`: the program does something it is not allowed to (pointer leaks, disallowed calls).
    Acces,
    /// `EPERM`: a capability is missing.
    Perm,
    /// `E2BIG`: a limit was exceeded (the complexity limit, the program size).
    TooBig,
    /// `EFAULT`: the kernel's own consistency checks (`verifier_bug`).
    Fault,
    /// `ENOTSUPP`: a feature the kernel does not support in this context.
    NotSupp,
    /// `EOPNOTSUPP`.
    OpNotSupp,
    /// `ENOSPC`: the log did not fit its buffer.
    NoSpc,
    /// `EPROTO`: an RCU-protected iterator used outside its RCU critical section.
    Proto,
    /// `ENOENT`: a type looked up in the kernel BTF is not there.
    NoEnt,
    /// `ESRCH`: a type looked up in the kernel BTF is there more than once.
    Srch,
}

impl Errno {
    /// The numeric value on Linux.
    pub const fn raw(self) -> i32 {
        match self {
            Errno::Inval => 22,
            Errno::Acces => 13,
            Errno::Perm => 1,
            Errno::TooBig => 7,
            Errno::Fault => 14,
            Errno::NotSupp => 524,
            Errno::OpNotSupp => 95,
            Errno::NoSpc => 28,
            Errno::Proto => 71,
            Errno::NoEnt => 2,
            Errno::Srch => 3,
        }
    }
}

/// A program the verifier refuses, with the kernel's reason.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Rejection {
    /// The errno `BPF_PROG_LOAD` would return.
    pub errno: Errno,
    /// The instruction being verified when the program was refused, if any.
    pub insn: Option<usize>,
    /// The kernel's message, verbatim, without the trailing newline.
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why verification did not accept the program.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum VerifyError {
    /// The program is rejected, as the kernel would reject it.
    #[error("program rejected: {0}")]
    Rejected(Rejection),
    /// kfvm cannot decide: the program needs a part of the verifier kfvm does not have yet. Neither
    /// an acceptance nor a rejection.
    #[error("kfvm cannot verify this program yet: {0}")]
    Unsupported(String),
    /// A kfvm bug: an internal invariant does not hold. Never a verdict about the program.
    #[error("internal verifier error (a kfvm bug, please report it): {0}")]
    Internal(String),
}

impl VerifyError {
    /// A rejection at instruction `insn`.
    #[cold]
    pub fn reject(errno: Errno, insn: Option<usize>, message: impl Into<String>) -> Self {
        VerifyError::Rejected(Rejection { errno, insn, message: message.into() })
    }
}

/// `Result` with a [`VerifyError`].
pub type Result<T, E = VerifyError> = core::result::Result<T, E>;
