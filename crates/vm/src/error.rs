//! Errors: a program refused at load, and a run that stopped abnormally.

use kfvm_isa::DecodeError;

/// Why a program could not be prepared for execution.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum LoadError {
    /// An instruction did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A jump or call goes outside the program or into the middle of a `lddw`.
    #[error("insn {pc}: jump out of range to {target}")]
    JumpOutOfRange {
        /// The jump's slot index.
        pc: usize,
        /// The target slot index.
        target: i64,
    },
    /// A call to a helper number the host does not provide.
    #[error("insn {pc}: unknown helper function {id}")]
    UnknownHelper {
        /// The call's slot index.
        pc: usize,
        /// The helper number.
        id: i32,
    },
    /// A call to a kfunc BTF id the host does not provide.
    #[error("insn {pc}: unknown kernel function with btf id {btf_id}")]
    UnknownKfunc {
        /// The call's slot index.
        pc: usize,
        /// The kfunc's BTF id.
        btf_id: i32,
    },
    /// An instruction writes R10, the read-only frame pointer (kernel: `frame pointer is read
    /// only`).
    #[error("insn {pc}: frame pointer is read only")]
    FramePointerWrite {
        /// The writing instruction's slot index.
        pc: usize,
    },
    /// An instruction reads a register that no path has written (kernel: `R%d !read_ok`). Running
    /// it would expose whatever the register last held, a host address for instance.
    #[error("insn {pc}: R{reg} !read_ok")]
    UninitRegister {
        /// The reading instruction's slot index.
        pc: usize,
        /// The register.
        reg: u8,
    },
    /// [`crate::Program::mark_probe_mem`] was given a slot that is not a `BPF_LDX` load.
    #[error("insn {pc}: not a BPF_LDX load, so it cannot become a BPF_PROBE_MEM load")]
    NotALoad {
        /// The slot index.
        pc: usize,
    },
    /// An instruction the interpreter cannot run without a loader having resolved it first
    /// (`lddw` of a map fd, a BTF id, and so on).
    #[error("insn {pc}: {what} must be resolved by the loader before the program runs")]
    Unresolved {
        /// The slot index.
        pc: usize,
        /// What is unresolved.
        what: &'static str,
    },
}

/// Why a run stopped without returning from the main function.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum VmError {
    /// A load or store outside every region the host gave the program (checked mode).
    #[error("insn {pc}: invalid {kind} of {size} bytes at {addr:#x}: outside the program's memory")]
    OutOfBounds {
        /// Slot index.
        pc: usize,
        /// `read` or `write`.
        kind: &'static str,
        /// Address.
        addr: u64,
        /// Access size.
        size: usize,
    },
    /// An atomic operation on an address that is not aligned to its size.
    #[error("insn {pc}: misaligned atomic access of {size} bytes at {addr:#x}")]
    MisalignedAtomic {
        /// Slot index.
        pc: usize,
        /// Address.
        addr: u64,
        /// Access size.
        size: usize,
    },
    /// The instruction budget ran out: the program ran too long.
    #[error("insn {pc}: instruction budget of {budget} exhausted")]
    BudgetExhausted {
        /// Where the budget ran out.
        pc: usize,
        /// The budget.
        budget: u64,
    },
    /// More nested bpf-to-bpf calls than the kernel allows (`MAX_CALL_FRAMES`).
    #[error("insn {pc}: call stack too deep: more than {max} frames")]
    CallDepth {
        /// The call's slot index.
        pc: usize,
        /// The frame limit.
        max: usize,
    },
    /// `callx` to a value that names no helper.
    #[error("insn {pc}: callx to unknown helper function {id}")]
    UnknownHelper {
        /// Slot index.
        pc: usize,
        /// The register's value.
        id: u64,
    },
    /// Execution ran past the last instruction.
    #[error("insn {pc}: execution fell off the end of the program")]
    FellOffEnd {
        /// The slot one past the end.
        pc: usize,
    },
    /// A host function asked to run a callback at an address that is not one of the program's
    /// callbacks (`lddw rX, func` targets).
    #[error("invalid callback address {addr:#x}")]
    BadCallback {
        /// The address given.
        addr: u64,
    },
    /// A host function reported an error and asked for the run to stop.
    #[error("insn {pc}: host function failed: {message}")]
    Host {
        /// The call's slot index.
        pc: usize,
        /// What the host said.
        message: String,
    },
}
