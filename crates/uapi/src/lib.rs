//! The kernel's BPF UAPI constants: `enum bpf_prog_type`, `enum bpf_attach_type` and
//! `enum bpf_map_type` with the numbers of `include/uapi/linux/bpf.h` (Linux 6.18), and the
//! `prog_flags` / `map_flags` bits kfvm uses.
//!
//! Each enum has one definition here, used by every kfvm crate (`kfvm-object` reads them from
//! section names, `kfvm-kfunc` maps program types to kfunc hooks, `kfvm-oracle` passes them to
//! `bpf()`). Each value has:
//!
//! - its kernel number: [`ProgType::as_u32`], [`ProgType::from_u32`];
//! - its name as libbpf and bpftool print it (`libbpf_bpf_prog_type_str()`: the kernel's constant
//!   without its prefix, lower-case): [`ProgType::name`], also what `Display` prints;
//! - the kernel's constant: [`ProgType::c_name`] (`BPF_PROG_TYPE_SCHED_CLS`).
//!
//! Parsing (`FromStr`) accepts the kernel's constant, the short name in either case
//! (`sched_cls`, `SCHED_CLS`), `-` for `_`, the number, and for program types the libbpf
//! `SEC()` prefixes that name a single type ([`ProgType::ALIASES`]: `tc`, `fentry`, `tp`, ...).

#![deny(missing_docs)]

use std::fmt;

/// A name [`FromStr`](std::str::FromStr) does not know.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnknownName {
    /// What was being parsed (`"program type"`).
    pub what: &'static str,
    /// Examples of accepted names, for the message.
    pub examples: &'static str,
    /// The text given.
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}` (expected e.g. {} or a number)", self.what, self.name, self.examples)
    }
}

impl std::error::Error for UnknownName {}

/// The value named `s` among `all`: a number, or a name compared case-insensitively after
/// dropping `prefix` and reading `-` as `_`, or an alias.
fn parse<T: Copy + 'static>(
    s: &str,
    prefix: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    from_u32: fn(u32) -> Option<T>,
    aliases: &[(&str, T)],
) -> Option<T> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return from_u32(n);
    }
    let lower = s.to_ascii_lowercase().replace('-', "_");
    let short = lower.strip_prefix(&prefix.to_ascii_lowercase()).unwrap_or(&lower);
    all.iter()
        .copied()
        .find(|&v| name(v) == short)
        .or_else(|| aliases.iter().find(|(a, _)| *a == short).map(|&(_, v)| v))
}

macro_rules! uapi_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $prefix:literal, $what:literal, $examples:literal, aliases [$(($alias:literal, $target:ident),)*] {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum $name {
            $(
                #[doc = concat!("`", $text, "` (", stringify!($value), ").")]
                $(#[$vmeta])*
                $variant = $value,
            )*
        }

        impl $name {
            /// Every value, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Other names [`FromStr`](std::str::FromStr) accepts, with the value each names.
            pub const ALIASES: &'static [(&'static str, $name)] = &[$(($alias, $name::$target),)*];

            /// The kernel's number.
            pub const fn as_u32(self) -> u32 {
                self as u32
            }

            /// The value numbered `v`, if the kernel has one.
            pub const fn from_u32(v: u32) -> Option<Self> {
                match v {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The name as libbpf and bpftool print it: the kernel's constant without its
            #[doc = concat!("prefix, lower-case (`", $prefix, "`).")]
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The kernel's constant
            #[doc = concat!("(`", $prefix, "...`).")]
            pub fn c_name(self) -> String {
                format!("{}{}", $prefix, self.name().to_ascii_uppercase())
            }
        }

        /// [`name`](Self::name).
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, UnknownName> {
                parse(s, $prefix, Self::ALL, Self::name, Self::from_u32, Self::ALIASES)
                    .ok_or_else(|| UnknownName { what: $what, examples: $examples, name: s.to_owned() })
            }
        }
    };
}

uapi_enum! {
    /// `enum bpf_prog_type`.
    ProgType, "BPF_PROG_TYPE_", "program type", "`tracing`, `SCHED_CLS`, `BPF_PROG_TYPE_XDP`",
    aliases [
        ("socket", SocketFilter),
        ("kretprobe", Kprobe),
        ("uprobe", Kprobe),
        ("uretprobe", Kprobe),
        ("tc", SchedCls),
        ("tcx", SchedCls),
        ("classifier", SchedCls),
        ("action", SchedAct),
        ("tp", Tracepoint),
        ("sockops", SockOps),
        ("raw_tp", RawTracepoint),
        ("tp_btf", Tracing),
        ("fentry", Tracing),
        ("fexit", Tracing),
        ("fmod_ret", Tracing),
        ("iter", Tracing),
        ("freplace", Ext),
    ]
    {
        /// Registering kfuncs for it fills the COMMON hook.
        Unspec = 0 => "unspec",
        SocketFilter = 1 => "socket_filter",
        Kprobe = 2 => "kprobe",
        /// tc.
        SchedCls = 3 => "sched_cls",
        SchedAct = 4 => "sched_act",
        Tracepoint = 5 => "tracepoint",
        Xdp = 6 => "xdp",
        PerfEvent = 7 => "perf_event",
        CgroupSkb = 8 => "cgroup_skb",
        CgroupSock = 9 => "cgroup_sock",
        LwtIn = 10 => "lwt_in",
        LwtOut = 11 => "lwt_out",
        LwtXmit = 12 => "lwt_xmit",
        SockOps = 13 => "sock_ops",
        SkSkb = 14 => "sk_skb",
        CgroupDevice = 15 => "cgroup_device",
        SkMsg = 16 => "sk_msg",
        RawTracepoint = 17 => "raw_tracepoint",
        CgroupSockAddr = 18 => "cgroup_sock_addr",
        LwtSeg6local = 19 => "lwt_seg6local",
        LircMode2 = 20 => "lirc_mode2",
        SkReuseport = 21 => "sk_reuseport",
        FlowDissector = 22 => "flow_dissector",
        CgroupSysctl = 23 => "cgroup_sysctl",
        RawTracepointWritable = 24 => "raw_tracepoint_writable",
        CgroupSockopt = 25 => "cgroup_sockopt",
        /// fentry, fexit, fmod_ret, iter, tp_btf.
        Tracing = 26 => "tracing",
        StructOps = 27 => "struct_ops",
        /// freplace: takes the type of the program it replaces.
        Ext = 28 => "ext",
        Lsm = 29 => "lsm",
        SkLookup = 30 => "sk_lookup",
        Syscall = 31 => "syscall",
        Netfilter = 32 => "netfilter",
    }
}

uapi_enum! {
    /// `enum bpf_attach_type`.
    AttachType, "BPF_", "attach type", "`trace_fentry`, `TCX_INGRESS`, `BPF_XDP`", aliases [] {
        CgroupInetIngress = 0 => "cgroup_inet_ingress",
        CgroupInetEgress = 1 => "cgroup_inet_egress",
        CgroupInetSockCreate = 2 => "cgroup_inet_sock_create",
        CgroupSockOps = 3 => "cgroup_sock_ops",
        SkSkbStreamParser = 4 => "sk_skb_stream_parser",
        SkSkbStreamVerdict = 5 => "sk_skb_stream_verdict",
        CgroupDevice = 6 => "cgroup_device",
        SkMsgVerdict = 7 => "sk_msg_verdict",
        CgroupInet4Bind = 8 => "cgroup_inet4_bind",
        CgroupInet6Bind = 9 => "cgroup_inet6_bind",
        CgroupInet4Connect = 10 => "cgroup_inet4_connect",
        CgroupInet6Connect = 11 => "cgroup_inet6_connect",
        CgroupInet4PostBind = 12 => "cgroup_inet4_post_bind",
        CgroupInet6PostBind = 13 => "cgroup_inet6_post_bind",
        CgroupUdp4Sendmsg = 14 => "cgroup_udp4_sendmsg",
        CgroupUdp6Sendmsg = 15 => "cgroup_udp6_sendmsg",
        LircMode2 = 16 => "lirc_mode2",
        FlowDissector = 17 => "flow_dissector",
        CgroupSysctl = 18 => "cgroup_sysctl",
        CgroupUdp4Recvmsg = 19 => "cgroup_udp4_recvmsg",
        CgroupUdp6Recvmsg = 20 => "cgroup_udp6_recvmsg",
        CgroupGetsockopt = 21 => "cgroup_getsockopt",
        CgroupSetsockopt = 22 => "cgroup_setsockopt",
        TraceRawTp = 23 => "trace_raw_tp",
        TraceFentry = 24 => "trace_fentry",
        TraceFexit = 25 => "trace_fexit",
        ModifyReturn = 26 => "modify_return",
        LsmMac = 27 => "lsm_mac",
        TraceIter = 28 => "trace_iter",
        CgroupInet4Getpeername = 29 => "cgroup_inet4_getpeername",
        CgroupInet6Getpeername = 30 => "cgroup_inet6_getpeername",
        CgroupInet4Getsockname = 31 => "cgroup_inet4_getsockname",
        CgroupInet6Getsockname = 32 => "cgroup_inet6_getsockname",
        XdpDevmap = 33 => "xdp_devmap",
        CgroupInetSockRelease = 34 => "cgroup_inet_sock_release",
        XdpCpumap = 35 => "xdp_cpumap",
        SkLookup = 36 => "sk_lookup",
        Xdp = 37 => "xdp",
        SkSkbVerdict = 38 => "sk_skb_verdict",
        SkReuseportSelect = 39 => "sk_reuseport_select",
        SkReuseportSelectOrMigrate = 40 => "sk_reuseport_select_or_migrate",
        PerfEvent = 41 => "perf_event",
        TraceKprobeMulti = 42 => "trace_kprobe_multi",
        LsmCgroup = 43 => "lsm_cgroup",
        StructOps = 44 => "struct_ops",
        Netfilter = 45 => "netfilter",
        TcxIngress = 46 => "tcx_ingress",
        TcxEgress = 47 => "tcx_egress",
        TraceUprobeMulti = 48 => "trace_uprobe_multi",
        CgroupUnixConnect = 49 => "cgroup_unix_connect",
        CgroupUnixSendmsg = 50 => "cgroup_unix_sendmsg",
        CgroupUnixRecvmsg = 51 => "cgroup_unix_recvmsg",
        CgroupUnixGetpeername = 52 => "cgroup_unix_getpeername",
        CgroupUnixGetsockname = 53 => "cgroup_unix_getsockname",
        NetkitPrimary = 54 => "netkit_primary",
        NetkitPeer = 55 => "netkit_peer",
        TraceKprobeSession = 56 => "trace_kprobe_session",
        TraceUprobeSession = 57 => "trace_uprobe_session",
    }
}

uapi_enum! {
    /// `enum bpf_map_type`.
    MapType, "BPF_MAP_TYPE_", "map type", "`hash`, `RINGBUF`, `BPF_MAP_TYPE_ARRAY`", aliases [] {
        Unspec = 0 => "unspec",
        Hash = 1 => "hash",
        Array = 2 => "array",
        ProgArray = 3 => "prog_array",
        PerfEventArray = 4 => "perf_event_array",
        PercpuHash = 5 => "percpu_hash",
        PercpuArray = 6 => "percpu_array",
        StackTrace = 7 => "stack_trace",
        CgroupArray = 8 => "cgroup_array",
        LruHash = 9 => "lru_hash",
        LruPercpuHash = 10 => "lru_percpu_hash",
        LpmTrie = 11 => "lpm_trie",
        ArrayOfMaps = 12 => "array_of_maps",
        HashOfMaps = 13 => "hash_of_maps",
        Devmap = 14 => "devmap",
        Sockmap = 15 => "sockmap",
        Cpumap = 16 => "cpumap",
        Xskmap = 17 => "xskmap",
        Sockhash = 18 => "sockhash",
        CgroupStorage = 19 => "cgroup_storage",
        ReuseportSockarray = 20 => "reuseport_sockarray",
        PercpuCgroupStorage = 21 => "percpu_cgroup_storage",
        Queue = 22 => "queue",
        Stack = 23 => "stack",
        SkStorage = 24 => "sk_storage",
        DevmapHash = 25 => "devmap_hash",
        StructOps = 26 => "struct_ops",
        Ringbuf = 27 => "ringbuf",
        InodeStorage = 28 => "inode_storage",
        TaskStorage = 29 => "task_storage",
        BloomFilter = 30 => "bloom_filter",
        UserRingbuf = 31 => "user_ringbuf",
        CgrpStorage = 32 => "cgrp_storage",
        Arena = 33 => "arena",
    }
}

impl MapType {
    /// `bpf_map_type__is_map_in_map` (libbpf): an array or hash of maps.
    pub const fn is_map_in_map(self) -> bool {
        matches!(self, MapType::ArrayOfMaps | MapType::HashOfMaps)
    }

    /// Whether libbpf creates maps of this type without their key and value BTF
    /// (`bpf_object__create_map`, whatever the object declares): perf event, stack trace and
    /// cgroup arrays, maps of maps, devmaps, sockmaps, cpumaps, xskmaps, queues, stacks, arenas.
    pub const fn libbpf_creates_without_btf(self) -> bool {
        use MapType::*;
        matches!(
            self,
            PerfEventArray
                | StackTrace
                | CgroupArray
                | ArrayOfMaps
                | HashOfMaps
                | Devmap
                | DevmapHash
                | Cpumap
                | Xskmap
                | Sockmap
                | Sockhash
                | Queue
                | Stack
                | Arena
        )
    }
}

/// `BPF_F_SLEEPABLE` (`prog_flags`): the program may sleep (`.s` sections, syscall programs).
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS` (`prog_flags`): an XDP program that handles multi-buffer packets
/// (`xdp.frags` sections).
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// `BPF_F_RDONLY_PROG` (`map_flags`): the map is read-only for programs (`.rodata`, `.kconfig`).
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE` (`map_flags`): the map can be mmap()ed (global data with non-static
/// variables).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_kernels() {
        // Spot checks against include/uapi/linux/bpf.h of Linux 6.18; the tables are in numeric
        // order without gaps.
        for (i, t) in ProgType::ALL.iter().enumerate() {
            assert_eq!(t.as_u32() as usize, i);
        }
        for (i, t) in AttachType::ALL.iter().enumerate() {
            assert_eq!(t.as_u32() as usize, i);
        }
        for (i, t) in MapType::ALL.iter().enumerate() {
            assert_eq!(t.as_u32() as usize, i);
        }
        assert_eq!(ProgType::ALL.len(), 33); // __MAX_BPF_PROG_TYPE
        assert_eq!(AttachType::ALL.len(), 58); // __MAX_BPF_ATTACH_TYPE
        assert_eq!(MapType::ALL.len(), 34); // __MAX_BPF_MAP_TYPE
        assert_eq!(ProgType::Tracing.as_u32(), 26);
        assert_eq!(ProgType::Syscall.as_u32(), 31);
        assert_eq!(AttachType::TraceUprobeSession.as_u32(), 57);
        assert_eq!(AttachType::from_u32(46), Some(AttachType::TcxIngress));
        assert_eq!(MapType::Ringbuf.as_u32(), 27);
        assert_eq!(ProgType::from_u32(33), None);
        assert_eq!(MapType::from_u32(34), None);
    }

    #[test]
    fn names() {
        assert_eq!(ProgType::SchedCls.name(), "sched_cls");
        assert_eq!(ProgType::SchedCls.to_string(), "sched_cls");
        assert_eq!(ProgType::SchedCls.c_name(), "BPF_PROG_TYPE_SCHED_CLS");
        assert_eq!(AttachType::TraceFentry.c_name(), "BPF_TRACE_FENTRY");
        assert_eq!(MapType::LruPercpuHash.c_name(), "BPF_MAP_TYPE_LRU_PERCPU_HASH");
    }

    #[test]
    fn parse_every_form() {
        for &t in ProgType::ALL {
            for s in [t.name().to_owned(), t.name().to_ascii_uppercase(), t.c_name(), t.as_u32().to_string()]
            {
                assert_eq!(s.parse::<ProgType>(), Ok(t), "{s}");
            }
        }
        for &t in AttachType::ALL {
            assert_eq!(t.c_name().parse::<AttachType>(), Ok(t));
            assert_eq!(t.name().parse::<AttachType>(), Ok(t));
        }
        for &t in MapType::ALL {
            assert_eq!(t.c_name().parse::<MapType>(), Ok(t));
            assert_eq!(t.name().parse::<MapType>(), Ok(t));
        }
        assert_eq!("tc".parse::<ProgType>(), Ok(ProgType::SchedCls));
        assert_eq!("TP_BTF".parse::<ProgType>(), Ok(ProgType::Tracing));
        assert_eq!(" raw-tp ".parse::<ProgType>(), Ok(ProgType::RawTracepoint));
        assert_eq!("bpf_prog_type_xdp".parse::<ProgType>(), Ok(ProgType::Xdp));
        assert!("99".parse::<ProgType>().is_err());
        let e = "bogus".parse::<ProgType>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown program type `bogus` (expected e.g. `tracing`, `SCHED_CLS`, `BPF_PROG_TYPE_XDP` or a number)"
        );
        assert!("hash_of_maps_please".parse::<MapType>().is_err());
    }

    #[test]
    fn aliases_name_no_other_value() {
        for (a, _) in ProgType::ALIASES {
            assert!(ProgType::ALL.iter().all(|t| t.name() != *a), "{a} is a name");
        }
    }

    #[test]
    fn map_in_map() {
        assert!(MapType::HashOfMaps.is_map_in_map());
        assert!(!MapType::ProgArray.is_map_in_map());
        let without: Vec<u32> =
            MapType::ALL.iter().filter(|t| t.libbpf_creates_without_btf()).map(|t| t.as_u32()).collect();
        assert_eq!(without, [4, 7, 8, 12, 13, 14, 15, 16, 17, 18, 22, 23, 25, 33]);
    }
}
