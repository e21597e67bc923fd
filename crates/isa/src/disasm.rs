//! The Linux verifier log's pseudo-C, as `print_bpf_insn` in `kernel/bpf/disasm.c` prints it.
//!
//! The verifier prints each instruction it checks as `N: (code) text`, where `text` comes from
//! `print_bpf_insn(cbs, insn, allow_ptr_leaks)` with `cbs->cb_call = disasm_kfunc_name` (kfunc
//! names from BTF) and no `cb_imm`. This module reproduces that text byte for byte for Linux 6.18:
//!
//! ```text
//! r1 += 5            w1 += w2           r1 s/= r2          r1 = (s8)r2         r1 = -r1
//! r1 = be16 r1       r1 = bswap64 r1    r1 = addr_space_cast(r2, 0, 1)
//! r1 = *(s8 *)(r2 +0)                   *(u64 *)(r10 -8) = r1                 *(u32 *)(r10 -4) = 7
//! lock *(u64 *)(r10 -8) += r1           r0 = atomic64_fetch_add((u64 *)(r10 -8), r0)
//! r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)                             r0 = load_acquire((u64 *)(r1 +0))
//! r1 = 0x2a          call bpf_map_lookup_elem#1   call pc+3   call bpf_task_acquire#65886
//! goto pc+2          gotol pc+2         may_goto pc+2      if w1 s> w2 goto pc-3   exit
//! r0 = *(u8 *)skb[12]                   r0 = *(u16 *)skb[r1 + 2]
//! ```
//!
//! The kernel's text loses information in three places: a `lddw` with a pseudo source prints only
//! its (possibly zeroed) 64-bit value, a kfunc call does not show which BTF (`off`) it names, and
//! `callx` prints as `call bpf_unspec#0`. [`Options::lossless`] switches those to kfvm's own
//! extensions (`r1 = map[fd:3]`, `call name#id@off`, `callx r2`) that [`crate::asm`] reads back.
//!
//! Names come from a [`Symbols`] implementation, the counterpart of `struct bpf_insn_cbs`.

use crate::insn::*;
use core::fmt::{self, Write as _};
use std::borrow::Cow;

/// The helper names of Linux 6.18 by helper id: `func_id_str` of `kernel/bpf/disasm.c`, i.e.
/// `__BPF_FUNC_MAPPER` with a `bpf_` prefix (`enum bpf_func_id`, id 0 to `__BPF_FUNC_MAX_ID - 1`).
pub static HELPER_NAMES: [&str; 212] = [
    "bpf_unspec",
    "bpf_map_lookup_elem",
    "bpf_map_update_elem",
    "bpf_map_delete_elem",
    "bpf_probe_read",
    "bpf_ktime_get_ns",
    "bpf_trace_printk",
    "bpf_get_prandom_u32",
    "bpf_get_smp_processor_id",
    "bpf_skb_store_bytes",
    "bpf_l3_csum_replace",
    "bpf_l4_csum_replace",
    "bpf_tail_call",
    "bpf_clone_redirect",
    "bpf_get_current_pid_tgid",
    "bpf_get_current_uid_gid",
    "bpf_get_current_comm",
    "bpf_get_cgroup_classid",
    "bpf_skb_vlan_push",
    "bpf_skb_vlan_pop",
    "bpf_skb_get_tunnel_key",
    "bpf_skb_set_tunnel_key",
    "bpf_perf_event_read",
    "bpf_redirect",
    "bpf_get_route_realm",
    "bpf_perf_event_output",
    "bpf_skb_load_bytes",
    "bpf_get_stackid",
    "bpf_csum_diff",
    "bpf_skb_get_tunnel_opt",
    "bpf_skb_set_tunnel_opt",
    "bpf_skb_change_proto",
    "bpf_skb_change_type",
    "bpf_skb_under_cgroup",
    "bpf_get_hash_recalc",
    "bpf_get_current_task",
    "bpf_probe_write_user",
    "bpf_current_task_under_cgroup",
    "bpf_skb_change_tail",
    "bpf_skb_pull_data",
    "bpf_csum_update",
    "bpf_set_hash_invalid",
    "bpf_get_numa_node_id",
    "bpf_skb_change_head",
    "bpf_xdp_adjust_head",
    "bpf_probe_read_str",
    "bpf_get_socket_cookie",
    "bpf_get_socket_uid",
    "bpf_set_hash",
    "bpf_setsockopt",
    "bpf_skb_adjust_room",
    "bpf_redirect_map",
    "bpf_sk_redirect_map",
    "bpf_sock_map_update",
    "bpf_xdp_adjust_meta",
    "bpf_perf_event_read_value",
    "bpf_perf_prog_read_value",
    "bpf_getsockopt",
    "bpf_override_return",
    "bpf_sock_ops_cb_flags_set",
    "bpf_msg_redirect_map",
    "bpf_msg_apply_bytes",
    "bpf_msg_cork_bytes",
    "bpf_msg_pull_data",
    "bpf_bind",
    "bpf_xdp_adjust_tail",
    "bpf_skb_get_xfrm_state",
    "bpf_get_stack",
    "bpf_skb_load_bytes_relative",
    "bpf_fib_lookup",
    "bpf_sock_hash_update",
    "bpf_msg_redirect_hash",
    "bpf_sk_redirect_hash",
    "bpf_lwt_push_encap",
    "bpf_lwt_seg6_store_bytes",
    "bpf_lwt_seg6_adjust_srh",
    "bpf_lwt_seg6_action",
    "bpf_rc_repeat",
    "bpf_rc_keydown",
    "bpf_skb_cgroup_id",
    "bpf_get_current_cgroup_id",
    "bpf_get_local_storage",
    "bpf_sk_select_reuseport",
    "bpf_skb_ancestor_cgroup_id",
    "bpf_sk_lookup_tcp",
    "bpf_sk_lookup_udp",
    "bpf_sk_release",
    "bpf_map_push_elem",
    "bpf_map_pop_elem",
    "bpf_map_peek_elem",
    "bpf_msg_push_data",
    "bpf_msg_pop_data",
    "bpf_rc_pointer_rel",
    "bpf_spin_lock",
    "bpf_spin_unlock",
    "bpf_sk_fullsock",
    "bpf_tcp_sock",
    "bpf_skb_ecn_set_ce",
    "bpf_get_listener_sock",
    "bpf_skc_lookup_tcp",
    "bpf_tcp_check_syncookie",
    "bpf_sysctl_get_name",
    "bpf_sysctl_get_current_value",
    "bpf_sysctl_get_new_value",
    "bpf_sysctl_set_new_value",
    "bpf_strtol",
    "bpf_strtoul",
    "bpf_sk_storage_get",
    "bpf_sk_storage_delete",
    "bpf_send_signal",
    "bpf_tcp_gen_syncookie",
    "bpf_skb_output",
    "bpf_probe_read_user",
    "bpf_probe_read_kernel",
    "bpf_probe_read_user_str",
    "bpf_probe_read_kernel_str",
    "bpf_tcp_send_ack",
    "bpf_send_signal_thread",
    "bpf_jiffies64",
    "bpf_read_branch_records",
    "bpf_get_ns_current_pid_tgid",
    "bpf_xdp_output",
    "bpf_get_netns_cookie",
    "bpf_get_current_ancestor_cgroup_id",
    "bpf_sk_assign",
    "bpf_ktime_get_boot_ns",
    "bpf_seq_printf",
    "bpf_seq_write",
    "bpf_sk_cgroup_id",
    "bpf_sk_ancestor_cgroup_id",
    "bpf_ringbuf_output",
    "bpf_ringbuf_reserve",
    "bpf_ringbuf_submit",
    "bpf_ringbuf_discard",
    "bpf_ringbuf_query",
    "bpf_csum_level",
    "bpf_skc_to_tcp6_sock",
    "bpf_skc_to_tcp_sock",
    "bpf_skc_to_tcp_timewait_sock",
    "bpf_skc_to_tcp_request_sock",
    "bpf_skc_to_udp6_sock",
    "bpf_get_task_stack",
    "bpf_load_hdr_opt",
    "bpf_store_hdr_opt",
    "bpf_reserve_hdr_opt",
    "bpf_inode_storage_get",
    "bpf_inode_storage_delete",
    "bpf_d_path",
    "bpf_copy_from_user",
    "bpf_snprintf_btf",
    "bpf_seq_printf_btf",
    "bpf_skb_cgroup_classid",
    "bpf_redirect_neigh",
    "bpf_per_cpu_ptr",
    "bpf_this_cpu_ptr",
    "bpf_redirect_peer",
    "bpf_task_storage_get",
    "bpf_task_storage_delete",
    "bpf_get_current_task_btf",
    "bpf_bprm_opts_set",
    "bpf_ktime_get_coarse_ns",
    "bpf_ima_inode_hash",
    "bpf_sock_from_file",
    "bpf_check_mtu",
    "bpf_for_each_map_elem",
    "bpf_snprintf",
    "bpf_sys_bpf",
    "bpf_btf_find_by_name_kind",
    "bpf_sys_close",
    "bpf_timer_init",
    "bpf_timer_set_callback",
    "bpf_timer_start",
    "bpf_timer_cancel",
    "bpf_get_func_ip",
    "bpf_get_attach_cookie",
    "bpf_task_pt_regs",
    "bpf_get_branch_snapshot",
    "bpf_trace_vprintk",
    "bpf_skc_to_unix_sock",
    "bpf_kallsyms_lookup_name",
    "bpf_find_vma",
    "bpf_loop",
    "bpf_strncmp",
    "bpf_get_func_arg",
    "bpf_get_func_ret",
    "bpf_get_func_arg_cnt",
    "bpf_get_retval",
    "bpf_set_retval",
    "bpf_xdp_get_buff_len",
    "bpf_xdp_load_bytes",
    "bpf_xdp_store_bytes",
    "bpf_copy_from_user_task",
    "bpf_skb_set_tstamp",
    "bpf_ima_file_hash",
    "bpf_kptr_xchg",
    "bpf_map_lookup_percpu_elem",
    "bpf_skc_to_mptcp_sock",
    "bpf_dynptr_from_mem",
    "bpf_ringbuf_reserve_dynptr",
    "bpf_ringbuf_submit_dynptr",
    "bpf_ringbuf_discard_dynptr",
    "bpf_dynptr_read",
    "bpf_dynptr_write",
    "bpf_dynptr_data",
    "bpf_tcp_raw_gen_syncookie_ipv4",
    "bpf_tcp_raw_gen_syncookie_ipv6",
    "bpf_tcp_raw_check_syncookie_ipv4",
    "bpf_tcp_raw_check_syncookie_ipv6",
    "bpf_ktime_get_tai_ns",
    "bpf_user_ringbuf_drain",
    "bpf_cgrp_storage_get",
    "bpf_cgrp_storage_delete",
];

/// The name of helper `id`, as `func_id_name` in `kernel/bpf/disasm.c` but `None` for "unknown".
pub fn helper_name(id: i32) -> Option<&'static str> {
    usize::try_from(id).ok().and_then(|i| HELPER_NAMES.get(i)).copied()
}

/// The id of the helper called `name` (`bpf_map_lookup_elem` is 1).
pub fn helper_id(name: &str) -> Option<i32> {
    HELPER_NAMES.iter().position(|n| *n == name).map(|i| i as i32)
}

/// Names for calls and 64-bit immediates: the callbacks of the kernel's `struct bpf_insn_cbs`
/// (`cb_call`, `cb_imm`), plus the reverse look-up [`crate::asm`] needs.
///
/// Every method has a default that behaves like the kernel without that callback, so an empty
/// `impl Symbols for T {}` is a valid start; [`NoSymbols`] is exactly that.
pub trait Symbols {
    /// `cb_call`: the name of a call that [`HELPER_NAMES`] does not name (a kfunc, a bpf-to-bpf
    /// call, or a helper id outside the table). `None` keeps the kernel's fallback of
    /// `__func_get_name`: `unknown` for a helper, `kernel-function` for a kfunc, and the signed
    /// `imm` for a bpf-to-bpf call. The verifier's own callback, `disasm_kfunc_name`, names kfuncs
    /// only, from their BTF.
    fn call_name(&self, call: CallKind) -> Option<Cow<'_, str>> {
        let _ = call;
        None
    }

    /// `cb_imm`: the text of a `lddw`'s operand. `full_imm` is `imm | imm_hi << 32`, already zeroed
    /// for a pointer when pointer leaks are not allowed. `None` prints `0x%llx`, as the verifier
    /// does (it sets no `cb_imm`).
    fn imm64(&self, pseudo: Pseudo, imm: i32, imm_hi: i32, full_imm: u64) -> Option<String> {
        let _ = (pseudo, imm, imm_hi, full_imm);
        None
    }

    /// For the assembler: what a call by a name outside [`HELPER_NAMES`] calls, usually a kfunc's
    /// BTF id and BTF `off`. `None` lets the assembler take `name#id` as a kfunc of vmlinux's BTF
    /// (`off` 0), as the kernel prints any name it got from BTF.
    fn call_by_name(&self, name: &str) -> Option<CallKind> {
        let _ = name;
        None
    }
}

/// No names beyond [`HELPER_NAMES`]: `print_bpf_insn` with neither `cb_call` nor `cb_imm`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct NoSymbols;

impl Symbols for NoSymbols {}

/// Kfunc names by BTF `off` and BTF id: what the verifier's `disasm_kfunc_name` finds in BTF.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct KfuncNames {
    names: std::collections::BTreeMap<(i16, i32), String>,
}

impl KfuncNames {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the kfunc with BTF id `btf_id` in the BTF selected by `btf_off` (0: vmlinux).
    pub fn insert(&mut self, btf_off: i16, btf_id: i32, name: impl Into<String>) {
        self.names.insert((btf_off, btf_id), name.into());
    }

    /// The name of a kfunc, if known.
    pub fn get(&self, btf_off: i16, btf_id: i32) -> Option<&str> {
        self.names.get(&(btf_off, btf_id)).map(String::as_str)
    }
}

impl Symbols for KfuncNames {
    fn call_name(&self, call: CallKind) -> Option<Cow<'_, str>> {
        match call {
            CallKind::Kfunc { btf_id, btf_off } => self.get(btf_off, btf_id).map(Cow::Borrowed),
            _ => None,
        }
    }

    fn call_by_name(&self, name: &str) -> Option<CallKind> {
        self.names
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(&(btf_off, btf_id), _)| CallKind::Kfunc { btf_id, btf_off })
    }
}

/// How to print.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Options {
    /// Print the opcode as `(%02x) ` before the text, as the verifier log does (`(b7) r0 = 0`).
    pub opcode_prefix: bool,
    /// The `allow_ptr_leaks` argument of `print_bpf_insn`: when false, a `lddw` that loads a
    /// pointer prints `0x0` (the verifier passes `env->allow_ptr_leaks`, true with `CAP_PERFMON`).
    pub allow_ptr_leaks: bool,
    /// Print the kfvm extensions instead of the kernel's lossy text, so that [`crate::asm`] gives
    /// back the same instruction: `lddw` with a pseudo source as `map[fd:N]`, `map[fd:N][0]+OFF`,
    /// `map[idx:N]`, `map[idx:N][0]+OFF`, `btf_id[N]` or `subprog[+N]` (and `+HI` for a non-zero
    /// second `imm` where the form has none), a kfunc call in a module BTF as `call name#id@off`,
    /// and `callx rN`. Not kernel output.
    pub lossless: bool,
}

impl Options {
    /// The kernel's text without the opcode prefix (what a `Display` of an [`Insn`] prints).
    pub const KERNEL: Options = Options { opcode_prefix: false, allow_ptr_leaks: true, lossless: false };
    /// The kernel's text with the `(%02x) ` prefix, as in the verifier log.
    pub const LOG: Options = Options { opcode_prefix: true, allow_ptr_leaks: true, lossless: false };
    /// Text that the assembler reads back into the same instruction.
    pub const LOSSLESS: Options = Options { opcode_prefix: false, allow_ptr_leaks: true, lossless: true };
}

impl Default for Options {
    fn default() -> Self {
        Options::KERNEL
    }
}

/// `class == BPF_ALU ? 'w' : 'r'`: the register letter of a width.
fn letter(width: Width) -> char {
    match width {
        Width::W32 => 'w',
        Width::W64 => 'r',
    }
}

/// `bpf_ldst_string`, the C type of an access size (`u8` .. `u64`).
fn ty(size: Size) -> &'static str {
    size.c_type()
}

/// Writes the text of one instruction: `print_bpf_insn` of `kernel/bpf/disasm.c` (Linux 6.18),
/// without the trailing newline.
pub fn write_insn(out: &mut dyn fmt::Write, insn: &Insn, syms: &dyn Symbols, opts: Options) -> fmt::Result {
    if opts.opcode_prefix {
        write!(out, "({:02x}) ", insn.encode().0.code)?;
    }
    match *insn {
        Insn::Alu { width, op, dst, src } => {
            let c = letter(width);
            let d = dst.num();
            match src {
                Src::Reg(s) => {
                    // "%c%d %s %s%c%d": movsx puts its cast before the source register.
                    let cast = match op {
                        AluOp::Movsx(8) => "(s8)",
                        AluOp::Movsx(16) => "(s16)",
                        AluOp::Movsx(32) => "(s32)",
                        _ => "",
                    };
                    write!(out, "{c}{d} {} {cast}{c}{}", op.kernel_str(), s.num())
                }
                Src::Imm(imm) => write!(out, "{c}{d} {} {imm}", op.kernel_str()),
            }
        }
        Insn::Neg { width, dst } => {
            let c = letter(width);
            write!(out, "{c}{0} = -{c}{0}", dst.num())
        }
        Insn::End { kind, bits, dst } => {
            // print_bpf_end_insn / print_bpf_bswap_insn: always `r`, even in the BPF_ALU class.
            let name = match kind {
                EndKind::ToLe => "le",
                EndKind::ToBe => "be",
                EndKind::Bswap => "bswap",
            };
            write!(out, "r{0} = {name}{bits} r{0}", dst.num())
        }
        Insn::AddrSpaceCast { dst, src, to_as, from_as } => {
            write!(out, "r{} = addr_space_cast(r{}, {to_as}, {from_as})", dst.num(), src.num())
        }
        Insn::Ja { off, long: false } => write!(out, "goto pc{off:+}"),
        Insn::Ja { off, long: true } => write!(out, "gotol pc{off:+}"),
        Insn::Jmp { width, op, dst, src, off } => {
            let c = letter(width);
            match src {
                Src::Reg(s) => {
                    write!(out, "if {c}{} {} {c}{} goto pc{off:+}", dst.num(), op.kernel_str(), s.num())
                }
                Src::Imm(imm) => {
                    write!(out, "if {c}{} {} 0x{:x} goto pc{off:+}", dst.num(), op.kernel_str(), imm as u32)
                }
            }
        }
        Insn::MayGoto { off } => write!(out, "may_goto pc{off:+}"),
        Insn::Call(kind) => write_call(out, kind, syms, opts),
        Insn::Callx { reg } => {
            if opts.lossless {
                write!(out, "callx r{}", reg.num())
            } else {
                // BPF_JMP | BPF_CALL | BPF_X takes the BPF_CALL branch; imm is 0 and src_reg is 0,
                // so __func_get_name finds helper 0.
                write_call(out, CallKind::Helper(0), syms, opts)
            }
        }
        Insn::Exit => out.write_str("exit"),
        Insn::Load { size, sign_extend, dst, src, off } => {
            let t = if sign_extend { size.c_stype() } else { ty(size) };
            write!(out, "r{} = *({t} *)(r{} {off:+})", dst.num(), src.num())
        }
        Insn::StoreImm { size, dst, off, imm } => {
            write!(out, "*({} *)(r{} {off:+}) = {imm}", ty(size), dst.num())
        }
        Insn::Store { size, dst, src, off } => {
            write!(out, "*({} *)(r{} {off:+}) = r{}", ty(size), dst.num(), src.num())
        }
        Insn::Atomic { size, op, dst, src, off } => write_atomic(out, size, op, dst, src, off),
        Insn::LdImm64 { dst, pseudo, imm, imm_hi } => {
            write!(out, "r{} = ", dst.num())?;
            if opts.lossless && pseudo != Pseudo::Imm {
                return write_pseudo(out, pseudo, imm, imm_hi);
            }
            let mut full = insn.imm64().expect("lddw");
            if is_ptr(pseudo) && !opts.allow_ptr_leaks {
                full = 0;
            }
            match syms.imm64(pseudo, imm, imm_hi, full) {
                Some(s) if !opts.lossless => out.write_str(&s),
                _ => write!(out, "0x{full:x}"),
            }
        }
        Insn::LdAbs { size, imm } => write!(out, "r0 = *({} *)skb[{imm}]", ty(size)),
        Insn::LdInd { size, src, imm } => write!(out, "r0 = *({} *)skb[r{} + {imm}]", ty(size), src.num()),
    }
}

/// The `is_ptr` test of `print_bpf_insn`: the `lddw` sources whose value is hidden when pointer
/// leaks are not allowed. In Linux 6.18 that is only `BPF_PSEUDO_MAP_FD` and
/// `BPF_PSEUDO_MAP_VALUE`: a map referenced through `fd_array` (`BPF_PSEUDO_MAP_IDX[_VALUE]`)
/// prints its address even to an unprivileged loader (checked on the live kernel, see
/// `tests/kernel-logs/misc.unpriv.log`; later kernels add the `fd_array` forms and `BTF_ID`).
fn is_ptr(pseudo: Pseudo) -> bool {
    matches!(pseudo, Pseudo::MapFd | Pseudo::MapValue)
}

/// The BPF_CALL branch of `print_bpf_insn`, with `__func_get_name`.
fn write_call(out: &mut dyn fmt::Write, kind: CallKind, syms: &dyn Symbols, opts: Options) -> fmt::Result {
    match kind {
        CallKind::Local(imm) => match syms.call_name(kind) {
            Some(name) if !opts.lossless => write!(out, "call pc{name}"),
            _ => write!(out, "call pc{imm:+}"),
        },
        CallKind::Helper(id) => {
            let name: Cow<'_, str> = match helper_name(id) {
                Some(n) => n.into(),
                None if opts.lossless => "unknown".into(),
                None => syms.call_name(kind).unwrap_or("unknown".into()),
            };
            write!(out, "call {name}#{id}")
        }
        CallKind::Kfunc { btf_id, btf_off } => {
            let name = syms.call_name(kind).unwrap_or("kernel-function".into());
            write!(out, "call {name}#{btf_id}")?;
            if opts.lossless && btf_off != 0 {
                write!(out, "@{btf_off}")?;
            }
            Ok(())
        }
    }
}

/// The BPF_STX | BPF_ATOMIC branches of `print_bpf_insn`.
fn write_atomic(
    out: &mut dyn fmt::Write,
    size: Size,
    op: AtomicOp,
    dst: Reg,
    src: Reg,
    off: i16,
) -> fmt::Result {
    let t = ty(size);
    let (d, s) = (dst.num(), src.num());
    let w = if size == Size::DW { "64" } else { "" };
    let (name, alu) = match op {
        AtomicOp::Add { fetch } => (fetch.then_some("add"), "+="),
        AtomicOp::And { fetch } => (fetch.then_some("and"), "&="),
        AtomicOp::Or { fetch } => (fetch.then_some("or"), "|="),
        AtomicOp::Xor { fetch } => (fetch.then_some("xor"), "^="),
        AtomicOp::Xchg => return write!(out, "r{s} = atomic{w}_xchg(({t} *)(r{d} {off:+}), r{s})"),
        AtomicOp::Cmpxchg => return write!(out, "r0 = atomic{w}_cmpxchg(({t} *)(r{d} {off:+}), r0, r{s})"),
        AtomicOp::LoadAcquire => return write!(out, "r{d} = load_acquire(({t} *)(r{s} {off:+}))"),
        AtomicOp::StoreRelease => return write!(out, "store_release(({t} *)(r{d} {off:+}), r{s})"),
    };
    match name {
        None => write!(out, "lock *({t} *)(r{d} {off:+}) {alu} r{s}"),
        Some(name) => write!(out, "r{s} = atomic{w}_fetch_{name}(({t} *)(r{d} {off:+}), r{s})"),
    }
}

/// The lossless (kfvm) text of a `lddw` with a pseudo source; see [`Options::lossless`].
fn write_pseudo(out: &mut dyn fmt::Write, pseudo: Pseudo, imm: i32, imm_hi: i32) -> fmt::Result {
    let value = matches!(pseudo, Pseudo::MapValue | Pseudo::MapIdxValue);
    match pseudo {
        Pseudo::Imm => unreachable!("plain constants print as 0x%llx"),
        Pseudo::MapFd | Pseudo::MapValue => write!(out, "map[fd:{imm}]")?,
        Pseudo::MapIdx | Pseudo::MapIdxValue => write!(out, "map[idx:{imm}]")?,
        Pseudo::BtfId => write!(out, "btf_id[{imm}]")?,
        Pseudo::Func => write!(out, "subprog[{imm:+}]")?,
    }
    if value {
        out.write_str("[0]")?;
    }
    if value || imm_hi != 0 {
        write!(out, "+{}", imm_hi as u32)?;
    }
    Ok(())
}

/// An instruction with names and options, ready for `{}`: see [`display`].
#[derive(Clone, Copy)]
pub struct Display<'a> {
    insn: &'a Insn,
    syms: &'a dyn Symbols,
    opts: Options,
}

impl fmt::Debug for Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Display").field("insn", self.insn).field("opts", &self.opts).finish()
    }
}

impl fmt::Display for Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_insn(f, self.insn, self.syms, self.opts)
    }
}

/// Formats `insn` with `syms` and `opts` when displayed (`print_bpf_insn` into a `Formatter`).
pub fn display<'a>(insn: &'a Insn, syms: &'a dyn Symbols, opts: Options) -> Display<'a> {
    Display { insn, syms, opts }
}

/// The kernel's text of an instruction, without names beyond the helper table or opcode prefix.
impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_insn(f, self, &NoSymbols, Options::KERNEL)
    }
}

/// The text of one instruction as a `String`.
pub fn insn_to_string(insn: &Insn, syms: &dyn Symbols, opts: Options) -> String {
    display(insn, syms, opts).to_string()
}

/// A kernel-style listing: one `idx: (code) text` line per instruction, `idx` counting slots
/// (a `lddw` takes two), as the verifier log prints each instruction (`"%d: "` then
/// `print_bpf_insn`). The opcode prefix is always printed; `opts` gives the rest.
pub fn listing(insns: &[Insn], syms: &dyn Symbols, opts: Options) -> String {
    let opts = Options { opcode_prefix: true, ..opts };
    let mut s = String::new();
    let mut idx = 0;
    for insn in insns {
        // Writing to a String cannot fail.
        let _ = writeln!(s, "{idx}: {}", display(insn, syms, opts));
        idx += insn.slots();
    }
    s
}

/// [`listing`] of raw slots, decoded with [`crate::decode_program`].
pub fn listing_raw(
    prog: &[RawInsn],
    syms: &dyn Symbols,
    opts: Options,
) -> Result<String, crate::DecodeError> {
    let insns: Vec<Insn> = crate::decode_program(prog)?.into_iter().map(|(_, i)| i).collect();
    Ok(listing(&insns, syms, opts))
}
