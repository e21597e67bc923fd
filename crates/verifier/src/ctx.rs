//! Context accesses per program type: the `is_valid_access` callbacks of each program type's
//! `struct bpf_verifier_ops` (`sk_filter_is_valid_access`, `tc_cls_act_is_valid_access`,
//! `bpf_skb_is_valid_access`, `xdp_is_valid_access`, `syscall_prog_is_valid_access`,
//! `kprobe_prog_is_valid_access`, `tp_prog_is_valid_access`, `cg_skb_is_valid_access`,
//! `raw_tp_prog_is_valid_access`, `tracing_prog_is_valid_access` with `btf_ctx_access()`), and
//! the attach target of programs attached through BTF (`bpf_check_attach_target()`).

use crate::env::{prog_type, CheckOptions, Env, BTF_VMLINUX};
use crate::error::{Errno, Result, VerifyError};
use crate::mem::Access;
use crate::state::*;
use crate::verbose;
use kfvm_btf::{Btf, Kind};

/// `struct bpf_insn_access_aux`: what a valid access loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessInfo {
    /// `reg_type`: `SCALAR_VALUE`, a packet pointer, or a `PTR_TO_BTF_ID` (with flags).
    pub reg_type: u32,
    /// For `PTR_TO_BTF_ID`: the BTF object.
    pub btf: u32,
    /// For `PTR_TO_BTF_ID`: the struct's id.
    pub btf_id: u32,
}

/// `enum bpf_attach_type` values of programs attached through BTF.
pub mod attach {
    /// `BPF_TRACE_RAW_TP`: `tp_btf/`.
    pub const TRACE_RAW_TP: u32 = 23;
    /// `BPF_TRACE_FENTRY`: `fentry/`.
    pub const TRACE_FENTRY: u32 = 24;
    /// `BPF_TRACE_FEXIT`: `fexit/`.
    pub const TRACE_FEXIT: u32 = 25;
    /// `BPF_MODIFY_RETURN`: `fmod_ret/`.
    pub const MODIFY_RETURN: u32 = 26;
    /// `BPF_LSM_MAC`: `lsm/`.
    pub const LSM_MAC: u32 = 27;
    /// `BPF_TRACE_ITER`: `iter/`.
    pub const TRACE_ITER: u32 = 28;
}

/// `MAX_BPF_FUNC_ARGS`: the `u64` slots of a tracing context.
pub const MAX_BPF_FUNC_ARGS: i32 = 12;

/// What a program attached through BTF is attached to (`prog->aux->attach_func_proto`,
/// `attach_func_name`, `attach_btf_trace`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachTarget {
    /// The `FUNC_PROTO` in the kernel BTF (0: none).
    pub func_proto: u32,
    /// The function's or tracepoint's name (without `btf_trace_`).
    pub func_name: String,
    /// `attach_btf_trace`: a `tp_btf/` program, whose prototype starts with `void *__data`.
    pub btf_trace: bool,
}

/// Functions tracing programs may not attach to (`btf_id_deny`).
const BTF_ID_DENY: &[&str] = &[
    "migrate_disable",
    "migrate_enable",
    "rcu_read_unlock_strict",
    "preempt_count_add",
    "preempt_count_sub",
    "__rcu_read_lock",
    "__rcu_read_unlock",
];

/// `__noreturn` functions `fexit/` and `fmod_ret/` may not attach to (`noreturn_deny`).
const NORETURN_DENY: &[&str] = &[
    "__x64_sys_exit",
    "__x64_sys_exit_group",
    "do_exit",
    "do_group_exit",
    "kthread_complete_and_exit",
    "kthread_exit",
    "make_task_dead",
];

/// Mirrors `bpf_check_attach_target()` (and the tracing part of `check_attach_btf_id()`) for
/// `BPF_PROG_TYPE_TRACING` programs attached to the kernel: `tp_btf/` needs a `btf_trace_*`
/// typedef, `fentry/`, `fexit/` and `fmod_ret/` a `FUNC`.
pub fn bpf_check_attach_target(env: &mut Env<'_>) -> Result<()> {
    let btf_id = env.opts.attach_btf_id;
    let fail = |env: &mut Env<'_>, msg: String| -> VerifyError { env.reject(Errno::Inval, msg) };
    if btf_id == 0 {
        return Err(fail(env, "Tracing programs must provide btf_id".into()));
    }
    let btf = env.kernel_btf("programs attached through BTF")?;
    let Some(t) = btf.get(btf_id) else {
        return Err(fail(env, format!("attach_btf_id {btf_id} is invalid")));
    };
    let tname = t.name().to_string();
    if tname.is_empty() {
        return Err(fail(env, format!("attach_btf_id {btf_id} doesn't have a name")));
    }
    let eat = env.opts.expected_attach_type;
    match eat {
        attach::TRACE_RAW_TP => {
            if t.kind() != Kind::Typedef {
                return Err(fail(env, format!("attach_btf_id {btf_id} is not a typedef")));
            }
            let Some(name) = tname.strip_prefix("btf_trace_") else {
                return Err(fail(env, format!("attach_btf_id {btf_id} points to wrong type name {tname}")));
            };
            let proto = btf
                .get(t.size_or_type())
                .filter(|p| p.kind() == Kind::Ptr)
                .and_then(|p| btf.get(p.size_or_type()))
                .filter(|f| f.kind() == Kind::FuncProto);
            let Some(proto) = proto else { return Err(VerifyError::reject(Errno::Inval, None, "")) };
            env.attach =
                AttachTarget { func_proto: proto.id(), func_name: name.to_string(), btf_trace: true };
            Ok(())
        }
        attach::TRACE_ITER => Err(VerifyError::Unsupported("BPF iterator programs (iter/)".into())),
        _ => {
            if t.kind() != Kind::Func {
                return Err(fail(env, format!("attach_btf_id {btf_id} is not a function")));
            }
            let Some(proto) = btf.get(t.size_or_type()).filter(|p| p.kind() == Kind::FuncProto) else {
                return Err(VerifyError::reject(Errno::Inval, None, ""));
            };
            if env.opts.sleepable {
                return Err(VerifyError::Unsupported(
                    "sleepable fentry/fexit/fmod_ret (the kernel's error-injection list is not modelled)"
                        .into(),
                ));
            }
            if eat == attach::MODIFY_RETURN && !tname.starts_with("security_") {
                return Err(VerifyError::Unsupported(format!(
                    "fmod_ret/{tname} (the kernel's error-injection list is not modelled)"
                )));
            }
            if BTF_ID_DENY.contains(&tname.as_str()) {
                return Err(fail(
                    env,
                    format!("Attaching tracing programs to function '{tname}' is rejected."),
                ));
            }
            if matches!(eat, attach::TRACE_FEXIT | attach::MODIFY_RETURN)
                && NORETURN_DENY.contains(&tname.as_str())
            {
                return Err(fail(
                    env,
                    format!("Attaching fexit/fmod_ret to __noreturn function '{tname}' is rejected."),
                ));
            }
            env.attach = AttachTarget { func_proto: proto.id(), func_name: tname, btf_trace: false };
            Ok(())
        }
    }
}

/// Mirrors `bpf_tracing_ctx_access()`: a read of `u64` slots.
pub fn bpf_tracing_ctx_access(off: i32, size: i32, t: Access) -> bool {
    (0..8 * MAX_BPF_FUNC_ARGS).contains(&off) && t == Access::Read && off % size == 0
}

/// Mirrors `btf_type_is_small_int()`.
fn is_small_int(t: &kfvm_btf::Type<'_>) -> bool {
    t.kind() == Kind::Int && t.size_or_type() <= 8
}

/// Mirrors `btf_type_str()`: the kind's name, `UNKN` for void (bpftool says `UNKNOWN`).
fn btf_type_str(t: &kfvm_btf::Type<'_>) -> &'static str {
    match t.kind() {
        Kind::Void => "UNKN",
        k => k.as_str(),
    }
}

/// Skips modifiers and typedefs (`btf_type_is_modifier()` loops), the type id reached.
fn skip_modifiers(btf: &Btf, mut id: u32) -> u32 {
    for _ in 0..64 {
        match btf.get(id) {
            Some(t)
                if matches!(
                    t.kind(),
                    Kind::Const | Kind::Volatile | Kind::Restrict | Kind::Typedef | Kind::TypeTag
                ) =>
            {
                id = t.size_or_type()
            }
            _ => return id,
        }
    }
    id
}

/// Mirrors `btf_ctx_arg_idx()`: the argument a context offset falls in.
fn btf_ctx_arg_idx(btf: &Btf, proto: &kfvm_btf::Type<'_>, off: i32) -> u32 {
    let mut offset = 0i64;
    let size_of = |id: u32| -> i64 {
        match btf.get(skip_modifiers(btf, id)) {
            Some(t) if t.kind() == Kind::Ptr => 8,
            Some(t) if t.kind().has_size() => (t.size_or_type() as u64).next_multiple_of(8) as i64,
            _ => 0,
        }
    };
    let params: Vec<u32> = proto.params().map(|p| p.type_id).collect();
    for (i, &p) in params.iter().enumerate() {
        offset += size_of(p);
        if (off as i64) < offset {
            return i as u32;
        }
    }
    offset += size_of(proto.size_or_type());
    if (off as i64) < offset {
        return params.len() as u32;
    }
    params.len() as u32 + 1
}

/// Mirrors `btf_ctx_access()`: an access to the arguments (and, for `fexit/`, the return value)
/// of the function or tracepoint a `BPF_PROG_TYPE_TRACING` program is attached to. Logs why
/// it is refused, as the kernel's `bpf_log()` calls do.
pub fn btf_ctx_access(env: &mut Env<'_>, off: i32, size: i32) -> Result<Option<AccessInfo>> {
    let at = env.attach.clone();
    let tname = at.func_name.as_str();
    let btf = env.kernel_btf("tracing contexts")?;
    let scalar = AccessInfo { reg_type: SCALAR_VALUE, btf: 0, btf_id: 0 };
    if off % 8 != 0 {
        verbose!(env.log, "func '{tname}' offset {off} is not multiple of 8\n");
        return Ok(None);
    }
    let Some(proto) = btf.get(at.func_proto) else {
        return Err(VerifyError::Internal("a tracing program without its attach prototype".into()));
    };
    let arg = btf_ctx_arg_idx(btf, &proto, off);
    let mut args: Vec<(String, u32)> = proto.params().map(|p| (p.name.to_string(), p.type_id)).collect();
    if at.btf_trace && !args.is_empty() {
        args.remove(0);
    }
    let nr_args = args.len() as u32;
    if arg > nr_args {
        verbose!(env.log, "func '{tname}' doesn't have {}-th argument\n", arg + 1);
        return Ok(None);
    }
    let mut tid;
    let mut param_name = "";
    if arg == nr_args {
        match env.opts.expected_attach_type {
            attach::LSM_MAC | attach::TRACE_FEXIT => tid = proto.size_or_type(),
            attach::MODIFY_RETURN => {
                tid = skip_modifiers(btf, proto.size_or_type());
                let t = btf.get(tid);
                if !t.as_ref().is_some_and(is_small_int) {
                    let s = t.as_ref().map_or("UNKN", btf_type_str);
                    verbose!(env.log, "ret type {s} not allowed for fmod_ret\n");
                    return Ok(None);
                }
            }
            _ => {
                verbose!(env.log, "func '{tname}' doesn't have {}-th argument\n", arg + 1);
                return Ok(None);
            }
        }
    } else {
        tid = args[arg as usize].1;
        param_name = &args[arg as usize].0;
    }
    tid = skip_modifiers(btf, tid);
    let Some(t) = btf.get(tid).filter(|_| tid != 0) else {
        verbose!(env.log, "func '{tname}' arg{arg} '' has type UNKN. Only pointer access is allowed\n");
        return Ok(None);
    };
    if is_small_int(&t) || t.kind().is_any_enum() || t.kind().is_composite() {
        return Ok(Some(scalar));
    }
    if t.kind() != Kind::Ptr {
        verbose!(
            env.log,
            "func '{tname}' arg{arg} '{}' has type {}. Only pointer access is allowed\n",
            t.name(),
            btf_type_str(&t)
        );
        return Ok(None);
    }
    if size != 8 {
        verbose!(env.log, "func '{tname}' size {size} must be 8\n");
        return Ok(None);
    }
    // is_void_or_int_ptr(): as good as a scalar.
    let pointee = skip_modifiers(btf, t.size_or_type());
    if pointee == 0 || btf.get(pointee).is_some_and(|p| p.kind() == Kind::Int) {
        return Ok(Some(scalar));
    }
    let mut reg_type = PTR_TO_BTF_ID;
    // prog_args_trusted(): tp_btf (and iterator) arguments are trusted.
    if at.btf_trace {
        reg_type |= PTR_TRUSTED;
    }
    // btf_param_match_suffix(..., "__nullable")
    if param_name.len() > "__nullable".len() && param_name.ends_with("__nullable") {
        reg_type |= PTR_MAYBE_NULL;
    }
    let mut btf_id = t.size_or_type();
    let mut cur = btf.get(btf_id);
    if let Some(tt) = &cur {
        if tt.kind() == Kind::TypeTag && !tt.kind_flag() {
            match tt.name() {
                "user" => reg_type |= MEM_USER,
                "percpu" => reg_type |= MEM_PERCPU,
                _ => {}
            }
        }
    }
    while let Some(c) = cur.filter(|c| {
        matches!(c.kind(), Kind::Const | Kind::Volatile | Kind::Restrict | Kind::Typedef | Kind::TypeTag)
    }) {
        btf_id = c.size_or_type();
        cur = btf.get(btf_id);
    }
    let Some(st) = cur.filter(|c| c.kind().is_composite()) else {
        let s = cur.as_ref().map_or("UNKN", btf_type_str);
        verbose!(env.log, "func '{tname}' arg{arg} type {s} is not a struct\n");
        return Ok(None);
    };
    verbose!(
        env.log,
        "func '{tname}' arg{arg} has btf_id {btf_id} type {} '{}'\n",
        btf_type_str(&st),
        st.name()
    );
    Ok(Some(AccessInfo { reg_type, btf: BTF_VMLINUX, btf_id }))
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

/// Whether the context of programs of type `prog_type` is modelled ([`is_valid_access`] and the
/// tracing contexts of `check_ctx_access`): for the others, a refused context access would be
/// kfvm's gap, not the kernel's verdict.
pub fn context_modelled(prog_type: u32) -> bool {
    matches!(
        prog_type,
        prog_type::SOCKET_FILTER
            | prog_type::KPROBE
            | prog_type::SCHED_CLS
            | prog_type::SCHED_ACT
            | prog_type::TRACEPOINT
            | prog_type::XDP
            | prog_type::CGROUP_SKB
            | prog_type::RAW_TRACEPOINT
            | prog_type::TRACING
            | prog_type::SYSCALL
    )
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
    let mut info = AccessInfo { reg_type: SCALAR_VALUE, btf: 0, btf_id: 0 };
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
        prog_type::RAW_TRACEPOINT => bpf_tracing_ctx_access(off, size, t),
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
