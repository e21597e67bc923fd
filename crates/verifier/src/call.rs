//! Calls: helpers (`check_helper_call()`, argument checks `check_func_arg()` /
//! `check_reg_type()`, return values, reference tracking with `acquire_reference()` /
//! `release_reference()`, spin locks) and bpf-to-bpf calls (`check_func_call()`,
//! `setup_func_entry()`, `prepare_func_exit()`), plus the combined stack depth check
//! (`check_max_stack_depth()`).

use crate::check::RegArg;
use crate::env::*;
use crate::error::{Errno, Result, VerifyError};
use crate::helpers::{self, ArgType, FuncProto, RetType};
use crate::mem::{
    check_helper_mem_access, check_map_access, check_mem_size_reg, check_ptr_off_reg, Access, AccessSrc,
    CallArgMeta,
};
use crate::precision::mark_chain_precision;
use crate::print::reg_type_str;
use crate::state::*;
use crate::verbose;
use kfvm_isa::RawInsn;

/// `__BPF_FUNC_MAX_ID` in Linux 6.18.
pub const BPF_FUNC_MAX_ID: i32 = 212;
/// `MAX_ERRNO`.
const MAX_ERRNO: i64 = 4095;

/// The kernel's `enum bpf_arg_type` base of a helper argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Base {
    DontCare,
    ConstMapPtr,
    PtrToMapKey,
    PtrToMapValue,
    PtrToMem,
    ConstSize,
    ConstSizeOrZero,
    ConstAllocSizeOrZero,
    PtrToCtx,
    Anything,
    PtrToSpinLock,
    PtrToTimer,
    PtrToRingbufMem,
    PtrToFunc,
    PtrToStack,
    KptrXchgDest,
    PtrToBtfId,
    PtrToDynptr,
}

/// An argument type as the kernel writes it: base and `enum bpf_type_flag` bits.
fn kernel_arg(a: ArgType) -> (Base, u32) {
    match a {
        ArgType::DontCare => (Base::DontCare, 0),
        ArgType::ConstMapPtr => (Base::ConstMapPtr, 0),
        ArgType::PtrToMapKey => (Base::PtrToMapKey, 0),
        ArgType::PtrToMapValue => (Base::PtrToMapValue, 0),
        ArgType::PtrToUninitMapValue => (Base::PtrToMapValue, MEM_UNINIT | MEM_WRITE),
        ArgType::PtrToRdonlyMem { maybe_null } => {
            (Base::PtrToMem, MEM_RDONLY | if maybe_null { PTR_MAYBE_NULL } else { 0 })
        }
        ArgType::PtrToUninitMem => (Base::PtrToMem, MEM_UNINIT | MEM_WRITE),
        ArgType::ConstSize => (Base::ConstSize, 0),
        ArgType::ConstSizeOrZero => (Base::ConstSizeOrZero, 0),
        ArgType::ConstAllocSizeOrZero => (Base::ConstAllocSizeOrZero, 0),
        ArgType::PtrToCtx => (Base::PtrToCtx, 0),
        ArgType::Anything => (Base::Anything, 0),
        ArgType::PtrToSpinLock => (Base::PtrToSpinLock, 0),
        ArgType::PtrToTimer => (Base::PtrToTimer, 0),
        ArgType::PtrToRingbufMemRelease => (Base::PtrToRingbufMem, OBJ_RELEASE),
        ArgType::PtrToFunc => (Base::PtrToFunc, 0),
        ArgType::PtrToStackOrNull => (Base::PtrToStack, PTR_MAYBE_NULL),
        ArgType::KptrXchgDest => (Base::KptrXchgDest, 0),
        ArgType::PtrToBtfIdOrNullRelease => (Base::PtrToBtfId, PTR_MAYBE_NULL | OBJ_RELEASE),
        ArgType::PtrToBtfId(_) => (Base::PtrToBtfId, 0),
        ArgType::PtrToDynptr(flags) => (Base::PtrToDynptr, flags),
    }
}

/// `compatible_reg_types[]`.
fn compatible(base: Base) -> &'static [u32] {
    const MEM: &[u32] = &[
        PTR_TO_STACK,
        PTR_TO_PACKET,
        PTR_TO_PACKET_META,
        PTR_TO_MAP_KEY,
        PTR_TO_MAP_VALUE,
        PTR_TO_MEM,
        PTR_TO_MEM | MEM_RINGBUF,
        PTR_TO_BUF,
        PTR_TO_BTF_ID | PTR_TRUSTED,
    ];
    match base {
        Base::PtrToMapKey | Base::PtrToMapValue | Base::PtrToMem => MEM,
        Base::ConstSize | Base::ConstSizeOrZero | Base::ConstAllocSizeOrZero => &[SCALAR_VALUE],
        Base::ConstMapPtr => &[CONST_PTR_TO_MAP],
        Base::PtrToCtx => &[PTR_TO_CTX],
        Base::PtrToSpinLock => &[PTR_TO_MAP_VALUE, PTR_TO_BTF_ID | MEM_ALLOC],
        Base::PtrToTimer => &[PTR_TO_MAP_VALUE],
        Base::PtrToRingbufMem => &[PTR_TO_MEM | MEM_RINGBUF],
        Base::PtrToFunc => &[PTR_TO_FUNC],
        Base::PtrToStack => &[PTR_TO_STACK],
        Base::KptrXchgDest => &[
            PTR_TO_MAP_VALUE,
            PTR_TO_BTF_ID | MEM_ALLOC,
            PTR_TO_BTF_ID | MEM_ALLOC | NON_OWN_REF,
            PTR_TO_BTF_ID | MEM_ALLOC | NON_OWN_REF | MEM_RCU,
        ],
        Base::PtrToBtfId => &[PTR_TO_BTF_ID, PTR_TO_BTF_ID | PTR_TRUSTED, PTR_TO_BTF_ID | MEM_RCU],
        Base::PtrToDynptr => &[PTR_TO_STACK, CONST_PTR_TO_DYNPTR],
        Base::DontCare | Base::Anything => &[],
    }
}

/// Mirrors `check_reg_type()`.
fn check_reg_type(
    env: &mut Env<'_>,
    regno: usize,
    base: Base,
    flags: u32,
    arg_btf: Option<&'static str>,
    meta: &CallArgMeta,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let mut t = reg.ty;
    if flags & MEM_RDONLY != 0 {
        t &= !MEM_RDONLY;
    }
    if flags & PTR_MAYBE_NULL != 0 {
        t &= !PTR_MAYBE_NULL;
    }
    if base == Base::PtrToMem {
        t &= !DYNPTR_TYPE_FLAG_MASK;
    }
    // Local kptrs may be the source argument of bpf_kptr_xchg().
    if meta.func_id == BPF_FUNC_KPTR_XCHG && t & MEM_ALLOC != 0 && regno == 2 {
        t &= !(MEM_ALLOC | MEM_PERCPU);
    }
    let list = compatible(base);
    if !list.contains(&t) {
        verbose!(env.log, "R{regno} type={} expected=", reg_type_str(reg.ty));
        let names: Vec<String> = list.iter().map(|&x| reg_type_str(x)).collect();
        let msg = format!("R{regno} type={} expected={}", reg_type_str(reg.ty), names.join(", "));
        verbose!(env.log, "{}\n", names.join(", "));
        return Err(env.rejected(Errno::Acces, msg));
    }
    if base_type(reg.ty) != PTR_TO_BTF_ID {
        return Ok(());
    }
    if list.len() == 9 {
        if flags & MEM_RDONLY == 0 {
            let name = kfvm_isa::disasm::helper_name(meta.func_id).unwrap_or("unknown");
            return Err(env.reject(
                Errno::Acces,
                format!("{name}() may write into memory pointed by R{regno} type={}", reg_type_str(reg.ty)),
            ));
        }
        return Ok(());
    }
    let release = flags & OBJ_RELEASE != 0;
    match reg.ty {
        t if t == PTR_TO_BTF_ID
            || t == PTR_TO_BTF_ID | PTR_TRUSTED
            || t == PTR_TO_BTF_ID | PTR_TRUSTED | PTR_MAYBE_NULL
            || t == PTR_TO_BTF_ID | MEM_RCU
            || t == PTR_TO_BTF_ID | PTR_MAYBE_NULL
            || t == PTR_TO_BTF_ID | PTR_MAYBE_NULL | MEM_RCU =>
        {
            if type_may_be_null(reg.ty) && (flags & PTR_MAYBE_NULL == 0 || release) {
                return Err(
                    env.reject(Errno::Acces, format!("Possibly NULL pointer passed to helper arg{regno}"))
                );
            }
            if meta.func_id == BPF_FUNC_KPTR_XCHG {
                let Some(k) = meta.kptr_field else {
                    return Err(env.verifier_bug("bpf_kptr_xchg without its kptr field"));
                };
                return crate::btf_access::map_kptr_match_type(env, &k, regno);
            }
            let Some(need) = arg_btf else {
                return Err(env.verifier_bug("missing arg compatible BTF ID"));
            };
            let btf = env.kernel_btf("helper arguments of BTF types")?;
            let Some(need_id) = btf.find_by_name_kind(need, kfvm_btf::Kind::Struct).map(|t| t.id()) else {
                return Err(VerifyError::Unsupported(format!("the kernel BTF has no struct {need}")));
            };
            let strict = release;
            if !crate::btf_access::btf_struct_ids_match(
                env,
                reg.btf,
                reg.btf_id,
                reg.off,
                BTF_VMLINUX,
                need_id,
                strict,
            ) {
                let have = env.btf_type_name(reg.btf, reg.btf_id);
                return Err(
                    env.reject(Errno::Acces, format!("R{regno} is of type {have} but {need} is expected"))
                );
            }
            Ok(())
        }
        t if t == PTR_TO_BTF_ID | MEM_ALLOC || t == PTR_TO_BTF_ID | MEM_PERCPU | MEM_ALLOC => {
            if meta.func_id == BPF_FUNC_KPTR_XCHG && regno == 2 {
                let Some(k) = meta.kptr_field else {
                    return Err(env.verifier_bug("bpf_kptr_xchg without its kptr field"));
                };
                return crate::btf_access::map_kptr_match_type(env, &k, regno);
            }
            Ok(())
        }
        _ => Err(env.verifier_bug("invalid PTR_TO_BTF_ID register for type match")),
    }
}

/// `BPF_FUNC_kptr_xchg`.
const BPF_FUNC_KPTR_XCHG: i32 = 194;

/// Mirrors `check_func_arg_reg_off()`.
pub fn check_func_arg_reg_off(env: &mut Env<'_>, regno: usize, flags: u32) -> Result<()> {
    let reg = env.reg(regno).clone();
    if flags & OBJ_RELEASE != 0 && !reg.var_off_is_zero() {
        return Err(env.reject(
            Errno::Inval,
            format!("R{regno} must have zero offset when passed to release func or trusted arg to kfunc"),
        ));
    }
    if flags & OBJ_RELEASE != 0 && reg.off != 0 {
        return Err(env.reject(
            Errno::Inval,
            format!("R{regno} must have zero offset when passed to release func or trusted arg to kfunc"),
        ));
    }
    match reg.ty {
        PTR_TO_STACK | PTR_TO_PACKET | PTR_TO_PACKET_META | PTR_TO_MAP_KEY | PTR_TO_MAP_VALUE
        | PTR_TO_MEM | PTR_TO_ARENA | SCALAR_VALUE => Ok(()),
        t if t == PTR_TO_MEM | MEM_RDONLY
            || t == PTR_TO_MEM | MEM_RINGBUF
            || t == PTR_TO_BUF
            || t == PTR_TO_BUF | MEM_RDONLY =>
        {
            Ok(())
        }
        t if base_type(t) == PTR_TO_BTF_ID => check_ptr_off_reg(env, &reg, regno, true),
        _ => check_ptr_off_reg(env, &reg, regno, false),
    }
}

/// Mirrors `check_func_arg()`.
fn check_func_arg(env: &mut Env<'_>, arg: usize, meta: &mut CallArgMeta, fnp: &FuncProto) -> Result<()> {
    let regno = arg + 1;
    let (base, flags) = kernel_arg(fnp.args[arg]);
    if base == Base::DontCare {
        return Ok(());
    }
    env.check_reg_arg(regno, RegArg::Src)?;
    if base == Base::Anything {
        if env.is_pointer_value(regno) {
            return Err(env.reject(Errno::Acces, format!("R{regno} leaks addr into helper function")));
        }
        return Ok(());
    }
    let reg = env.reg(regno).clone();
    if type_is_pkt_pointer(reg.ty) && !crate::mem::may_access_direct_pkt_data(env, Some(meta), Access::Read) {
        return Err(env.reject(Errno::Acces, "helper access to the packet is not allowed"));
    }
    let skip_type_check = reg.is_null() && flags & PTR_MAYBE_NULL != 0;
    if !skip_type_check {
        let arg_btf = match fnp.args[arg] {
            ArgType::PtrToBtfId(n) => Some(n),
            _ => None,
        };
        check_reg_type(env, regno, base, flags, arg_btf, meta)?;
        // A released dynptr on the stack may sit at any offset: the stack pointer is not the
        // object released.
        if !(base == Base::PtrToDynptr && flags & OBJ_RELEASE != 0 && reg.ty == PTR_TO_STACK) {
            check_func_arg_reg_off(env, regno, flags)?;
        }
    }
    if flags & OBJ_RELEASE != 0 {
        if base == Base::PtrToDynptr {
            // Only a dynptr on the stack can be released.
            if reg.ty != PTR_TO_STACK {
                return Err(env.reject(Errno::Inval, "cannot release unowned const bpf_dynptr"));
            }
            let held = match crate::dynptr::dynptr_get_spi(env, &reg) {
                Ok(spi) => env.cur.frame[reg.frameno as usize].stack[spi].spilled_ptr.ref_obj_id != 0,
                Err(_) => false,
            };
            if !held {
                return Err(env.reject(Errno::Inval, format!("arg {regno} is an unacquired reference")));
            }
        } else if reg.ref_obj_id == 0 && !reg.is_null() {
            return Err(env.reject(
                Errno::Inval,
                format!("R{regno} must be referenced when passed to release function"),
            ));
        }
        if meta.release_regno != 0 {
            return Err(env.verifier_bug("more than one release argument"));
        }
        meta.release_regno = regno;
    }
    if reg.ref_obj_id != 0 && base != Base::KptrXchgDest {
        if meta.ref_obj_id != 0 {
            let msg =
                format!("more than one arg with ref_obj_id R{regno} {} {}", reg.ref_obj_id, meta.ref_obj_id);
            verbose!(env.log, "{msg}");
            return Err(env.rejected(Errno::Acces, msg));
        }
        meta.ref_obj_id = reg.ref_obj_id;
    }
    match base {
        Base::ConstMapPtr => {
            if meta.map != 0 && (meta.map != reg.map || meta.map_uid != reg.map_uid) {
                return Err(env.reject(
                    Errno::Inval,
                    format!(
                        "timer pointer in R1 map_uid={} doesn't match map pointer in R2 map_uid={}",
                        meta.map_uid, reg.map_uid
                    ),
                ));
            }
            meta.map = reg.map;
            meta.map_uid = reg.map_uid;
        }
        Base::PtrToMapKey => {
            if meta.map == 0 {
                return Err(env.verifier_bug("invalid map_ptr to access map->key"));
            }
            let ks = env.map(meta.map).key_size;
            check_helper_mem_access(env, regno, ks as i32, Access::Read, false, None)?;
            let mt = env.map(meta.map).map_type;
            meta.const_map_key = -1;
            if can_elide_value_nullness(mt) {
                if let Some(v) = get_constant_map_key(env, regno, ks)? {
                    meta.const_map_key = v;
                }
            }
        }
        Base::PtrToMapValue => {
            if flags & PTR_MAYBE_NULL != 0 && reg.is_null() {
                return Ok(());
            }
            if meta.map == 0 {
                return Err(env.verifier_bug("invalid map_ptr to access map->value"));
            }
            meta.raw_mode = flags & MEM_UNINIT != 0;
            let vs = env.map(meta.map).value_size;
            let t = if flags & MEM_WRITE != 0 { Access::Write } else { Access::Read };
            check_helper_mem_access(env, regno, vs as i32, t, false, Some(meta))?;
        }
        Base::PtrToTimer => process_timer_func(env, regno, meta)?,
        Base::PtrToSpinLock => {
            let lock = meta.func_id == 93;
            process_spin_lock(env, regno, lock)?;
        }
        Base::PtrToFunc => meta.subprogno = reg.subprogno,
        Base::PtrToMem => {
            meta.raw_mode = flags & MEM_UNINIT != 0;
        }
        Base::ConstSize | Base::ConstSizeOrZero => {
            let (_, pflags) = kernel_arg(fnp.args[arg - 1]);
            let t = if pflags & MEM_WRITE != 0 { Access::Write } else { Access::Read };
            check_mem_size_reg(env, regno, t, base == Base::ConstSizeOrZero, meta)?;
        }
        Base::ConstAllocSizeOrZero => {
            if !reg.s.var_off.is_const() {
                return Err(env.reject(Errno::Acces, format!("R{regno} is not a known constant'")));
            }
            meta.mem_size = reg.s.var_off.value;
            mark_chain_precision(env, regno as i32)?;
        }
        Base::PtrToDynptr => {
            let insn_idx = env.insn_idx;
            crate::dynptr::process_dynptr_func(env, regno, insn_idx, crate::dynptr::DynptrArgType(flags), 0)?;
        }
        Base::KptrXchgDest => {
            meta.kptr_field = Some(crate::btf_access::process_kptr_func(env, regno)?);
        }
        _ => {}
    }
    Ok(())
}

/// Mirrors `can_elide_value_nullness()`.
fn can_elide_value_nullness(t: u32) -> bool {
    matches!(t, map_type::ARRAY | map_type::PERCPU_ARRAY)
}

/// Mirrors `get_constant_map_key()`: the key, when it is a constant spilled on the stack.
fn get_constant_map_key(env: &mut Env<'_>, regno: usize, key_size: u32) -> Result<Option<i64>> {
    let key = env.reg(regno).clone();
    if !env.bpf_capable || key.ty != PTR_TO_STACK || !key.s.var_off.is_const() {
        return Ok(None);
    }
    let fr = key.frameno as usize;
    let stack_off = key.s.var_off.value as i64 + key.off as i64;
    let slot_i = (-stack_off - 1) as usize;
    let spi = slot_i / 8;
    let off = slot_i % 8;
    let st = env.cur.frame[fr].stack[spi].clone();
    let mut zero_size = 0;
    let mut i = off as i64;
    while i >= 0 && st.slot_type[i as usize] == slot::ZERO {
        zero_size += 1;
        i -= 1;
    }
    if zero_size >= key_size {
        return Ok(Some(0));
    }
    if !st.is_spilled_scalar_reg() {
        return Ok(None);
    }
    let mut spill_size = 0;
    let mut i = off as i64;
    while i >= 0 && st.slot_type[i as usize] == slot::SPILL {
        spill_size += 1;
        i -= 1;
    }
    if spill_size != key_size {
        return Ok(None);
    }
    let r = &st.spilled_ptr;
    if !r.s.var_off.is_const() {
        return Ok(None);
    }
    env.bt.set_frame_slot(fr, spi);
    crate::precision::mark_chain_precision_batch(env)?;
    Ok(Some(r.s.var_off.value as i64))
}

/// Mirrors `process_timer_func()` with `check_map_field_pointer()`: the argument is the map
/// value's `struct bpf_timer`, and its map becomes the call's map.
fn process_timer_func(env: &mut Env<'_>, regno: usize, meta: &mut CallArgMeta) -> Result<()> {
    let reg = env.reg(regno).clone();
    if !reg.s.var_off.is_const() {
        return Err(env.reject(
            Errno::Inval,
            format!("R{regno} doesn't have constant offset. bpf_timer has to be at the constant offset"),
        ));
    }
    let map = env.map(reg.map).clone();
    if !map.btf() {
        return Err(
            env.reject(Errno::Inval, format!("map '{}' has to have BTF in order to use bpf_timer", map.name))
        );
    }
    let Some(timer_off) = map.record.timer_off else {
        return Err(env.reject(Errno::Inval, format!("map '{}' has no valid bpf_timer", map.name)));
    };
    let at = reg.s.var_off.value as i64 + reg.off as i64;
    if at != timer_off as i64 {
        return Err(env.reject(
            Errno::Inval,
            format!("off {at} doesn't point to 'struct bpf_timer' that is at {timer_off}"),
        ));
    }
    if meta.map != 0 {
        return Err(env.verifier_bug("Two map pointers in a timer helper"));
    }
    meta.map_uid = reg.map_uid;
    meta.map = reg.map;
    Ok(())
}

/// Mirrors `process_spin_lock()` for `bpf_spin_lock`/`bpf_spin_unlock`.
fn process_spin_lock(env: &mut Env<'_>, regno: usize, is_lock: bool) -> Result<()> {
    let reg = env.reg(regno).clone();
    if !reg.s.var_off.is_const() {
        return Err(env.reject(
            Errno::Inval,
            format!("R{regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset"),
        ));
    }
    // The lock's identity: the map, or the BTF object of an allocated object (with the
    // register's id telling objects apart).
    let (lock_off, ptr) = if reg.ty == PTR_TO_MAP_VALUE {
        let map = env.map(reg.map).clone();
        if !map.btf() {
            return Err(env.reject(
                Errno::Inval,
                format!("map '{}' has to have BTF in order to use bpf_spin_lock", map.name),
            ));
        }
        let Some(lock_off) = map.record.spin_lock_off else {
            return Err(env.reject(Errno::Inval, format!("map '{}' has no valid bpf_spin_lock", map.name)));
        };
        (lock_off, reg.map as u64)
    } else {
        // PTR_TO_BTF_ID | MEM_ALLOC (check_reg_type() let nothing else through).
        let lock_off = env.btf_obj(reg.btf).and_then(|b| crate::obj::alloc_obj_spin_lock_off(b, reg.btf_id));
        let Some(lock_off) = lock_off else {
            return Err(env.reject(Errno::Inval, "local 'kptr' has no valid bpf_spin_lock"));
        };
        (lock_off, (1 << 32) | reg.btf as u64)
    };
    let at = reg.s.var_off.value as i64 + reg.off as i64;
    if lock_off as i64 != at {
        return Err(env.reject(
            Errno::Inval,
            format!("off {at} doesn't point to 'struct bpf_spin_lock' that is at {lock_off}"),
        ));
    }
    if is_lock {
        if env.cur.active_locks != 0 && env.cur.refs.iter().any(|r| r.ty == RefType::Lock) {
            return Err(env.reject(Errno::Inval, "Locking two bpf_spin_locks are not allowed"));
        }
        let insn_idx = env.insn_idx;
        env.cur.refs.push(RefState { ty: RefType::Lock, id: reg.id, insn_idx, ptr });
        env.cur.active_locks += 1;
        env.cur.active_lock_id = reg.id;
        env.cur.active_lock_ptr = ptr;
    } else {
        if env.cur.active_locks == 0 {
            return Err(env.reject(Errno::Inval, "bpf_spin_unlock without taking a lock"));
        }
        let pos = env.cur.refs.iter().position(|r| r.ty == RefType::Lock && r.id == reg.id && r.ptr == ptr);
        let Some(pos) = pos else {
            return Err(env.reject(Errno::Inval, "bpf_spin_unlock of different lock"));
        };
        if reg.id != env.cur.active_lock_id || ptr != env.cur.active_lock_ptr {
            return Err(env.reject(Errno::Inval, "bpf_spin_unlock cannot be out of order"));
        }
        env.cur.refs.remove(pos);
        env.cur.active_locks -= 1;
        let last = env
            .cur
            .refs
            .iter()
            .rev()
            .find(|r| matches!(r.ty, RefType::Lock | RefType::ResLock | RefType::ResLockIrq))
            .copied();
        env.cur.active_lock_id = last.map_or(0, |r| r.id);
        env.cur.active_lock_ptr = last.map_or(0, |r| r.ptr);
    }
    Ok(())
}

/// Mirrors `acquire_reference()`: a new reference id held by the current state.
pub fn acquire_reference(env: &mut Env<'_>, insn_idx: u32) -> u32 {
    let id = env.new_id();
    env.cur.refs.push(RefState { ty: RefType::Ptr, id, insn_idx, ptr: 0 });
    id
}

/// Mirrors `release_reference_nomark()`.
pub fn release_reference_nomark(st: &mut VerifierState, ref_obj_id: u32) -> bool {
    if let Some(i) = st.refs.iter().position(|r| r.ty == RefType::Ptr && r.id == ref_obj_id) {
        st.refs.remove(i);
        true
    } else {
        false
    }
}

/// Mirrors `release_reference()`: the reference is gone and every register holding it is
/// invalid.
pub fn release_reference(env: &mut Env<'_>, ref_obj_id: u32) -> bool {
    if !release_reference_nomark(&mut env.cur, ref_obj_id) {
        return false;
    }
    let (leaks, cap) = (env.allow_ptr_leaks, env.bpf_capable);
    env.cur.for_each_reg(|_, r| {
        if r.ref_obj_id == ref_obj_id {
            if leaks {
                r.mark_unknown(cap);
            } else {
                r.mark_not_init(cap);
            }
        }
    });
    true
}

/// Mirrors `destroy_if_dynptr_stack_slot()` ([`crate::dynptr::destroy_if_dynptr_stack_slot`]).
pub fn destroy_if_dynptr_stack_slot(env: &mut Env<'_>, fr: usize, spi: usize) -> Result<()> {
    crate::dynptr::destroy_if_dynptr_stack_slot(env, fr, spi)
}

/// Mirrors `clear_all_pkt_pointers()`.
fn clear_all_pkt_pointers(env: &mut Env<'_>) {
    let (leaks, cap) = (env.allow_ptr_leaks, env.bpf_capable);
    env.cur.for_each_reg(|_, r| {
        if type_is_pkt_pointer(r.ty) || r.ty == PTR_TO_PACKET_END {
            if leaks {
                r.mark_unknown(cap);
            } else {
                r.mark_not_init(cap);
            }
        }
    });
}

/// Mirrors `check_map_func_compatibility()` for the map types and helpers kfvm knows.
fn check_map_func_compatibility(env: &mut Env<'_>, map: u32, func_id: i32) -> Result<()> {
    if map == 0 {
        return Ok(());
    }
    let m = env.map(map).clone();
    let ok_map_side = match m.map_type {
        map_type::PROG_ARRAY => func_id == 12,
        map_type::PERF_EVENT_ARRAY => matches!(func_id, 22 | 25 | 55 | 111 | 121),
        map_type::RINGBUF => matches!(func_id, 130 | 131 | 134 | 198 | 199 | 200),
        map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS => func_id == 1,
        map_type::QUEUE | map_type::STACK => matches!(func_id, 87..=89),
        map_type::BLOOM_FILTER => matches!(func_id, 87 | 89),
        _ => true,
    };
    let ok_func_side = match func_id {
        12 => m.map_type == map_type::PROG_ARRAY,
        130 | 131 | 134 | 198 | 199 | 200 => m.map_type == map_type::RINGBUF,
        88 => matches!(m.map_type, map_type::QUEUE | map_type::STACK),
        87 | 89 => matches!(m.map_type, map_type::QUEUE | map_type::STACK | map_type::BLOOM_FILTER),
        _ => true,
    };
    if !ok_map_side || !ok_func_side {
        let name = kfvm_isa::disasm::helper_name(func_id).unwrap_or("unknown");
        return Err(env.reject(
            Errno::Inval,
            format!("cannot pass map_type {} into func {name}#{func_id}", m.map_type),
        ));
    }
    Ok(())
}

/// Mirrors `check_helper_call()`.
pub fn check_helper_call(env: &mut Env<'_>, insn: RawInsn, insn_idx: &mut u32) -> Result<()> {
    let func_id = insn.imm;
    let name = kfvm_isa::disasm::helper_name(func_id).unwrap_or("unknown");
    if !(0..BPF_FUNC_MAX_ID).contains(&func_id) || func_id == 0 {
        return Err(env.reject(Errno::Inval, format!("invalid func {name}#{func_id}")));
    }
    let Some(fnp) = helpers::proto_of(func_id).copied() else {
        return Err(VerifyError::Unsupported(format!("helper {name}#{func_id} is not modelled")));
    };
    if !helpers::allowed(env.opts.prog_type, func_id, env.opts.perfmon) {
        return Err(
            env.reject(Errno::Inval, format!("program of this type cannot use helper {name}#{func_id}"))
        );
    }
    let mut meta = CallArgMeta { pkt_access: fnp.pkt_access, func_id, ..Default::default() };
    for i in 0..5 {
        check_func_arg(env, i, &mut meta, &fnp)?;
    }
    // record_func_map(): read-only maps.
    if matches!(func_id, 2 | 3 | 87 | 88)
        && meta.map != 0
        && env.map(meta.map).map_flags & BPF_F_RDONLY_PROG != 0
    {
        return Err(env.reject(Errno::Acces, "write into map forbidden"));
    }
    for i in 0..meta.access_size {
        let idx = *insn_idx as usize;
        crate::mem::check_mem_access(env, idx, meta.regno, i, 0x10, Access::Write, -1, false, false)?;
    }
    if meta.release_regno != 0 {
        let release_arg = kernel_arg(fnp.args[meta.release_regno - 1]).0;
        let ok = if release_arg == Base::PtrToDynptr {
            // Only a dynptr on the stack gets here (check_func_arg()).
            let reg = env.reg(meta.release_regno).clone();
            crate::dynptr::unmark_stack_slots_dynptr(env, &reg).is_ok()
        } else if meta.ref_obj_id != 0 && func_id == BPF_FUNC_KPTR_XCHG {
            // The reference moves into the map: release_reference_nomark(), then every copy is
            // invalid (mark_reg_invalid()), but for a per-CPU object inside an RCU read section,
            // which stays readable as an RCU pointer.
            let id = meta.ref_obj_id;
            let in_rcu = env.in_rcu_cs();
            let (leaks, cap) = (env.allow_ptr_leaks, env.bpf_capable);
            let ok = release_reference_nomark(&mut env.cur, id);
            if ok {
                env.cur.for_each_reg(|_, r| {
                    if r.ref_obj_id != id {
                        return;
                    }
                    if in_rcu && r.ty & MEM_ALLOC != 0 && r.ty & MEM_PERCPU != 0 {
                        r.ref_obj_id = 0;
                        r.ty &= !MEM_ALLOC;
                        r.ty |= MEM_RCU;
                    } else if leaks {
                        r.mark_unknown(cap);
                    } else {
                        r.mark_not_init(cap);
                    }
                });
            }
            ok
        } else if meta.ref_obj_id != 0 {
            release_reference(env, meta.ref_obj_id)
        } else {
            env.reg(meta.release_regno).is_null()
        };
        if !ok {
            return Err(env.reject(
                Errno::Inval,
                format!("func {name}#{func_id} reference has not been acquired before"),
            ));
        }
    }
    // The dynptr a slice comes from (bpf_dynptr_data) and whether a write goes to a packet.
    let (mut dynptr_id, mut changes_data) = (0, false);
    if matches!(func_id, 202 | 203) {
        let Some(i) = fnp.args.iter().position(|a| matches!(a, ArgType::PtrToDynptr(_))) else {
            return Err(env.verifier_bug("no dynptr arg found"));
        };
        let reg = env.reg(i + 1).clone();
        if func_id == 203 {
            if meta.ref_obj_id != 0 {
                return Err(env.verifier_bug("meta.ref_obj_id already set"));
            }
            dynptr_id = crate::dynptr::dynptr_id(env, &reg).unwrap_or(0);
            meta.ref_obj_id = crate::dynptr::dynptr_ref_obj_id(env, &reg).unwrap_or(0);
        } else {
            let t = crate::dynptr::dynptr_get_type(env, &reg);
            if t == DynptrType::Invalid {
                return Err(env.rejected(Errno::Fault, "invalid dynptr type"));
            }
            // Invalidates every packet pointer, and the slices of skb dynptrs with them.
            changes_data = matches!(t, DynptrType::Skb | DynptrType::SkbMeta);
        }
    }
    match func_id {
        12 => env.check_resource_leak(false, true, "tail_call")?,
        197 => {
            let r1 = env.reg(1).clone();
            if r1.ty != PTR_TO_MAP_VALUE {
                let t = env.reg_type_name(&r1);
                return Err(env
                    .reject(Errno::Acces, format!("Unsupported reg type {t} for bpf_dynptr_from_mem data")));
            }
        }
        164 => {
            let cb = CallbackState::MapElem { map: meta.map };
            push_callback_call(env, *insn_idx, meta.subprogno as usize, cb)?;
        }
        170 => push_async_cb(env, *insn_idx, meta.subprogno as usize)?,
        181 => {
            update_loop_inline_state(env, meta.subprogno);
            // The iteration count decides when bpf_loop() iteration ends: mark it precise.
            crate::precision::mark_chain_precision(env, 1)?;
            let depth = env.cur.cur().callback_depth;
            if (depth as u64) < env.reg(1).s.umax_value {
                push_callback_call(env, *insn_idx, meta.subprogno as usize, CallbackState::Loop)?;
            } else {
                env.cur.cur_mut().callback_depth = 0;
                if env.log.level2() {
                    let f = env.cur.curframe();
                    verbose!(env.log, "frame{f} bpf_loop iteration limit reached\n");
                }
            }
        }
        _ => {}
    }
    for r in 0..6 {
        env.mark_reg_not_init(r);
        env.check_reg_arg(r, RegArg::DstNoMark)?;
    }
    let mut id_for_spin = false;
    match fnp.ret {
        RetType::Integer => env.mark_reg_unknown(0),
        RetType::Void => env.reg_mut(0).ty = NOT_INIT,
        RetType::PtrToMapValueOrNull => {
            env.reg_mut(0).mark_known_zero();
            if meta.map == 0 {
                return Err(env.verifier_bug("unexpected null map_ptr"));
            }
            let m = env.map(meta.map).clone();
            let mut flag = PTR_MAYBE_NULL;
            if func_id == 1
                && can_elide_value_nullness(m.map_type)
                && meta.const_map_key >= 0
                && meta.const_map_key < m.max_entries as i64
            {
                flag = 0;
            }
            if m.inner.is_some() {
                return Err(VerifyError::Unsupported("maps of maps".into()));
            }
            let r = env.reg_mut(0);
            r.map = meta.map;
            r.map_uid = meta.map_uid;
            r.ty = PTR_TO_MAP_VALUE | flag;
            if flag == 0 && m.record.spin_lock_off.is_some() {
                id_for_spin = true;
            }
        }
        RetType::PtrToRingbufMemOrNull => {
            env.reg_mut(0).mark_known_zero();
            let r = env.reg_mut(0);
            r.ty = PTR_TO_MEM | MEM_RINGBUF | PTR_MAYBE_NULL;
            r.mem_size = meta.mem_size as u32;
        }
        RetType::PtrToBtfIdTrusted(tname) | RetType::PtrToBtfId(tname) => {
            // RET_PTR_TO_BTF_ID (| PTR_TRUSTED): the type is the helper's ret_btf_id in vmlinux.
            let btf = env.kernel_btf(fnp.name)?;
            let Some(t) = btf.find_by_name_kind(tname, kfvm_btf::Kind::Struct) else {
                return Err(
                    env.reject(Errno::Inval, format!("invalid return type 0 of func {name}#{func_id}"))
                );
            };
            let id = t.id();
            let r = env.reg_mut(0);
            r.mark_known_zero();
            r.ty = PTR_TO_BTF_ID;
            if matches!(fnp.ret, RetType::PtrToBtfIdTrusted(_)) {
                r.ty |= PTR_TRUSTED;
            }
            r.btf = BTF_VMLINUX;
            r.btf_id = id;
        }
        RetType::PtrToDynptrMemOrNull => {
            // RET_PTR_TO_MEM | PTR_MAYBE_NULL, of the size asked for.
            let r = env.reg_mut(0);
            r.mark_known_zero();
            r.ty = PTR_TO_MEM | PTR_MAYBE_NULL;
            r.mem_size = meta.mem_size as u32;
        }
        RetType::PtrToBtfIdOrNullFromKptr => {
            let Some(k) = meta.kptr_field else {
                return Err(env.verifier_bug(format!("func {name}#{func_id}: ret_btf_id is PTR_POISON")));
            };
            let r = env.reg_mut(0);
            r.mark_known_zero();
            r.ty = PTR_TO_BTF_ID | PTR_MAYBE_NULL;
            if k.btf != BTF_VMLINUX {
                r.ty |= MEM_ALLOC;
                if k.percpu {
                    r.ty |= MEM_PERCPU;
                }
            }
            r.btf = k.btf;
            r.btf_id = k.btf_id;
        }
    }
    if id_for_spin {
        let id = env.new_id();
        env.reg_mut(0).id = id;
    }
    if type_may_be_null(env.reg(0).ty) {
        let id = env.new_id();
        env.reg_mut(0).id = id;
    }
    if func_id == 203 {
        // is_dynptr_ref_function(): the slice belongs to the dynptr (and to its reference, so
        // that releasing the dynptr invalidates it).
        let r = env.reg_mut(0);
        r.dynptr_id = dynptr_id;
        r.ref_obj_id = meta.ref_obj_id;
    }
    if func_id == 131 || func_id == BPF_FUNC_KPTR_XCHG {
        // is_acquire_function(): bpf_ringbuf_reserve, bpf_kptr_xchg.
        let id = acquire_reference(env, *insn_idx);
        let r = env.reg_mut(0);
        r.id = id;
        r.ref_obj_id = id;
    }
    // do_refine_retval_range()
    if fnp.ret == RetType::Integer {
        match func_id {
            114 | 115 | 45 => {
                let r = env.reg_mut(0);
                r.s.smax_value = meta.msize_max_value as i64;
                r.s.s32_max_value = meta.msize_max_value as i32;
                r.s.smin_value = -MAX_ERRNO;
                r.s.s32_min_value = -MAX_ERRNO as i32;
                r.s.reg_bounds_sync();
            }
            8 => {
                let max = env.opts_nr_cpu_ids() - 1;
                let r = env.reg_mut(0);
                r.s.umax_value = max as u64;
                r.s.u32_max_value = max;
                r.s.smax_value = max as i64;
                r.s.s32_max_value = max as i32;
                r.s.umin_value = 0;
                r.s.u32_min_value = 0;
                r.s.smin_value = 0;
                r.s.s32_min_value = 0;
                r.s.reg_bounds_sync();
            }
            _ => {}
        }
        crate::alu::reg_bounds_sanity_check(env, 0, "retval");
    }
    check_map_func_compatibility(env, meta.map, func_id)?;
    if helper_changes_pkt_data(func_id) || changes_data {
        clear_all_pkt_pointers(env);
    }
    let _ = check_map_access;
    let _ = AccessSrc::Direct;
    Ok(())
}

/// Mirrors `bpf_helper_changes_pkt_data()` for the helpers kfvm knows.
fn helper_changes_pkt_data(_func_id: i32) -> bool {
    false
}

impl Env<'_> {
    /// `nr_cpu_ids` of the modelled machine.
    pub fn opts_nr_cpu_ids(&self) -> u32 {
        self.nr_cpu_ids
    }
}

/// Mirrors `loop_flag_is_zero()` and `update_loop_inline_state()`: while the call can be
/// inlined, a zero `flags` argument is marked precise.
fn update_loop_inline_state(env: &mut Env<'_>, subprogno: u32) {
    let idx = env.insn_idx as usize;
    let (initialized, fit, sp) = env.aux[idx].loop_inline_state;
    let flag_is_zero = |env: &mut Env<'_>| {
        let z = env.reg(4).is_null();
        if z {
            let _ = crate::precision::mark_chain_precision(env, 4);
        }
        z
    };
    if !initialized {
        let f = flag_is_zero(env);
        env.aux[idx].loop_inline_state = (true, f, subprogno);
        return;
    }
    if !fit {
        return;
    }
    let f = flag_is_zero(env) && sp == subprogno;
    env.aux[idx].loop_inline_state.1 = f;
}

/// The `set_callee_state_fn` of a synchronous callback: how the callee's registers come from
/// the caller's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CallbackState {
    /// `set_loop_callback_state()` (`bpf_loop`).
    Loop,
    /// `set_map_elem_callback_state()` (`bpf_for_each_map_elem` over `map`).
    MapElem { map: u32 },
}

/// Mirrors `push_callback_call()` for synchronous callbacks: queues a visit of the callback (a
/// new frame over a copy of the current state, set up by `cb`) and goes on after the call.
fn push_callback_call(env: &mut Env<'_>, insn_idx: u32, subprog: usize, cb: CallbackState) -> Result<()> {
    crate::btf_func::btf_check_subprog_call(env, subprog)?;
    // set_map_elem_callback_state(): only maps with map_for_each_callback.
    if let CallbackState::MapElem { map } = cb {
        if map == 0 {
            return Err(env.verifier_bug("for_each_map_elem without a map"));
        }
        let mt = env.map(map).map_type;
        let for_each = matches!(
            mt,
            map_type::HASH
                | map_type::ARRAY
                | map_type::PERCPU_HASH
                | map_type::PERCPU_ARRAY
                | map_type::LRU_HASH
                | map_type::LRU_PERCPU_HASH
        );
        if !for_each {
            return Err(env.reject(Errno::NotSupp, "callback function not allowed for map"));
        }
    }
    let start = env.subprogs[subprog].start as u32;
    let si = env.push_stack(start, insn_idx as i32, false)?;
    // setup_func_entry() on the queued state.
    let cf = env.stack[si].st.curframe();
    if cf + 1 >= MAX_CALL_FRAMES {
        return Err(env.reject(Errno::TooBig, format!("the call stack of {} frames is too deep", cf + 2)));
    }
    let mut callee = env.init_func_state(insn_idx as i32, (cf + 1) as u32, subprog as u32);
    {
        let cap = env.bpf_capable;
        let caller = &env.stack[si].st.frame[cf];
        match cb {
            CallbackState::Loop => {
                callee.regs[1].ty = SCALAR_VALUE;
                callee.regs[2] = caller.regs[3].clone();
                for r in 3..=5 {
                    callee.regs[r].mark_not_init(cap);
                }
            }
            // map_set_for_each_callback_args(): (map, key, value, callback_ctx).
            CallbackState::MapElem { .. } => {
                callee.regs[1] = caller.regs[1].clone();
                for (r, ty) in [(2, PTR_TO_MAP_KEY), (3, PTR_TO_MAP_VALUE)] {
                    callee.regs[r].ty = ty;
                    callee.regs[r].mark_known_zero();
                    callee.regs[r].map = caller.regs[1].map;
                    callee.regs[r].map_uid = caller.regs[1].map_uid;
                }
                callee.regs[4] = caller.regs[3].clone();
                callee.regs[5].mark_not_init(cap);
            }
        }
        callee.in_callback_fn = true;
        callee.callback_ret_range = RetvalRange { minval: 0, maxval: 1 };
    }
    let st = &mut env.stack[si].st;
    st.frame.push(callee);
    st.callback_unroll_depth += 1;
    st.frame[cf].callback_depth += 1;
    env.cur.cur_mut().callback_depth = 0;
    Ok(())
}

/// Mirrors `push_callback_call()` for the asynchronous callback of `bpf_timer_set_callback()`
/// (`push_async_cb()` with `set_timer_callback_state()`): the callback is verified on its own
/// path, from a fresh state with one frame (map, key and value of the timer's map in R1-R3),
/// and must return 0.
fn push_async_cb(env: &mut Env<'_>, insn_idx: u32, subprog: usize) -> Result<()> {
    crate::btf_func::btf_check_subprog_call(env, subprog)?;
    let cf = env.cur.curframe();
    let (map, map_uid) = {
        let r1 = &env.cur.frame[cf].regs[1];
        (r1.map, r1.map_uid)
    };
    let async_entry_cnt = env.cur.frame[cf].async_entry_cnt + 1;
    let start = env.subprogs[subprog].start as u32;
    let mut f0 = env.init_func_state(BPF_MAIN_FUNC, 0, subprog as u32);
    f0.async_entry_cnt = async_entry_cnt;
    for (r, ty) in [(1, CONST_PTR_TO_MAP), (2, PTR_TO_MAP_KEY), (3, PTR_TO_MAP_VALUE)] {
        f0.regs[r].ty = ty;
        f0.regs[r].mark_known_zero();
        f0.regs[r].map = map;
        f0.regs[r].map_uid = map_uid;
    }
    let cap = env.bpf_capable;
    for r in 4..=5 {
        f0.regs[r].mark_not_init(cap);
    }
    f0.in_async_callback_fn = true;
    f0.callback_ret_range = RetvalRange { minval: 0, maxval: 0 };
    // Unlike push_stack(), the caller's state does not matter: the callback starts afresh (as
    // do_check_common() starts a program), not sleepable.
    let mut st = VerifierState::new(f0);
    st.last_insn_idx = 0;
    env.push_state(st, start, insn_idx as i32)?;
    Ok(())
}

/// `clear_caller_saved_regs()`.
fn clear_caller_saved_regs(env: &mut Env<'_>) -> Result<()> {
    for r in 0..6 {
        env.mark_reg_not_init(r);
        env.check_reg_arg(r, RegArg::DstNoMark)?;
    }
    Ok(())
}

/// Mirrors `check_func_call()`.
pub fn check_func_call(env: &mut Env<'_>, insn: RawInsn, insn_idx: &mut u32) -> Result<()> {
    let target = (*insn_idx as i64 + insn.imm as i64 + 1) as usize;
    let Some(subprog) = env.find_subprog(target) else {
        return Err(env.verifier_bug(format!("target of func call at insn {target} is not a program")));
    };
    let args_ok = crate::btf_func::btf_check_subprog_call(env, subprog)?;
    if env.subprog_is_global(subprog) {
        let name = env.subprog_name(subprog);
        if env.cur.active_locks != 0 {
            return Err(env.reject(
                Errno::Inval,
                "global function calls are not allowed while holding a lock,\nuse static function instead",
            ));
        }
        // Linux 6.18.44 lets global functions run in RCU, preempt-disabled and IRQ-disabled
        // sections unless they may sleep (`subprog_info[].might_sleep`).
        if crate::kfunc::subprog_might_sleep(env, subprog)
            && (env.cur.active_rcu_locks != 0
                || env.cur.active_preempt_locks != 0
                || env.cur.active_irq_id != 0
                || !env.cur.in_sleepable)
        {
            return Err(env.reject(
                Errno::Inval,
                "global functions that may sleep are not allowed in non-sleepable context,\n\
                 i.e., in a RCU/IRQ/preempt-disabled section, or in\n\
                 a non-sleepable BPF program context",
            ));
        }
        if !args_ok {
            let errno = env.func_info_aux.get_mut(subprog).and_then(|a| a.arg_errno.take());
            return Err(env.reject(
                errno.unwrap_or(Errno::Inval),
                format!("Caller passes invalid args into func#{subprog} ('{name}')"),
            ));
        }
        // The live kernel logs this at every level (no BPF_LOG_LEVEL test).
        verbose!(env.log, "Func#{subprog} ('{name}') is global and assumed valid.\n");
        env.func_info_aux[subprog].called = true;
        clear_caller_saved_regs(env)?;
        env.mark_reg_unknown(0);
        return Ok(());
    }
    let cf = env.cur.curframe();
    if cf + 1 >= MAX_CALL_FRAMES {
        return Err(env.reject(Errno::TooBig, format!("the call stack of {} frames is too deep", cf + 2)));
    }
    // setup_func_entry() with set_callee_state().
    let mut callee = env.init_func_state(*insn_idx as i32, (cf + 1) as u32, subprog as u32);
    for i in 1..=5 {
        callee.regs[i] = env.cur.frame[cf].regs[i].clone();
    }
    env.cur.frame.push(callee);
    // clear_caller_saved_regs()
    let cap = env.bpf_capable;
    for r in 0..6 {
        env.cur.frame[cf].regs[r].mark_not_init(cap);
        env.mark_reg_scratched(r);
    }
    *insn_idx = env.subprogs[subprog].start as u32 - 1;
    crate::liveness::bpf_reset_live_stack_callchain(env);
    if env.log.level12() {
        verbose!(env.log, "caller:\n");
        env.print_verifier_state(None, cf, true);
        verbose!(env.log, "callee:\n");
        env.print_verifier_state(None, cf + 1, true);
    }
    Ok(())
}

/// Mirrors `prepare_func_exit()`.
pub fn prepare_func_exit(env: &mut Env<'_>, insn_idx: &mut u32) -> Result<()> {
    let cf = env.cur.curframe();
    let r0 = env.cur.frame[cf].regs[0].clone();
    if r0.ty == PTR_TO_STACK {
        return Err(env.reject(Errno::Inval, "cannot return stack pointer to the caller"));
    }
    let in_callback_fn = env.cur.frame[cf].in_callback_fn;
    let callsite = env.cur.frame[cf].callsite;
    if in_callback_fn {
        if r0.ty != SCALAR_VALUE {
            return Err(env.reject(Errno::Acces, "R0 not a scalar value"));
        }
        crate::precision::mark_chain_precision(env, 0)?;
        let r0 = env.reg(0).clone();
        let range = env.cur.frame[cf].callback_ret_range;
        if !crate::check::retval_range_within(range, &r0, false) {
            env.verbose_invalid_scalar(&r0, range, "At callback return", "R0");
            return Err(env.rejected(Errno::Inval, "At callback return invalid return value"));
        }
        if !env.calls_callback(callsite as usize) {
            return Err(env
                .verifier_bug(format!("in callback at {}, callsite {callsite} !calls_callback", *insn_idx)));
        }
    } else {
        env.cur.frame[cf - 1].regs[0] = r0;
    }
    *insn_idx = if in_callback_fn { callsite as u32 } else { (callsite + 1) as u32 };
    if env.log.level12() {
        verbose!(env.log, "returning from callee:\n");
        env.print_verifier_state(None, cf, true);
        verbose!(env.log, "to caller at {}:\n", *insn_idx);
        env.print_verifier_state(None, cf - 1, true);
    }
    env.cur.frame.pop();
    if in_callback_fn {
        if let Some(prev) = crate::jmp::find_prev_entry(env, &env.cur, *insn_idx) {
            let old = env.states[prev].state.clone();
            let mut cur = env.cur.clone();
            crate::jmp::widen_imprecise_scalars(env, &old, &mut cur);
            env.cur = cur;
        }
    }
    Ok(())
}

/// Mirrors `check_max_stack_depth()`: the deepest chain of calls may use at most 512 bytes of
/// stack (each frame rounded up to 16 bytes, as for a JIT).
pub fn check_max_stack_depth(env: &mut Env<'_>) -> Result<()> {
    let depth_of = |d: u32| d.next_multiple_of(16);
    // Depth-first over the static call graph from the main function.
    fn walk(
        env: &Env<'_>,
        sp: usize,
        acc: u32,
        frames: usize,
        out: &mut Option<(u32, usize)>,
        seen: &mut Vec<usize>,
    ) {
        let d = env.subprogs[sp].stack_depth.next_multiple_of(16);
        let total = acc + d;
        if total > MAX_BPF_STACK as u32 && out.is_none() {
            *out = Some((total, frames));
            return;
        }
        let (start, end) = (env.subprogs[sp].start, env.subprogs[sp + 1].start);
        for i in start..end {
            let insn = env.insns[i];
            // bpf-to-bpf calls and callback addresses (bpf_pseudo_call / bpf_pseudo_func).
            if (insn.code == 0x85 && insn.src() == 1) || (insn.code == 0x18 && insn.src() == 4) {
                let t = (i as i64 + insn.imm as i64 + 1) as usize;
                if let Some(callee) = env.find_subprog(t) {
                    if seen.contains(&callee) {
                        continue;
                    }
                    seen.push(callee);
                    walk(env, callee, total, frames + 1, out, seen);
                    seen.pop();
                }
            }
        }
    }
    let _ = depth_of;
    let mut out = None;
    walk(env, 0, 0, 1, &mut out, &mut vec![0]);
    if let Some((total, frames)) = out {
        return Err(
            env.reject(Errno::Acces, format!("combined stack size of {frames} calls is {total}. Too large"))
        );
    }
    Ok(())
}
