//! Hooks: where programs attach, what their context is, and what fires them.
//!
//! | section | hook | context | fired by |
//! |---|---|---|---|
//! | `tp_btf/NAME` | a tracepoint of the model ([`TRACEPOINTS`]), BTF-typed arguments | `u64` array of the arguments | model events, `[[event]] hook = ...`, `test-run` |
//! | `raw_tp/NAME`, `raw_tracepoint/NAME` | the same tracepoints, untyped; or any name given by an event | `u64` array | the same |
//! | `kprobe/FUNC`, `kretprobe/FUNC` | a function of the model ([`FUNCTIONS`]) or any name given by an event | `struct pt_regs` (x86-64) with the arguments in `di, si, dx, cx, r8, r9` | the same |
//! | `fentry/FUNC`, `fexit/FUNC` | a function of the model | `u64` array | the same |
//! | `syscall` | `BPF_PROG_TYPE_SYSCALL` | a byte buffer | `test-run` |
//! | `xdp` | XDP | `struct xdp_md` over a packet | `packet` events, `test-run` |

use std::fmt;

/// The type of a hook argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArgType {
    /// `struct task_struct *`.
    Task,
    /// `struct cgroup *`.
    Cgroup,
    /// `const char *`.
    Str,
    /// An integer.
    Int,
}

impl fmt::Display for ArgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArgType::Task => "struct task_struct *",
            ArgType::Cgroup => "struct cgroup *",
            ArgType::Str => "const char *",
            ArgType::Int => "an integer",
        })
    }
}

/// A tracepoint or function of the model: its name and arguments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HookDecl {
    /// `task_newtask`.
    pub name: &'static str,
    /// Argument names and types, in order.
    pub args: &'static [(&'static str, ArgType)],
}

/// The model's tracepoints (`TP_PROTO` of Linux 6.18, as `btf_trace_NAME` has them).
pub const TRACEPOINTS: &[HookDecl] = &[
    HookDecl { name: "task_newtask", args: &[("task", ArgType::Task), ("clone_flags", ArgType::Int)] },
    HookDecl { name: "sched_process_fork", args: &[("parent", ArgType::Task), ("child", ArgType::Task)] },
    HookDecl { name: "sched_process_exit", args: &[("p", ArgType::Task), ("group_dead", ArgType::Int)] },
    HookDecl {
        name: "sched_switch",
        args: &[
            ("preempt", ArgType::Int),
            ("prev", ArgType::Task),
            ("next", ArgType::Task),
            ("prev_state", ArgType::Int),
        ],
    },
    HookDecl { name: "cgroup_mkdir", args: &[("cgrp", ArgType::Cgroup), ("path", ArgType::Str)] },
    HookDecl { name: "cgroup_rmdir", args: &[("cgrp", ArgType::Cgroup), ("path", ArgType::Str)] },
];

/// The model's functions, for `kprobe/`, `fentry/` (the kernel functions its events run).
pub const FUNCTIONS: &[HookDecl] = &[
    HookDecl { name: "wake_up_new_task", args: &[("p", ArgType::Task)] },
    HookDecl { name: "do_exit", args: &[("code", ArgType::Int)] },
    HookDecl {
        name: "cgroup_mkdir",
        args: &[("parent_kn", ArgType::Int), ("name", ArgType::Str), ("mode", ArgType::Int)],
    },
];

/// Where a program attaches.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Hook {
    /// A tracepoint: `tp_btf/NAME` (`btf`) or `raw_tp/NAME`.
    Tracepoint {
        /// The name.
        name: String,
        /// BTF-typed (`tp_btf`).
        btf: bool,
    },
    /// A kernel function: `kprobe/`, `kretprobe/` (`regs`), `fentry/`, `fexit/`.
    Function {
        /// The name.
        name: String,
        /// At return (`kretprobe`, `fexit`).
        ret: bool,
        /// A kprobe (context `struct pt_regs`), else fentry/fexit (`u64` array).
        regs: bool,
    },
    /// `syscall`.
    Syscall,
    /// `xdp`.
    Xdp,
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hook::Tracepoint { name, btf } => write!(f, "{}/{name}", if *btf { "tp_btf" } else { "raw_tp" }),
            Hook::Function { name, ret, regs } => {
                let p = match (regs, ret) {
                    (true, false) => "kprobe",
                    (true, true) => "kretprobe",
                    (false, false) => "fentry",
                    (false, true) => "fexit",
                };
                write!(f, "{p}/{name}")
            }
            Hook::Syscall => f.write_str("syscall"),
            Hook::Xdp => f.write_str("xdp"),
        }
    }
}

impl Hook {
    /// The hook of a program's section (`SEC("tp_btf/task_newtask")`); `Err` names the problem.
    /// `any_name`: accept tracepoints and functions the model does not declare (an event or a
    /// test run gives their arguments).
    pub fn from_section(sec: &str, any_name: bool) -> Result<Hook, String> {
        let sec = sec.strip_prefix('?').unwrap_or(sec);
        let (kind, name) = sec.split_once('/').unwrap_or((sec, ""));
        let known = |list: &[HookDecl], what: &str| -> Result<(), String> {
            if name.is_empty() {
                return Err(format!("section `{sec}` names no {what}"));
            }
            if !any_name && !list.iter().any(|d| d.name == name) {
                let names: Vec<&str> = list.iter().map(|d| d.name).collect();
                return Err(format!(
                    "unknown hook `{sec}`: the model has no {what} `{name}` (it has: {})",
                    names.join(", ")
                ));
            }
            Ok(())
        };
        match kind {
            "tp_btf" => {
                // A BTF tracepoint needs its prototype: only the model's.
                if !TRACEPOINTS.iter().any(|d| d.name == name) {
                    let names: Vec<&str> = TRACEPOINTS.iter().map(|d| d.name).collect();
                    return Err(format!(
                        "unknown hook `{sec}`: the model has no tracepoint `{name}` (it has: {})",
                        names.join(", ")
                    ));
                }
                Ok(Hook::Tracepoint { name: name.into(), btf: true })
            }
            "raw_tp" | "raw_tracepoint" | "raw_tp.w" | "raw_tracepoint.w" => {
                known(TRACEPOINTS, "tracepoint")?;
                Ok(Hook::Tracepoint { name: name.into(), btf: false })
            }
            "kprobe" | "kretprobe" => {
                known(FUNCTIONS, "function")?;
                Ok(Hook::Function { name: name.into(), ret: kind == "kretprobe", regs: true })
            }
            "fentry" | "fexit" => {
                if !FUNCTIONS.iter().any(|d| d.name == name) {
                    let names: Vec<&str> = FUNCTIONS.iter().map(|d| d.name).collect();
                    return Err(format!(
                        "unknown hook `{sec}`: the model has no function `{name}` (it has: {})",
                        names.join(", ")
                    ));
                }
                Ok(Hook::Function { name: name.into(), ret: kind == "fexit", regs: false })
            }
            "syscall" if name.is_empty() => Ok(Hook::Syscall),
            "xdp" | "xdp.frags" => Ok(Hook::Xdp),
            _ => Err(format!(
                "unknown hook `{sec}`: kfvm runs tp_btf/, raw_tp/, kprobe/, kretprobe/, fentry/, fexit/, syscall and xdp programs"
            )),
        }
    }

    /// The declared arguments, if the model declares this hook.
    pub fn decl(&self) -> Option<&'static HookDecl> {
        match self {
            Hook::Tracepoint { name, .. } => TRACEPOINTS.iter().find(|d| d.name == name),
            Hook::Function { name, .. } => FUNCTIONS.iter().find(|d| d.name == name),
            _ => None,
        }
    }

    /// Whether an event naming `event` (`tp_btf/x`, `raw_tp/x`, `kprobe/f`, `x`) fires this hook.
    pub fn fired_by(&self, event: &str) -> bool {
        let (kind, name) = event.split_once('/').unwrap_or(("", event));
        match self {
            Hook::Tracepoint { name: n, .. } => {
                n == name && matches!(kind, "" | "tp_btf" | "raw_tp" | "raw_tracepoint" | "tp")
            }
            Hook::Function { name: n, .. } => {
                n == name && matches!(kind, "" | "kprobe" | "kretprobe" | "fentry" | "fexit" | "func")
            }
            Hook::Syscall => event == "syscall",
            Hook::Xdp => event == "xdp",
        }
    }
}

/// x86-64 `struct pt_regs` offsets of the argument registers `di, si, dx, cx, r8, r9`.
pub const PT_REGS_ARGS: [usize; 6] = [112, 104, 96, 88, 72, 64];
/// `sizeof(struct pt_regs)` on x86-64.
pub const PT_REGS_SIZE: usize = 168;
