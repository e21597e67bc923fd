//! Program types (`enum bpf_prog_type`) and kfunc hooks (`enum btf_kfunc_hook`), with Linux
//! 6.18's `bpf_prog_type_to_kfunc_hook()`.

use std::fmt;
use std::str::FromStr;

macro_rules! prog_types {
    ($($(#[$m:meta])* $v:ident = $n:literal, $name:literal;)*) => {
        /// `enum bpf_prog_type` of Linux 6.18, with the kernel's numbers.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[repr(u32)]
        pub enum BpfProgType {
            $($(#[$m])* $v = $n,)*
        }

        impl BpfProgType {
            /// Every program type, in numeric order.
            pub const ALL: &'static [BpfProgType] = &[$(BpfProgType::$v,)*];

            /// The name without the `BPF_PROG_TYPE_` prefix (`SCHED_CLS`).
            pub fn name(self) -> &'static str {
                match self { $(BpfProgType::$v => $name,)* }
            }
        }
    };
}

prog_types! {
    /// `BPF_PROG_TYPE_UNSPEC` (registering for it fills the COMMON hook).
    Unspec = 0, "UNSPEC";
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    SocketFilter = 1, "SOCKET_FILTER";
    /// `BPF_PROG_TYPE_KPROBE`.
    Kprobe = 2, "KPROBE";
    /// `BPF_PROG_TYPE_SCHED_CLS` (tc).
    SchedCls = 3, "SCHED_CLS";
    /// `BPF_PROG_TYPE_SCHED_ACT`.
    SchedAct = 4, "SCHED_ACT";
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    Tracepoint = 5, "TRACEPOINT";
    /// `BPF_PROG_TYPE_XDP`.
    Xdp = 6, "XDP";
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    PerfEvent = 7, "PERF_EVENT";
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    CgroupSkb = 8, "CGROUP_SKB";
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    CgroupSock = 9, "CGROUP_SOCK";
    /// `BPF_PROG_TYPE_LWT_IN`.
    LwtIn = 10, "LWT_IN";
    /// `BPF_PROG_TYPE_LWT_OUT`.
    LwtOut = 11, "LWT_OUT";
    /// `BPF_PROG_TYPE_LWT_XMIT`.
    LwtXmit = 12, "LWT_XMIT";
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    SockOps = 13, "SOCK_OPS";
    /// `BPF_PROG_TYPE_SK_SKB`.
    SkSkb = 14, "SK_SKB";
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    CgroupDevice = 15, "CGROUP_DEVICE";
    /// `BPF_PROG_TYPE_SK_MSG`.
    SkMsg = 16, "SK_MSG";
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    RawTracepoint = 17, "RAW_TRACEPOINT";
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    CgroupSockAddr = 18, "CGROUP_SOCK_ADDR";
    /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
    LwtSeg6local = 19, "LWT_SEG6LOCAL";
    /// `BPF_PROG_TYPE_LIRC_MODE2`.
    LircMode2 = 20, "LIRC_MODE2";
    /// `BPF_PROG_TYPE_SK_REUSEPORT`.
    SkReuseport = 21, "SK_REUSEPORT";
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    FlowDissector = 22, "FLOW_DISSECTOR";
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    CgroupSysctl = 23, "CGROUP_SYSCTL";
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
    RawTracepointWritable = 24, "RAW_TRACEPOINT_WRITABLE";
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    CgroupSockopt = 25, "CGROUP_SOCKOPT";
    /// `BPF_PROG_TYPE_TRACING` (fentry/fexit/fmod_ret/iter/tp_btf).
    Tracing = 26, "TRACING";
    /// `BPF_PROG_TYPE_STRUCT_OPS`.
    StructOps = 27, "STRUCT_OPS";
    /// `BPF_PROG_TYPE_EXT` (freplace: takes its target's type, see [`resolve_prog_type`]).
    Ext = 28, "EXT";
    /// `BPF_PROG_TYPE_LSM`.
    Lsm = 29, "LSM";
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    SkLookup = 30, "SK_LOOKUP";
    /// `BPF_PROG_TYPE_SYSCALL`.
    Syscall = 31, "SYSCALL";
    /// `BPF_PROG_TYPE_NETFILTER`.
    Netfilter = 32, "NETFILTER";
}

impl BpfProgType {
    /// The program type numbered `n`.
    pub fn from_raw(n: u32) -> Option<BpfProgType> {
        Self::ALL.get(n as usize).copied()
    }

    /// The kernel's number.
    pub fn raw(self) -> u32 {
        self as u32
    }
}

/// `BPF_PROG_TYPE_SCHED_CLS`.
impl fmt::Display for BpfProgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BPF_PROG_TYPE_{}", self.name())
    }
}

/// A name that is not a program type.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown program type `{0}` (expected e.g. `tracing`, `SCHED_CLS`, `BPF_PROG_TYPE_XDP` or a number)")]
pub struct UnknownProgType(pub String);

/// Accepts `sched_cls`, `SCHED_CLS`, `BPF_PROG_TYPE_SCHED_CLS`, `3`, and the section-style
/// aliases `tc`, `fentry`/`fexit`/`tp_btf`/`iter` (TRACING), `tp` (TRACEPOINT), `raw_tp`,
/// `lsm`, `struct_ops`, `syscall`, `cgroup_skb`, `sockops`.
impl FromStr for BpfProgType {
    type Err = UnknownProgType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(n) = s.parse::<u32>() {
            return BpfProgType::from_raw(n).ok_or_else(|| UnknownProgType(s.to_owned()));
        }
        let up = s.trim().to_ascii_uppercase().replace('-', "_");
        let up = up.strip_prefix("BPF_PROG_TYPE_").unwrap_or(&up);
        let alias = match up {
            "TC" => Some(BpfProgType::SchedCls),
            "FENTRY" | "FEXIT" | "FMOD_RET" | "TP_BTF" | "ITER" => Some(BpfProgType::Tracing),
            "TP" => Some(BpfProgType::Tracepoint),
            "RAW_TP" => Some(BpfProgType::RawTracepoint),
            "SOCKOPS" => Some(BpfProgType::SockOps),
            "FREPLACE" => Some(BpfProgType::Ext),
            _ => None,
        };
        alias
            .or_else(|| BpfProgType::ALL.iter().copied().find(|t| t.name() == up))
            .ok_or_else(|| UnknownProgType(s.to_owned()))
    }
}

macro_rules! hooks {
    ($($(#[$m:meta])* $v:ident = $n:literal, $name:literal;)*) => {
        /// `enum btf_kfunc_hook` of Linux 6.18 (kernel/bpf/btf.c), in the kernel's order.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[repr(u8)]
        pub enum KfuncHook {
            $($(#[$m])* $v = $n,)*
        }

        impl KfuncHook {
            /// Every hook, in the kernel's order (`BTF_KFUNC_HOOK_MAX` is `ALL.len()`).
            pub const ALL: &'static [KfuncHook] = &[$(KfuncHook::$v,)*];

            /// The name without the `BTF_KFUNC_HOOK_` prefix (`TRACING`).
            pub fn name(self) -> &'static str {
                match self { $(KfuncHook::$v => $name,)* }
            }
        }
    };
}

hooks! {
    /// `BTF_KFUNC_HOOK_COMMON`: callable from every program type.
    Common = 0, "COMMON";
    /// `BTF_KFUNC_HOOK_XDP`.
    Xdp = 1, "XDP";
    /// `BTF_KFUNC_HOOK_TC`.
    Tc = 2, "TC";
    /// `BTF_KFUNC_HOOK_STRUCT_OPS`.
    StructOps = 3, "STRUCT_OPS";
    /// `BTF_KFUNC_HOOK_TRACING`.
    Tracing = 4, "TRACING";
    /// `BTF_KFUNC_HOOK_SYSCALL`.
    Syscall = 5, "SYSCALL";
    /// `BTF_KFUNC_HOOK_FMODRET`: the fmod_ret attach allow-list, not a call permission.
    Fmodret = 6, "FMODRET";
    /// `BTF_KFUNC_HOOK_CGROUP`.
    Cgroup = 7, "CGROUP";
    /// `BTF_KFUNC_HOOK_SCHED_ACT`.
    SchedAct = 8, "SCHED_ACT";
    /// `BTF_KFUNC_HOOK_SK_SKB`.
    SkSkb = 9, "SK_SKB";
    /// `BTF_KFUNC_HOOK_SOCKET_FILTER`.
    SocketFilter = 10, "SOCKET_FILTER";
    /// `BTF_KFUNC_HOOK_LWT`.
    Lwt = 11, "LWT";
    /// `BTF_KFUNC_HOOK_NETFILTER`.
    Netfilter = 12, "NETFILTER";
    /// `BTF_KFUNC_HOOK_KPROBE`.
    Kprobe = 13, "KPROBE";
}

impl KfuncHook {
    /// `BTF_KFUNC_HOOK_MAX`.
    pub const MAX: usize = 14;

    /// The program types whose kfunc lookups consult this hook: every type for COMMON, none for
    /// FMODRET, else the types [`bpf_prog_type_to_kfunc_hook`] maps here.
    pub fn prog_types(self) -> Vec<BpfProgType> {
        match self {
            KfuncHook::Common => BpfProgType::ALL.to_vec(),
            KfuncHook::Fmodret => Vec::new(),
            h => BpfProgType::ALL
                .iter()
                .copied()
                .filter(|t| bpf_prog_type_to_kfunc_hook(*t) == Some(h))
                .collect(),
        }
    }
}

/// `BTF_KFUNC_HOOK_TRACING`.
impl fmt::Display for KfuncHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BTF_KFUNC_HOOK_{}", self.name())
    }
}

/// `bpf_prog_type_to_kfunc_hook()` of Linux 6.18.2. `None` is the kernel's
/// `BTF_KFUNC_HOOK_MAX`: the type has no hook of its own (only COMMON kfuncs are callable, and
/// registering a set for it fails). 7.x also maps RAW_TRACEPOINT to TRACING; 6.18 does not.
pub fn bpf_prog_type_to_kfunc_hook(prog_type: BpfProgType) -> Option<KfuncHook> {
    use BpfProgType as T;
    Some(match prog_type {
        T::Unspec => KfuncHook::Common,
        T::Xdp => KfuncHook::Xdp,
        T::SchedCls => KfuncHook::Tc,
        T::StructOps => KfuncHook::StructOps,
        T::Tracing | T::Tracepoint | T::PerfEvent | T::Lsm => KfuncHook::Tracing,
        T::Syscall => KfuncHook::Syscall,
        T::CgroupSkb
        | T::CgroupSock
        | T::CgroupDevice
        | T::CgroupSockAddr
        | T::CgroupSockopt
        | T::CgroupSysctl
        | T::SockOps => KfuncHook::Cgroup,
        T::SchedAct => KfuncHook::SchedAct,
        T::SkSkb => KfuncHook::SkSkb,
        T::SocketFilter => KfuncHook::SocketFilter,
        T::LwtIn | T::LwtOut | T::LwtXmit | T::LwtSeg6local => KfuncHook::Lwt,
        T::Netfilter => KfuncHook::Netfilter,
        T::Kprobe => KfuncHook::Kprobe,
        _ => return None,
    })
}

/// What a kfunc lookup knows about the calling program: the parts of `struct bpf_prog` that
/// `btf_kfunc_id_set_contains()` and the kernel's hook filters read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProgInfo {
    /// `prog->type`.
    pub prog_type: BpfProgType,
    /// `prog->expected_attach_type` (`enum bpf_attach_type`).
    pub expected_attach_type: u32,
    /// `prog->sleepable`.
    pub sleepable: bool,
    /// `prog->aux->attach_func_name`: the attach target (function, or struct_ops member).
    pub attach_func_name: Option<String>,
    /// For STRUCT_OPS programs: the name of the struct_ops type (`Qdisc_ops`, `sched_ext_ops`).
    pub struct_ops_type: Option<String>,
    /// For EXT (freplace) programs: the type of the program being replaced
    /// (`prog->aux->saved_dst_prog_type`).
    pub dst_prog_type: Option<BpfProgType>,
}

impl ProgInfo {
    /// A program of type `prog_type` with nothing else known.
    pub fn new(prog_type: BpfProgType) -> Self {
        ProgInfo {
            prog_type,
            expected_attach_type: 0,
            sleepable: false,
            attach_func_name: None,
            struct_ops_type: None,
            dst_prog_type: None,
        }
    }
}

/// `resolve_prog_type()`: an EXT program takes the type of the program it replaces.
pub fn resolve_prog_type(prog: &ProgInfo) -> BpfProgType {
    match (prog.prog_type, prog.dst_prog_type) {
        (BpfProgType::Ext, Some(t)) => t,
        (t, _) => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_kernels() {
        assert_eq!(BpfProgType::ALL.len(), 33);
        for (i, t) in BpfProgType::ALL.iter().enumerate() {
            assert_eq!(t.raw() as usize, i);
        }
        assert_eq!(BpfProgType::Tracing.raw(), 26);
        assert_eq!(BpfProgType::Syscall.raw(), 31);
        assert_eq!(BpfProgType::Netfilter.raw(), 32);
        assert_eq!(KfuncHook::ALL.len(), KfuncHook::MAX);
        assert_eq!(KfuncHook::Kprobe as usize, 13);
    }

    #[test]
    fn hook_map() {
        use BpfProgType as T;
        assert_eq!(bpf_prog_type_to_kfunc_hook(T::Unspec), Some(KfuncHook::Common));
        assert_eq!(bpf_prog_type_to_kfunc_hook(T::Lsm), Some(KfuncHook::Tracing));
        assert_eq!(bpf_prog_type_to_kfunc_hook(T::SockOps), Some(KfuncHook::Cgroup));
        assert_eq!(bpf_prog_type_to_kfunc_hook(T::RawTracepoint), None);
        assert_eq!(bpf_prog_type_to_kfunc_hook(T::Ext), None);
        assert_eq!(KfuncHook::Tracing.prog_types(), vec![T::Tracepoint, T::PerfEvent, T::Tracing, T::Lsm]);
        assert!(KfuncHook::Fmodret.prog_types().is_empty());
    }

    #[test]
    fn parse_prog_types() {
        assert_eq!("tracing".parse::<BpfProgType>().unwrap(), BpfProgType::Tracing);
        assert_eq!("BPF_PROG_TYPE_SCHED_CLS".parse::<BpfProgType>().unwrap(), BpfProgType::SchedCls);
        assert_eq!("tc".parse::<BpfProgType>().unwrap(), BpfProgType::SchedCls);
        assert_eq!("6".parse::<BpfProgType>().unwrap(), BpfProgType::Xdp);
        assert!("nope".parse::<BpfProgType>().is_err());
        assert!("99".parse::<BpfProgType>().is_err());
    }

    #[test]
    fn ext_takes_its_targets_type() {
        let mut p = ProgInfo::new(BpfProgType::Ext);
        assert_eq!(resolve_prog_type(&p), BpfProgType::Ext);
        p.dst_prog_type = Some(BpfProgType::Xdp);
        assert_eq!(resolve_prog_type(&p), BpfProgType::Xdp);
    }
}
