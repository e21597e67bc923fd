//! Context accesses per program type: the `is_valid_access` callbacks of each program type's
//! `struct bpf_verifier_ops` (`sk_filter_is_valid_access`, `tc_cls_act_is_valid_access`,
//! `bpf_skb_is_valid_access`, `xdp_is_valid_access`, `syscall_prog_is_valid_access`,
//! `kprobe_prog_is_valid_access`, `tp_prog_is_valid_access`, `cg_skb_is_valid_access`).

use crate::env::{prog_type, CheckOptions};
use crate::mem::Access;
use crate::state::*;

/// `struct bpf_insn_access_aux`: what a valid access loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessInfo {
    /// `reg_type`: `SCALAR_VALUE` or a packet pointer.
    pub reg_type: u32,
}

/// Offsets in `struct __sk_buff`.
pub mod skb {
    /// `mark`.
    pub const MARK: i32 = 8;
    /// `queue_mapping`.
    pub const QUEUE_MAPPING: i32 = 12;
    /// `priority`.
    pub const PRIORITY: i32 = 32;
    /// `tc_index`.
    pub const TC_INDEX: i32 = 44;
    /// `cb[0]`.
    pub const CB0: i32 = 48;
    /// end of `cb[4]`.
    pub const CB_END: i32 = 68;
    /// `tc_classid`.
    pub const TC_CLASSID: i32 = 72;
    /// `data`.
    pub const DATA: i32 = 76;
    /// `data_end`.
    pub const DATA_END: i32 = 80;
    /// `family`.
    pub const FAMILY: i32 = 88;
    /// `remote_ip4`.
    pub const REMOTE_IP4: i32 = 92;
    /// `local_ip4`.
    pub const LOCAL_IP4: i32 = 96;
    /// `remote_ip6[0]`.
    pub const REMOTE_IP6: i32 = 100;
    /// `local_ip6[0]`.
    pub const LOCAL_IP6: i32 = 116;
    /// end of `local_port`.
    pub const LOCAL_PORT_END: i32 = 140;
    /// `data_meta`.
    pub const DATA_META: i32 = 140;
    /// `flow_keys`.
    pub const FLOW_KEYS: i32 = 144;
    /// `tstamp`.
    pub const TSTAMP: i32 = 152;
    /// `wire_len`.
    pub const WIRE_LEN: i32 = 160;
    /// `sk`.
    pub const SK: i32 = 168;
    /// `tstamp_type`.
    pub const TSTAMP_TYPE: i32 = 180;
    /// `hwtstamp`.
    pub const HWTSTAMP: i32 = 184;
    /// `sizeof(struct __sk_buff)`.
    pub const SIZE: i32 = 192;
}

/// `sizeof(struct pt_regs)` on x86-64.
pub const PT_REGS_SIZE: i32 = 168;
/// `sizeof(struct xdp_md)`.
pub const XDP_MD_SIZE: i32 = 24;
/// `PERF_MAX_TRACE_SIZE`.
pub const PERF_MAX_TRACE_SIZE: i32 = 2048;

/// Whether the program type rewrites context accesses (`env->ops->convert_ctx_access`); the
/// syscall program's context is a plain buffer.
pub fn has_convert_ctx_access(ptype: u32) -> bool {
    ptype != prog_type::SYSCALL
}

/// `bpf_ctx_range(field)` of a 4-byte field at `start`.
fn in_field(off: i32, start: i32, len: i32) -> bool {
    off >= start && off < start + len
}

/// Mirrors `bpf_skb_is_valid_access()`.
fn bpf_skb_is_valid_access(off: i32, size: i32, t: Access, is_ldsx: bool, info: &mut AccessInfo) -> bool {
    if !(0..skb::SIZE).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if in_field(off, skb::CB0, skb::CB_END - skb::CB0) {
        return off + size <= skb::CB_END;
    }
    if in_field(off, skb::DATA, 4) || in_field(off, skb::DATA_META, 4) || in_field(off, skb::DATA_END, 4) {
        return !is_ldsx && size == 4;
    }
    if in_field(off, skb::REMOTE_IP6, 16)
        || in_field(off, skb::LOCAL_IP6, 16)
        || in_field(off, skb::REMOTE_IP4, 4)
        || in_field(off, skb::LOCAL_IP4, 4)
    {
        return size == 4;
    }
    if in_field(off, skb::FLOW_KEYS, 8) {
        return false;
    }
    if in_field(off, skb::HWTSTAMP, 8) {
        return t != Access::Write && size == 8;
    }
    if in_field(off, skb::TSTAMP, 8) {
        return size == 8;
    }
    if off == skb::SK {
        if t == Access::Write || size != 8 {
            return false;
        }
        info.reg_type = PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL;
        return true;
    }
    if off == skb::TSTAMP_TYPE {
        return false;
    }
    if off > skb::TSTAMP_TYPE && off < skb::HWTSTAMP {
        return false;
    }
    if t == Access::Write {
        size == 4
    } else {
        size <= 4 && size & (size - 1) == 0
    }
}

/// Whether an access of `size` bytes at `off` into the context of `opts.prog_type` is valid
/// (`check_ctx_access()` without the message), and what it loads.
pub fn is_valid_access(
    opts: &CheckOptions,
    off: i32,
    size: i32,
    t: Access,
    is_ldsx: bool,
) -> Option<AccessInfo> {
    let mut info = AccessInfo { reg_type: SCALAR_VALUE };
    let ok = match opts.prog_type {
        prog_type::SOCKET_FILTER => {
            let denied = in_field(off, skb::TC_CLASSID, 4)
                || in_field(off, skb::DATA, 4)
                || in_field(off, skb::DATA_META, 4)
                || in_field(off, skb::DATA_END, 4)
                || (skb::FAMILY..skb::LOCAL_PORT_END).contains(&off)
                || in_field(off, skb::TSTAMP, 8)
                || in_field(off, skb::WIRE_LEN, 4)
                || in_field(off, skb::HWTSTAMP, 8);
            if denied || (t == Access::Write && !in_field(off, skb::CB0, skb::CB_END - skb::CB0)) {
                false
            } else {
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            }
        }
        prog_type::SCHED_CLS | prog_type::SCHED_ACT => {
            let write_ok = in_field(off, skb::MARK, 4)
                || in_field(off, skb::TC_INDEX, 4)
                || in_field(off, skb::PRIORITY, 4)
                || in_field(off, skb::TC_CLASSID, 4)
                || in_field(off, skb::CB0, skb::CB_END - skb::CB0)
                || in_field(off, skb::TSTAMP, 8)
                || in_field(off, skb::QUEUE_MAPPING, 4);
            if t == Access::Write && !write_ok {
                false
            } else if in_field(off, skb::DATA, 4) {
                info.reg_type = PTR_TO_PACKET;
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            } else if in_field(off, skb::DATA_META, 4) {
                info.reg_type = PTR_TO_PACKET_META;
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            } else if in_field(off, skb::DATA_END, 4) {
                info.reg_type = PTR_TO_PACKET_END;
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            } else if (skb::FAMILY..skb::LOCAL_PORT_END).contains(&off) {
                false
            } else if off == skb::TSTAMP_TYPE {
                size == 1
            } else {
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            }
        }
        prog_type::XDP => {
            // egress_ifindex needs BPF_XDP_DEVMAP (33).
            if (off == 20 && opts.expected_attach_type != 33)
                || t == Access::Write
                || (is_ldsx && (off == 0 || off == 4 || off == 8))
            {
                false
            } else {
                match off {
                    0 => info.reg_type = PTR_TO_PACKET,
                    8 => info.reg_type = PTR_TO_PACKET_META,
                    4 => info.reg_type = PTR_TO_PACKET_END,
                    _ => {}
                }
                (0..XDP_MD_SIZE).contains(&off) && off % size == 0 && size == 4
            }
        }
        prog_type::SYSCALL => off >= 0 && off < u16::MAX as i32 && off % size == 0,
        prog_type::KPROBE => {
            (0..PT_REGS_SIZE).contains(&off)
                && t == Access::Read
                && off % size == 0
                && off + size <= PT_REGS_SIZE
        }
        prog_type::TRACEPOINT => {
            (8..PERF_MAX_TRACE_SIZE).contains(&off) && t == Access::Read && off % size == 0
        }
        prog_type::CGROUP_SKB => {
            let ok_field = !(in_field(off, skb::TC_CLASSID, 4)
                || (skb::FAMILY..skb::LOCAL_PORT_END).contains(&off)
                || in_field(off, skb::FLOW_KEYS, 8));
            if !ok_field {
                false
            } else if in_field(off, skb::DATA, 4) {
                info.reg_type = PTR_TO_PACKET;
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            } else if in_field(off, skb::DATA_END, 4) {
                info.reg_type = PTR_TO_PACKET_END;
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            } else if t == Access::Write
                && !(in_field(off, skb::MARK, 4)
                    || in_field(off, skb::PRIORITY, 4)
                    || in_field(off, skb::CB0, skb::CB_END - skb::CB0))
            {
                false
            } else {
                bpf_skb_is_valid_access(off, size, t, is_ldsx, &mut info)
            }
        }
        _ => false,
    };
    ok.then_some(info)
}
