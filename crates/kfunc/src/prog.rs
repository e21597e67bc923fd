//! Program types (`enum bpf_prog_type`) and kfunc hooks (`enum btf_kfunc_hook`), with Linux
//! 6.18's `bpf_prog_type_to_kfunc_hook()`.

use std::fmt;

/// `enum bpf_prog_type`: the one of `kfvm-uapi`, under the name the kfunc model has always
/// used. Its [`name`](BpfProgType::name) and `Display` are libbpf's (`sched_cls`);
/// [`c_name`](BpfProgType::c_name) is the kernel's constant (`BPF_PROG_TYPE_SCHED_CLS`). It
/// parses from either, from the number, and from aliases such as `tc` or `fentry`.
pub use kfvm_uapi::ProgType as BpfProgType;

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
    fn ext_takes_its_targets_type() {
        let mut p = ProgInfo::new(BpfProgType::Ext);
        assert_eq!(resolve_prog_type(&p), BpfProgType::Ext);
        p.dst_prog_type = Some(BpfProgType::Xdp);
        assert_eq!(resolve_prog_type(&p), BpfProgType::Xdp);
    }
}
