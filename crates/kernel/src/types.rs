//! The kernel model's host types: the kernel structures BPF programs read, with the kernel's
//! names, member names and member types (Linux 6.18, x86-64 `vmlinux` BTF), so a program built
//! against the real `vmlinux.h` relocates (CO-RE) onto them.
//!
//! Each struct carries the members real programs read, not every member of the kernel's; the
//! layouts are kfvm's own (CO-RE relocates by name). Types programs only point at are opaque
//! (a BTF forward declaration). As in the live 6.18 BTF, no member carries `__rcu` type tags
//! (the kernel was built without them); RCU protection of walked pointers comes from the
//! nested-trust declarations in [`crate::register_core`].

use kfvm_kfunc::types::*;
use kfvm_kfunc::HostType;

/// `struct list_head`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct ListHead {
    /// `next`.
    pub next: *mut ListHead,
    /// `prev`.
    pub prev: *mut ListHead,
}

/// The anonymous struct of `atomic_t`.
#[derive(HostType, Debug)]
#[btf(name = "")]
#[repr(C)]
pub struct AtomicInner {
    /// `counter`.
    pub counter: c_int,
}

/// `atomic_t` (`typedef struct { int counter; } atomic_t;`).
#[derive(HostType, Debug)]
#[btf(name = "atomic_t", typedef)]
#[repr(transparent)]
pub struct AtomicT(pub AtomicInner);

/// `struct refcount_struct`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct RefcountStruct {
    /// `refs`.
    pub refs: AtomicT,
}

/// `refcount_t`.
#[derive(HostType, Debug)]
#[btf(name = "refcount_t", typedef)]
#[repr(transparent)]
pub struct RefcountT(pub RefcountStruct);

/// `umode_t` (`short unsigned int`).
#[derive(HostType, Debug)]
#[btf(name = "umode_t", typedef)]
#[repr(transparent)]
pub struct UmodeT(pub c_ushort);

/// `__kernel_loff_t` (`long long int`).
#[derive(HostType, Debug)]
#[btf(name = "__kernel_loff_t", typedef)]
#[repr(transparent)]
pub struct KernelLoffT(pub c_longlong);

/// `loff_t`.
#[derive(HostType, Debug)]
#[btf(name = "loff_t", typedef)]
#[repr(transparent)]
pub struct LoffT(pub KernelLoffT);

/// `__kernel_uid32_t` (`unsigned int`).
#[derive(HostType, Debug)]
#[btf(name = "__kernel_uid32_t", typedef)]
#[repr(transparent)]
pub struct KernelUid32T(pub c_uint);

/// `uid_t`.
#[derive(HostType, Debug)]
#[btf(name = "uid_t", typedef)]
#[repr(transparent)]
pub struct UidT(pub KernelUid32T);

/// `__kernel_gid32_t` (`unsigned int`).
#[derive(HostType, Debug)]
#[btf(name = "__kernel_gid32_t", typedef)]
#[repr(transparent)]
pub struct KernelGid32T(pub c_uint);

/// `gid_t`.
#[derive(HostType, Debug)]
#[btf(name = "gid_t", typedef)]
#[repr(transparent)]
pub struct GidT(pub KernelGid32T);

/// The anonymous struct of `kuid_t`.
#[derive(HostType, Debug)]
#[btf(name = "")]
#[repr(C)]
pub struct KuidInner {
    /// `val`.
    pub val: UidT,
}

/// `kuid_t` (`typedef struct { uid_t val; } kuid_t;`).
#[derive(HostType, Debug)]
#[btf(name = "kuid_t", typedef)]
#[repr(transparent)]
pub struct KuidT(pub KuidInner);

/// The anonymous struct of `kgid_t`.
#[derive(HostType, Debug)]
#[btf(name = "")]
#[repr(C)]
pub struct KgidInner {
    /// `val`.
    pub val: GidT,
}

/// `kgid_t` (`typedef struct { gid_t val; } kgid_t;`).
#[derive(HostType, Debug)]
#[btf(name = "kgid_t", typedef)]
#[repr(transparent)]
pub struct KgidT(pub KgidInner);

/// `struct cpumask` (NR_CPUS = 256 on the reference kernel: four longs).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct Cpumask {
    /// `bits`.
    pub bits: [c_ulong; 4],
}

/// `cpumask_t`.
#[derive(HostType, Debug)]
#[btf(name = "cpumask_t", typedef)]
#[repr(transparent)]
pub struct CpumaskT(pub Cpumask);

/// `struct bpf_cpumask`: a cpumask BPF programs allocate (`bpf_cpumask_create`). Its first
/// member is the `cpumask_t`, so a `struct bpf_cpumask *` is accepted where `const struct
/// cpumask *` is expected (the verifier's first-member rule).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfCpumask {
    /// `cpumask`.
    pub cpumask: CpumaskT,
    /// `usage`.
    pub usage: RefcountT,
}

/// Opaque: `struct kernfs_root`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct KernfsRoot;

/// Opaque: `struct cgroup_subsys`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct CgroupSubsys;

/// Opaque: `struct pid`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct Pid;

/// Opaque: `struct fs_struct`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct FsStruct;

/// Opaque: `struct files_struct`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct FilesStruct;

/// Opaque: `struct nsproxy`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct Nsproxy;

/// Opaque: `struct signal_struct`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct SignalStruct;

/// Opaque: `struct sighand_struct`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct SighandStruct;

/// Opaque: `struct bpf_flow_keys`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct BpfFlowKeys;

/// Opaque: `struct bpf_sock`.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct BpfSock;

/// `struct kernfs_node` (cgroup directories; `kn->name`, `kn->id`).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct KernfsNode {
    /// `count`.
    pub count: AtomicT,
    /// `active`.
    pub active: AtomicT,
    /// `__parent` (6.15+ name of `parent`).
    pub __parent: *mut KernfsNode,
    /// `name`.
    pub name: *const c_char,
    /// `ns`.
    pub ns: *const c_void,
    /// `hash`.
    pub hash: c_uint,
    /// `flags`.
    pub flags: c_ushort,
    /// `mode`.
    pub mode: UmodeT,
    /// `id` (the cgroup id for cgroup directories).
    pub id: u64,
    /// `priv`.
    pub r#priv: *mut c_void,
}

/// `struct cgroup_subsys_state`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct CgroupSubsysState {
    /// `cgroup`.
    pub cgroup: *mut Cgroup,
    /// `ss`.
    pub ss: *mut CgroupSubsys,
    /// `sibling`.
    pub sibling: ListHead,
    /// `children`.
    pub children: ListHead,
    /// `id`.
    pub id: c_int,
    /// `flags`.
    pub flags: c_uint,
    /// `serial_nr`.
    pub serial_nr: u64,
    /// `online_cnt`.
    pub online_cnt: AtomicT,
    /// `parent`.
    pub parent: *mut CgroupSubsysState,
    /// `nr_descendants`.
    pub nr_descendants: c_int,
}

/// `CGROUP_SUBSYS_COUNT` of the reference kernel.
pub const CGROUP_SUBSYS_COUNT: usize = 12;

/// `struct cgroup`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct Cgroup {
    /// `self` (the cgroup's own css).
    #[btf(name = "self")]
    pub self_: CgroupSubsysState,
    /// `flags`.
    pub flags: c_ulong,
    /// `level` (depth in the hierarchy; the root is 0).
    pub level: c_int,
    /// `max_depth`.
    pub max_depth: c_int,
    /// `nr_descendants`.
    pub nr_descendants: c_int,
    /// `nr_dying_descendants`.
    pub nr_dying_descendants: c_int,
    /// `max_descendants`.
    pub max_descendants: c_int,
    /// `nr_populated_csets`.
    pub nr_populated_csets: c_int,
    /// `nr_populated_domain_children`.
    pub nr_populated_domain_children: c_int,
    /// `nr_populated_threaded_children`.
    pub nr_populated_threaded_children: c_int,
    /// `nr_threaded_children`.
    pub nr_threaded_children: c_int,
    /// `kill_seq`.
    pub kill_seq: c_uint,
    /// `kn` (the cgroup's kernfs directory).
    pub kn: *mut KernfsNode,
    /// `subtree_control`.
    pub subtree_control: u16,
    /// `subtree_ss_mask`.
    pub subtree_ss_mask: u16,
    /// `old_subtree_control`.
    pub old_subtree_control: u16,
    /// `old_subtree_ss_mask`.
    pub old_subtree_ss_mask: u16,
    /// `subsys`.
    pub subsys: [*mut CgroupSubsysState; CGROUP_SUBSYS_COUNT],
    /// `nr_dying_subsys`.
    pub nr_dying_subsys: [c_int; CGROUP_SUBSYS_COUNT],
    /// `root`.
    pub root: *mut CgroupRoot,
    /// `cset_links`.
    pub cset_links: ListHead,
    /// `e_csets`.
    pub e_csets: [ListHead; CGROUP_SUBSYS_COUNT],
    /// `dom_cgrp`.
    pub dom_cgrp: *mut Cgroup,
    /// `old_dom_cgrp`.
    pub old_dom_cgrp: *mut Cgroup,
    /// `ancestors` (flexible array: `ancestors[0..=level]`, the root first).
    pub ancestors: [*mut Cgroup; 0],
}

/// `struct cgroup_root` (a cgroup hierarchy).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct CgroupRoot {
    /// `kf_root`.
    pub kf_root: *mut KernfsRoot,
    /// `subsys_mask`.
    pub subsys_mask: c_uint,
    /// `hierarchy_id`.
    pub hierarchy_id: c_int,
    /// `root_list`.
    pub root_list: ListHead,
    /// `cgrp_ancestor_storage`.
    pub cgrp_ancestor_storage: *mut Cgroup,
    /// `nr_cgrps`.
    pub nr_cgrps: AtomicT,
    /// `flags`.
    pub flags: c_uint,
    /// `name`.
    pub name: [c_char; 64],
}

/// `struct css_set` (a task's set of cgroups).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct CssSet {
    /// `subsys`.
    pub subsys: [*mut CgroupSubsysState; CGROUP_SUBSYS_COUNT],
    /// `refcount`.
    pub refcount: RefcountT,
    /// `dom_cset`.
    pub dom_cset: *mut CssSet,
    /// `dfl_cgrp` (the task's cgroup v2 cgroup).
    pub dfl_cgrp: *mut Cgroup,
    /// `nr_tasks`.
    pub nr_tasks: c_int,
    /// `tasks`.
    pub tasks: ListHead,
    /// `mg_tasks`.
    pub mg_tasks: ListHead,
    /// `dying_tasks`.
    pub dying_tasks: ListHead,
    /// `dead`.
    pub dead: bool,
}

/// `struct inode`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct Inode {
    /// `i_mode`.
    pub i_mode: UmodeT,
    /// `i_opflags`.
    pub i_opflags: c_ushort,
    /// `i_flags`.
    pub i_flags: c_uint,
    /// `i_uid`.
    pub i_uid: KuidT,
    /// `i_gid`.
    pub i_gid: KgidT,
    /// `i_ino`.
    pub i_ino: c_ulong,
    /// `i_size`.
    pub i_size: LoffT,
}

/// `struct file`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct File {
    /// `f_mode` (`fmode_t`, an unsigned int).
    pub f_mode: c_uint,
    /// `f_flags`.
    pub f_flags: c_uint,
    /// `f_inode`.
    pub f_inode: *mut Inode,
    /// `f_pos`.
    pub f_pos: LoffT,
}

/// `struct mm_struct` (the kernel nests these members in anonymous structs; CO-RE finds them
/// by name either way).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct MmStruct {
    /// `mmap_base`.
    pub mmap_base: c_ulong,
    /// `task_size`.
    pub task_size: c_ulong,
    /// `total_vm`.
    pub total_vm: c_ulong,
    /// `start_code`.
    pub start_code: c_ulong,
    /// `end_code`.
    pub end_code: c_ulong,
    /// `start_data`.
    pub start_data: c_ulong,
    /// `end_data`.
    pub end_data: c_ulong,
    /// `start_brk`.
    pub start_brk: c_ulong,
    /// `brk`.
    pub brk: c_ulong,
    /// `start_stack`.
    pub start_stack: c_ulong,
    /// `arg_start`.
    pub arg_start: c_ulong,
    /// `arg_end`.
    pub arg_end: c_ulong,
    /// `env_start`.
    pub env_start: c_ulong,
    /// `env_end`.
    pub env_end: c_ulong,
    /// `owner`.
    pub owner: *mut TaskStruct,
    /// `exe_file`.
    pub exe_file: *mut File,
}

/// `struct cred`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct Cred {
    /// `usage`.
    pub usage: AtomicT,
    /// `uid`.
    pub uid: KuidT,
    /// `gid`.
    pub gid: KgidT,
    /// `suid`.
    pub suid: KuidT,
    /// `sgid`.
    pub sgid: KgidT,
    /// `euid`.
    pub euid: KuidT,
    /// `egid`.
    pub egid: KgidT,
    /// `fsuid`.
    pub fsuid: KuidT,
    /// `fsgid`.
    pub fsgid: KgidT,
}

/// `TASK_COMM_LEN`.
pub const TASK_COMM_LEN: usize = 16;

/// `struct task_struct`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct TaskStruct {
    /// `__state`.
    pub __state: c_uint,
    /// `stack`.
    pub stack: *mut c_void,
    /// `usage`.
    pub usage: RefcountT,
    /// `flags` (`PF_*`).
    pub flags: c_uint,
    /// `on_cpu`.
    pub on_cpu: c_int,
    /// `recent_used_cpu`.
    pub recent_used_cpu: c_int,
    /// `wake_cpu`.
    pub wake_cpu: c_int,
    /// `prio`.
    pub prio: c_int,
    /// `static_prio`.
    pub static_prio: c_int,
    /// `normal_prio`.
    pub normal_prio: c_int,
    /// `rt_priority`.
    pub rt_priority: c_uint,
    /// `policy`.
    pub policy: c_uint,
    /// `nr_cpus_allowed`.
    pub nr_cpus_allowed: c_int,
    /// `cpus_ptr`.
    pub cpus_ptr: *const CpumaskT,
    /// `cpus_mask`.
    pub cpus_mask: CpumaskT,
    /// `migration_disabled`.
    pub migration_disabled: c_ushort,
    /// `tasks`.
    pub tasks: ListHead,
    /// `mm`.
    pub mm: *mut MmStruct,
    /// `active_mm`.
    pub active_mm: *mut MmStruct,
    /// `exit_code`.
    pub exit_code: c_int,
    /// `exit_signal`.
    pub exit_signal: c_int,
    /// `pid`.
    pub pid: pid_t,
    /// `tgid`.
    pub tgid: pid_t,
    /// `real_parent`.
    pub real_parent: *mut TaskStruct,
    /// `parent`.
    pub parent: *mut TaskStruct,
    /// `children`.
    pub children: ListHead,
    /// `sibling`.
    pub sibling: ListHead,
    /// `group_leader`.
    pub group_leader: *mut TaskStruct,
    /// `thread_pid`.
    pub thread_pid: *mut Pid,
    /// `utime`.
    pub utime: u64,
    /// `stime`.
    pub stime: u64,
    /// `nvcsw`.
    pub nvcsw: c_ulong,
    /// `nivcsw`.
    pub nivcsw: c_ulong,
    /// `start_time`.
    pub start_time: u64,
    /// `start_boottime`.
    pub start_boottime: u64,
    /// `real_cred`.
    pub real_cred: *const Cred,
    /// `cred`.
    pub cred: *const Cred,
    /// `comm`.
    pub comm: [c_char; TASK_COMM_LEN],
    /// `fs`.
    pub fs: *mut FsStruct,
    /// `files`.
    pub files: *mut FilesStruct,
    /// `nsproxy`.
    pub nsproxy: *mut Nsproxy,
    /// `signal`.
    pub signal: *mut SignalStruct,
    /// `sighand`.
    pub sighand: *mut SighandStruct,
    /// `loginuid`.
    pub loginuid: KuidT,
    /// `sessionid`.
    pub sessionid: c_uint,
    /// `cgroups`.
    pub cgroups: *mut CssSet,
    /// `numa_preferred_nid`.
    pub numa_preferred_nid: c_int,
    /// `rcu_users`.
    pub rcu_users: RefcountT,
}

/// `struct bpf_iter_num`: the numeric open-coded iterator's state.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfIterNum {
    /// `__opaque`.
    pub __opaque: [__u64; 1],
}

/// `struct bpf_dynptr`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfDynptr {
    /// `__opaque`.
    pub __opaque: [__u64; 2],
}

/// `struct bpf_list_head`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfListHead {
    /// `__opaque`.
    pub __opaque: [__u64; 2],
}

/// `struct bpf_list_node`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfListNode {
    /// `__opaque`.
    pub __opaque: [__u64; 3],
}

/// `struct bpf_rb_root`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfRbRoot {
    /// `__opaque`.
    pub __opaque: [__u64; 2],
}

/// `struct bpf_rb_node`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfRbNode {
    /// `__opaque`.
    pub __opaque: [__u64; 4],
}

/// `struct bpf_refcount`.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfRefcount {
    /// `__opaque`.
    pub __opaque: [__u32; 1],
}

/// `struct __sk_buff` (UAPI context of socket-buffer programs).
#[derive(HostType, Debug)]
#[btf(name = "__sk_buff")]
#[repr(C)]
pub struct SkBuffUapi {
    /// `len`.
    pub len: __u32,
    /// `pkt_type`.
    pub pkt_type: __u32,
    /// `mark`.
    pub mark: __u32,
    /// `queue_mapping`.
    pub queue_mapping: __u32,
    /// `protocol`.
    pub protocol: __u32,
    /// `vlan_present`.
    pub vlan_present: __u32,
    /// `vlan_tci`.
    pub vlan_tci: __u32,
    /// `vlan_proto`.
    pub vlan_proto: __u32,
    /// `priority`.
    pub priority: __u32,
    /// `ingress_ifindex`.
    pub ingress_ifindex: __u32,
    /// `ifindex`.
    pub ifindex: __u32,
    /// `tc_index`.
    pub tc_index: __u32,
    /// `cb`.
    pub cb: [__u32; 5],
    /// `hash`.
    pub hash: __u32,
    /// `tc_classid`.
    pub tc_classid: __u32,
    /// `data`.
    pub data: __u32,
    /// `data_end`.
    pub data_end: __u32,
    /// `napi_id`.
    pub napi_id: __u32,
    /// `family`.
    pub family: __u32,
    /// `remote_ip4`.
    pub remote_ip4: __u32,
    /// `local_ip4`.
    pub local_ip4: __u32,
    /// `remote_ip6`.
    pub remote_ip6: [__u32; 4],
    /// `local_ip6`.
    pub local_ip6: [__u32; 4],
    /// `remote_port`.
    pub remote_port: __u32,
    /// `local_port`.
    pub local_port: __u32,
    /// `data_meta`.
    pub data_meta: __u32,
    /// `flow_keys` (a `__bpf_md_ptr` in the UAPI header: 8 bytes, 8-aligned).
    pub flow_keys: *mut BpfFlowKeys,
    /// `tstamp`.
    pub tstamp: __u64,
    /// `wire_len`.
    pub wire_len: __u32,
    /// `gso_segs`.
    pub gso_segs: __u32,
    /// `sk` (a `__bpf_md_ptr`).
    pub sk: *mut BpfSock,
    /// `gso_size`.
    pub gso_size: __u32,
    /// `tstamp_type`.
    pub tstamp_type: __u8,
    /// The UAPI's unnamed `__u32 :24` padding.
    #[btf(skip)]
    pub _pad: [u8; 3],
    /// `hwtstamp`.
    pub hwtstamp: __u64,
}

/// `struct sk_buff`, the kernel's socket buffer behind a `__sk_buff` context (what
/// `bpf_cast_to_kern_ctx` gives socket-buffer programs), reduced to fields it shares with the
/// UAPI view, each at the offset of its `__sk_buff` counterpart: kfvm's contexts are `__sk_buff`
/// memory, so the cast is an identity and loads of these fields read the context's values (the
/// 16-bit ones the low half of the UAPI's 32-bit field).
#[derive(HostType, Debug)]
#[btf(name = "sk_buff")]
#[repr(C)]
pub struct SkBuff {
    /// `len` (`__sk_buff.len`).
    pub len: c_uint,
    #[btf(skip)]
    _pad0: [u8; 4],
    /// `mark`.
    pub mark: __u32,
    /// `queue_mapping`.
    pub queue_mapping: __u16,
    #[btf(skip)]
    _pad1: [u8; 2],
    /// `protocol` (`__be16`).
    pub protocol: __u16,
    #[btf(skip)]
    _pad2: [u8; 6],
    /// `vlan_tci`.
    pub vlan_tci: __u16,
    #[btf(skip)]
    _pad3: [u8; 2],
    /// `vlan_proto` (`__be16`).
    pub vlan_proto: __u16,
    #[btf(skip)]
    _pad4: [u8; 2],
    /// `priority`.
    pub priority: __u32,
    #[btf(skip)]
    _pad5: [u8; 8],
    /// `tc_index`.
    pub tc_index: __u16,
    #[btf(skip)]
    _pad6: [u8; 22],
    /// `hash`.
    pub hash: __u32,
}

// Each `sk_buff` field sits where its `__sk_buff` counterpart does.
const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(SkBuff, len) == offset_of!(SkBuffUapi, len));
    assert!(offset_of!(SkBuff, mark) == offset_of!(SkBuffUapi, mark));
    assert!(offset_of!(SkBuff, queue_mapping) == offset_of!(SkBuffUapi, queue_mapping));
    assert!(offset_of!(SkBuff, protocol) == offset_of!(SkBuffUapi, protocol));
    assert!(offset_of!(SkBuff, vlan_tci) == offset_of!(SkBuffUapi, vlan_tci));
    assert!(offset_of!(SkBuff, vlan_proto) == offset_of!(SkBuffUapi, vlan_proto));
    assert!(offset_of!(SkBuff, priority) == offset_of!(SkBuffUapi, priority));
    assert!(offset_of!(SkBuff, tc_index) == offset_of!(SkBuffUapi, tc_index));
    assert!(offset_of!(SkBuff, hash) == offset_of!(SkBuffUapi, hash));
};

/// `struct xdp_md` (UAPI context of XDP programs).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct XdpMd {
    /// `data`.
    pub data: __u32,
    /// `data_end`.
    pub data_end: __u32,
    /// `data_meta`.
    pub data_meta: __u32,
    /// `ingress_ifindex`.
    pub ingress_ifindex: __u32,
    /// `rx_queue_index`.
    pub rx_queue_index: __u32,
    /// `egress_ifindex`.
    pub egress_ifindex: __u32,
}

/// `__be16`.
#[derive(HostType, Debug)]
#[btf(name = "__be16", typedef)]
#[repr(transparent)]
pub struct Be16(pub __u16);

/// `__be32`.
#[derive(HostType, Debug)]
#[btf(name = "__be32", typedef)]
#[repr(transparent)]
pub struct Be32(pub __u32);

/// `__sum16`.
#[derive(HostType, Debug)]
#[btf(name = "__sum16", typedef)]
#[repr(transparent)]
pub struct Sum16(pub __u16);

/// `struct ethhdr` (UAPI `<linux/if_ether.h>`), so XDP programs built against `vmlinux.h`
/// relocate their header accesses.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct Ethhdr {
    /// `h_dest`.
    pub h_dest: [c_uchar; 6],
    /// `h_source`.
    pub h_source: [c_uchar; 6],
    /// `h_proto`.
    pub h_proto: Be16,
}

/// `struct iphdr` (UAPI `<linux/ip.h>`). The first byte holds the `ihl:4` and `version:4`
/// bitfields, which the model's BTF does not describe (a program reading them does not
/// relocate); `saddr` and `daddr` are members (the kernel nests them in an anonymous union,
/// which CO-RE finds by name).
#[derive(HostType, Debug)]
#[repr(C)]
pub struct Iphdr {
    /// `ihl` and `version` (bitfields, not described).
    #[btf(skip)]
    pub _ihl_version: __u8,
    /// `tos`.
    pub tos: __u8,
    /// `tot_len`.
    pub tot_len: Be16,
    /// `id`.
    pub id: Be16,
    /// `frag_off`.
    pub frag_off: Be16,
    /// `ttl`.
    pub ttl: __u8,
    /// `protocol`.
    pub protocol: __u8,
    /// `check`.
    pub check: Sum16,
    /// `saddr`.
    pub saddr: Be32,
    /// `daddr`.
    pub daddr: Be32,
}

/// `struct pt_regs` (x86-64): the context of kprobe programs. The model puts a probed
/// function's arguments in `di, si, dx, cx, r8, r9`, as the x86-64 calling convention does.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct PtRegs {
    /// `r15`.
    pub r15: c_ulong,
    /// `r14`.
    pub r14: c_ulong,
    /// `r13`.
    pub r13: c_ulong,
    /// `r12`.
    pub r12: c_ulong,
    /// `bp`.
    pub bp: c_ulong,
    /// `bx`.
    pub bx: c_ulong,
    /// `r11`.
    pub r11: c_ulong,
    /// `r10`.
    pub r10: c_ulong,
    /// `r9`.
    pub r9: c_ulong,
    /// `r8`.
    pub r8: c_ulong,
    /// `ax`.
    pub ax: c_ulong,
    /// `cx`.
    pub cx: c_ulong,
    /// `dx`.
    pub dx: c_ulong,
    /// `si`.
    pub si: c_ulong,
    /// `di`.
    pub di: c_ulong,
    /// `orig_ax`.
    pub orig_ax: c_ulong,
    /// `ip`.
    pub ip: c_ulong,
    /// `cs`.
    pub cs: c_ulong,
    /// `flags`.
    pub flags: c_ulong,
    /// `sp`.
    pub sp: c_ulong,
    /// `ss`.
    pub ss: c_ulong,
}

/// The tracepoints of the model, as `vmlinux` BTF describes them for `tp_btf` programs: each
/// `btf_trace_NAME` is a pointer to the prototype `void (void *__data, ARGS...)` (what
/// `attach_btf_id` names and the verifier reads the arguments' types from).
pub mod tracepoints {
    use super::{Cgroup, TaskStruct};
    use kfvm_kfunc::types::*;
    use kfvm_kfunc::{Callback, HostType};

    /// `btf_trace_task_newtask`.
    #[derive(HostType, Debug)]
    #[btf(name = "btf_trace_task_newtask", typedef)]
    #[repr(transparent)]
    pub struct TaskNewtask(pub Callback<fn(*mut c_void, *mut TaskStruct, u64)>);

    /// `btf_trace_sched_process_fork`.
    #[derive(HostType, Debug)]
    #[btf(name = "btf_trace_sched_process_fork", typedef)]
    #[repr(transparent)]
    pub struct SchedProcessFork(pub Callback<fn(*mut c_void, *mut TaskStruct, *mut TaskStruct)>);

    /// `btf_trace_sched_process_exit`.
    #[derive(HostType, Debug)]
    #[btf(name = "btf_trace_sched_process_exit", typedef)]
    #[repr(transparent)]
    pub struct SchedProcessExit(pub Callback<fn(*mut c_void, *mut TaskStruct, bool)>);

    /// `btf_trace_sched_switch`.
    #[expect(clippy::type_complexity, reason = "the tracepoint's C prototype, spelled as the kernel's")]
    #[derive(HostType, Debug)]
    #[btf(name = "btf_trace_sched_switch", typedef)]
    #[repr(transparent)]
    pub struct SchedSwitch(pub Callback<fn(*mut c_void, bool, *mut TaskStruct, *mut TaskStruct, c_uint)>);

    /// `btf_trace_cgroup_mkdir`.
    #[derive(HostType, Debug)]
    #[btf(name = "btf_trace_cgroup_mkdir", typedef)]
    #[repr(transparent)]
    pub struct CgroupMkdir(pub Callback<fn(*mut c_void, *mut Cgroup, *const c_char)>);

    /// `btf_trace_cgroup_rmdir`.
    #[derive(HostType, Debug)]
    #[btf(name = "btf_trace_cgroup_rmdir", typedef)]
    #[repr(transparent)]
    pub struct CgroupRmdir(pub Callback<fn(*mut c_void, *mut Cgroup, *const c_char)>);
}

/// The kernel functions of the model that `fentry/`, `fexit/` and `kprobe/` programs attach to,
/// as `vmlinux` BTF declares them (plain `FUNC`s, no kfuncs): their prototypes type the
/// arguments of `fentry/`/`fexit/` contexts.
pub mod functions {
    use super::{TaskStruct, UmodeT};
    use kfvm_kfunc::ctype::{BtfRepr, CType, ParamDesc};
    use kfvm_kfunc::types::*;

    /// A kernel function: name, return type, parameters.
    pub type Function = (&'static str, &'static CType, &'static [ParamDesc]);

    /// `void wake_up_new_task(struct task_struct *p)`.
    pub const WAKE_UP_NEW_TASK: Function = (
        "wake_up_new_task",
        &CType::Void,
        &[ParamDesc { name: "p", ty: &<*mut TaskStruct as BtfRepr>::CTYPE }],
    );

    /// `void __noreturn do_exit(long code)`.
    pub const DO_EXIT: Function =
        ("do_exit", &CType::Void, &[ParamDesc { name: "code", ty: &<c_long as BtfRepr>::CTYPE }]);

    /// `int cgroup_mkdir(struct kernfs_node *parent_kn, const char *name, umode_t mode)`.
    pub const CGROUP_MKDIR: Function = (
        "cgroup_mkdir",
        &<c_int as BtfRepr>::CTYPE,
        &[
            ParamDesc { name: "parent_kn", ty: &<*mut super::KernfsNode as BtfRepr>::CTYPE },
            ParamDesc { name: "name", ty: &<*const c_char as BtfRepr>::CTYPE },
            ParamDesc { name: "mode", ty: &<UmodeT as BtfRepr>::CTYPE },
        ],
    );

    /// Every one of them.
    pub const ALL: [Function; 3] = [WAKE_UP_NEW_TASK, DO_EXIT, CGROUP_MKDIR];
}
