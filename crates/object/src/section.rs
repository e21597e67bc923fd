//! libbpf's section table: which program type, expected attach type and flags a `SEC("...")`
//! name stands for (`section_defs[]` in libbpf's `libbpf.c`, as of libbpf v1.6, the libbpf of
//! Linux 6.18; v1.7's `fsession` sections need a newer kernel and are left out).

use crate::types::{AttachType, ProgType};

/// `enum sec_def_flags`.
pub mod flags {
    /// `SEC_NONE`.
    pub const NONE: u32 = 0;
    /// `SEC_EXP_ATTACH_OPT`: the expected attach type may be dropped on old kernels.
    pub const EXP_ATTACH_OPT: u32 = 1;
    /// `SEC_ATTACHABLE`: `bpf_prog_attach()`-able with the expected attach type.
    pub const ATTACHABLE: u32 = 2;
    /// `SEC_ATTACHABLE_OPT`.
    pub const ATTACHABLE_OPT: u32 = ATTACHABLE | EXP_ATTACH_OPT;
    /// `SEC_ATTACH_BTF`: the attach target is a BTF id, named after `/` in the section name.
    pub const ATTACH_BTF: u32 = 4;
    /// `SEC_SLEEPABLE`: loaded with `BPF_F_SLEEPABLE`.
    pub const SLEEPABLE: u32 = 8;
    /// `SEC_XDP_FRAGS`: loaded with `BPF_F_XDP_HAS_FRAGS`.
    pub const XDP_FRAGS: u32 = 16;
    /// `SEC_USDT`: a USDT program (attach type becomes `BPF_TRACE_UPROBE_MULTI` where the kernel
    /// has uprobe-multi links, as 6.18 does).
    pub const USDT: u32 = 32;
}

/// One row of the table (`struct bpf_sec_def`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SecDef {
    /// The section name pattern: `"xdp"` matches exactly, `"kprobe+"` matches `kprobe` or
    /// `kprobe/...`, `"type/"` would match any `type/...` (`sec_def_matches`).
    pub sec: &'static str,
    /// The program type.
    pub prog_type: ProgType,
    /// The expected attach type; `None` where libbpf's table says `0` without naming an attach
    /// type (the kernel receives 0 either way).
    pub expected_attach_type: Option<AttachType>,
    /// [`flags`] bits.
    pub flags: u32,
}

impl SecDef {
    /// `sec_def_matches`.
    pub fn matches(&self, sec_name: &str) -> bool {
        if let Some(prefix) = self.sec.strip_suffix('+') {
            match sec_name.strip_prefix(prefix) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            }
        } else if self.sec.ends_with('/') {
            sec_name.starts_with(self.sec)
        } else {
            sec_name == self.sec
        }
    }

    /// Whether [`flags::SLEEPABLE`] is set.
    pub fn sleepable(&self) -> bool {
        self.flags & flags::SLEEPABLE != 0
    }

    /// Whether the attach target is found in kernel BTF ([`flags::ATTACH_BTF`]).
    pub fn attach_btf(&self) -> bool {
        self.flags & flags::ATTACH_BTF != 0
    }
}

macro_rules! sec_defs {
    ($($sec:literal, $pt:ident, $at:tt, $fl:expr;)*) => {
        /// libbpf's `section_defs[]`, in libbpf's order (the first match wins).
        pub static SECTION_DEFS: &[SecDef] = &[
            $(SecDef { sec: $sec, prog_type: ProgType::$pt, expected_attach_type: sec_defs!(@at $at), flags: $fl },)*
        ];
    };
    (@at 0) => { None };
    (@at $at:ident) => { Some(AttachType::$at) };
}

use flags::*;

sec_defs! {
    "socket", SocketFilter, 0, NONE;
    "sk_reuseport/migrate", SkReuseport, SkReuseportSelectOrMigrate, ATTACHABLE;
    "sk_reuseport", SkReuseport, SkReuseportSelect, ATTACHABLE;
    "kprobe+", Kprobe, 0, NONE;
    "uprobe+", Kprobe, 0, NONE;
    "uprobe.s+", Kprobe, 0, SLEEPABLE;
    "kretprobe+", Kprobe, 0, NONE;
    "uretprobe+", Kprobe, 0, NONE;
    "uretprobe.s+", Kprobe, 0, SLEEPABLE;
    "kprobe.multi+", Kprobe, TraceKprobeMulti, NONE;
    "kretprobe.multi+", Kprobe, TraceKprobeMulti, NONE;
    "kprobe.session+", Kprobe, TraceKprobeSession, NONE;
    "uprobe.multi+", Kprobe, TraceUprobeMulti, NONE;
    "uretprobe.multi+", Kprobe, TraceUprobeMulti, NONE;
    "uprobe.session+", Kprobe, TraceUprobeSession, NONE;
    "uprobe.multi.s+", Kprobe, TraceUprobeMulti, SLEEPABLE;
    "uretprobe.multi.s+", Kprobe, TraceUprobeMulti, SLEEPABLE;
    "uprobe.session.s+", Kprobe, TraceUprobeSession, SLEEPABLE;
    "ksyscall+", Kprobe, 0, NONE;
    "kretsyscall+", Kprobe, 0, NONE;
    "usdt+", Kprobe, 0, USDT;
    "usdt.s+", Kprobe, 0, USDT | SLEEPABLE;
    "tc/ingress", SchedCls, TcxIngress, NONE;
    "tc/egress", SchedCls, TcxEgress, NONE;
    "tcx/ingress", SchedCls, TcxIngress, NONE;
    "tcx/egress", SchedCls, TcxEgress, NONE;
    "tc", SchedCls, 0, NONE;
    "classifier", SchedCls, 0, NONE;
    "action", SchedAct, 0, NONE;
    "netkit/primary", SchedCls, NetkitPrimary, NONE;
    "netkit/peer", SchedCls, NetkitPeer, NONE;
    "tracepoint+", Tracepoint, 0, NONE;
    "tp+", Tracepoint, 0, NONE;
    "raw_tracepoint+", RawTracepoint, 0, NONE;
    "raw_tp+", RawTracepoint, 0, NONE;
    "raw_tracepoint.w+", RawTracepointWritable, 0, NONE;
    "raw_tp.w+", RawTracepointWritable, 0, NONE;
    "tp_btf+", Tracing, TraceRawTp, ATTACH_BTF;
    "fentry+", Tracing, TraceFentry, ATTACH_BTF;
    "fmod_ret+", Tracing, ModifyReturn, ATTACH_BTF;
    "fexit+", Tracing, TraceFexit, ATTACH_BTF;
    "fentry.s+", Tracing, TraceFentry, ATTACH_BTF | SLEEPABLE;
    "fmod_ret.s+", Tracing, ModifyReturn, ATTACH_BTF | SLEEPABLE;
    "fexit.s+", Tracing, TraceFexit, ATTACH_BTF | SLEEPABLE;
    "freplace+", Ext, 0, ATTACH_BTF;
    "lsm+", Lsm, LsmMac, ATTACH_BTF;
    "lsm.s+", Lsm, LsmMac, ATTACH_BTF | SLEEPABLE;
    "lsm_cgroup+", Lsm, LsmCgroup, ATTACH_BTF;
    "iter+", Tracing, TraceIter, ATTACH_BTF;
    "iter.s+", Tracing, TraceIter, ATTACH_BTF | SLEEPABLE;
    "syscall", Syscall, 0, SLEEPABLE;
    "xdp.frags/devmap", Xdp, XdpDevmap, XDP_FRAGS;
    "xdp/devmap", Xdp, XdpDevmap, ATTACHABLE;
    "xdp.frags/cpumap", Xdp, XdpCpumap, XDP_FRAGS;
    "xdp/cpumap", Xdp, XdpCpumap, ATTACHABLE;
    "xdp.frags", Xdp, Xdp, XDP_FRAGS;
    "xdp", Xdp, Xdp, ATTACHABLE_OPT;
    "perf_event", PerfEvent, 0, NONE;
    "lwt_in", LwtIn, 0, NONE;
    "lwt_out", LwtOut, 0, NONE;
    "lwt_xmit", LwtXmit, 0, NONE;
    "lwt_seg6local", LwtSeg6local, 0, NONE;
    "sockops", SockOps, CgroupSockOps, ATTACHABLE_OPT;
    "sk_skb/stream_parser", SkSkb, SkSkbStreamParser, ATTACHABLE_OPT;
    "sk_skb/stream_verdict", SkSkb, SkSkbStreamVerdict, ATTACHABLE_OPT;
    "sk_skb/verdict", SkSkb, SkSkbVerdict, ATTACHABLE_OPT;
    "sk_skb", SkSkb, 0, NONE;
    "sk_msg", SkMsg, SkMsgVerdict, ATTACHABLE_OPT;
    "lirc_mode2", LircMode2, LircMode2, ATTACHABLE_OPT;
    "flow_dissector", FlowDissector, FlowDissector, ATTACHABLE_OPT;
    "cgroup_skb/ingress", CgroupSkb, CgroupInetIngress, ATTACHABLE_OPT;
    "cgroup_skb/egress", CgroupSkb, CgroupInetEgress, ATTACHABLE_OPT;
    "cgroup/skb", CgroupSkb, 0, NONE;
    "cgroup/sock_create", CgroupSock, CgroupInetSockCreate, ATTACHABLE;
    "cgroup/sock_release", CgroupSock, CgroupInetSockRelease, ATTACHABLE;
    "cgroup/sock", CgroupSock, CgroupInetSockCreate, ATTACHABLE_OPT;
    "cgroup/post_bind4", CgroupSock, CgroupInet4PostBind, ATTACHABLE;
    "cgroup/post_bind6", CgroupSock, CgroupInet6PostBind, ATTACHABLE;
    "cgroup/bind4", CgroupSockAddr, CgroupInet4Bind, ATTACHABLE;
    "cgroup/bind6", CgroupSockAddr, CgroupInet6Bind, ATTACHABLE;
    "cgroup/connect4", CgroupSockAddr, CgroupInet4Connect, ATTACHABLE;
    "cgroup/connect6", CgroupSockAddr, CgroupInet6Connect, ATTACHABLE;
    "cgroup/connect_unix", CgroupSockAddr, CgroupUnixConnect, ATTACHABLE;
    "cgroup/sendmsg4", CgroupSockAddr, CgroupUdp4Sendmsg, ATTACHABLE;
    "cgroup/sendmsg6", CgroupSockAddr, CgroupUdp6Sendmsg, ATTACHABLE;
    "cgroup/sendmsg_unix", CgroupSockAddr, CgroupUnixSendmsg, ATTACHABLE;
    "cgroup/recvmsg4", CgroupSockAddr, CgroupUdp4Recvmsg, ATTACHABLE;
    "cgroup/recvmsg6", CgroupSockAddr, CgroupUdp6Recvmsg, ATTACHABLE;
    "cgroup/recvmsg_unix", CgroupSockAddr, CgroupUnixRecvmsg, ATTACHABLE;
    "cgroup/getpeername4", CgroupSockAddr, CgroupInet4Getpeername, ATTACHABLE;
    "cgroup/getpeername6", CgroupSockAddr, CgroupInet6Getpeername, ATTACHABLE;
    "cgroup/getpeername_unix", CgroupSockAddr, CgroupUnixGetpeername, ATTACHABLE;
    "cgroup/getsockname4", CgroupSockAddr, CgroupInet4Getsockname, ATTACHABLE;
    "cgroup/getsockname6", CgroupSockAddr, CgroupInet6Getsockname, ATTACHABLE;
    "cgroup/getsockname_unix", CgroupSockAddr, CgroupUnixGetsockname, ATTACHABLE;
    "cgroup/sysctl", CgroupSysctl, CgroupSysctl, ATTACHABLE;
    "cgroup/getsockopt", CgroupSockopt, CgroupGetsockopt, ATTACHABLE;
    "cgroup/setsockopt", CgroupSockopt, CgroupSetsockopt, ATTACHABLE;
    "cgroup/dev", CgroupDevice, CgroupDevice, ATTACHABLE_OPT;
    "struct_ops+", StructOps, 0, NONE;
    "struct_ops.s+", StructOps, 0, SLEEPABLE;
    "sk_lookup", SkLookup, SkLookup, ATTACHABLE;
    "netfilter", Netfilter, Netfilter, NONE;
}

/// `find_sec_def`: the first row matching `sec_name` (without a leading `?`).
pub fn find_sec_def(sec_name: &str) -> Option<&'static SecDef> {
    SECTION_DEFS.iter().find(|d| d.matches(sec_name))
}

/// How a BTF-attached program names its target in kernel BTF (`btf_get_kernel_prefix_kind`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AttachTarget {
    /// The text after the first `/` of the section name (`sched_switch`, `vmlinux:do_unlinkat`).
    pub name: String,
    /// The module part of `module:function`, if given.
    pub module: Option<String>,
    /// The BTF name to look up: the function name with the attach type's prefix
    /// (`btf_trace_` for `tp_btf`, `bpf_lsm_` for `lsm`, `bpf_iter_` for `iter`).
    pub btf_name: String,
    /// Whether that BTF type is a `TYPEDEF` (`tp_btf`) rather than a `FUNC`.
    pub btf_typedef: bool,
}

impl AttachTarget {
    /// The target of a BTF-attached program, from its section name and expected attach type.
    /// `None` when the section names no target (`SEC("fentry")`).
    pub fn from_section(sec_name: &str, attach: Option<AttachType>) -> Option<AttachTarget> {
        let (_, name) = sec_name.split_once('/')?;
        let (module, func) = match name.split_once(':') {
            Some((m, f)) => (Some(m.to_string()), f),
            None => (None, name),
        };
        let (prefix, typedef) = match attach {
            Some(AttachType::TraceRawTp) => ("btf_trace_", true),
            Some(AttachType::LsmMac) | Some(AttachType::LsmCgroup) => ("bpf_lsm_", false),
            Some(AttachType::TraceIter) => ("bpf_iter_", false),
            _ => ("", false),
        };
        Some(AttachTarget {
            name: name.to_string(),
            module,
            btf_name: format!("{prefix}{func}"),
            btf_typedef: typedef,
        })
    }
}
