//! Kfunc calls: `add_kfunc_call()` (before the walk), `check_kfunc_call()` with
//! `fetch_kfunc_meta()` and `check_kfunc_args()` (during it), as kernel/bpf/verifier.c of
//! Linux 6.18 does them.
//!
//! A kfunc is a `FUNC` of the kernel BTF ([`CheckOptions::kernel_btf`]) that the program's kfunc
//! table ([`CheckOptions::kfuncs`]) lists. Its prototype gives the arguments: each parameter is
//! classified by its type and the suffix of its name (`__k`, `__sz`, `__nullable`, ...) into a
//! [`KfuncArgType`] and checked against the register that carries it; the `KF_*` flags say
//! whether the call acquires or releases a reference, may return NULL, needs trusted or RCU
//! arguments, may sleep, and so on. The results land in a [`KfuncCallArgMeta`].
//!
//! Iterators, dynptrs, allocated objects and the graph API have their own modules: the arguments
//! classified [`KfuncArgType::Iter`], [`KfuncArgType::Dynptr`], [`KfuncArgType::AllocBtfId`],
//! [`KfuncArgType::RefcountedKptr`] and the list/rbtree kinds, and the kfuncs whose return value
//! is special ([`check_special_kfunc`]), go through one function each below
//! (`check_kfunc_arg_iter` → [`crate::iter`], `check_kfunc_arg_dynptr` → [`crate::dynptr`],
//! `check_kfunc_arg_alloc` → [`crate::obj`], ...); what no module handles yet (the graph API,
//! refcounted objects, workqueues, resilient spin locks, callbacks) is
//! [`VerifyError::Unsupported`].
//!
//! kfvm's additions, which the kernel does not have: `KF_DEPRECATED` (a warning in the log and in
//! [`crate::Verdict::warnings`], a rejection with [`CheckOptions::deny_deprecated`]) and hints
//! (one `hint:` line after the kernel's message, with [`CheckOptions::hints`]).

use crate::btf_access::{
    bpf_type_has_unsafe_modifiers, is_rcu_reg, is_trusted_reg, BPF_REG_TRUSTED_MODIFIERS,
};
use crate::call::{acquire_reference, check_func_arg_reg_off, release_reference};
use crate::dynptr::{DynptrKfunc, InitializedDynptr};
use crate::env::{CheckOptions, Env, BTF_PROG, BTF_VMLINUX};
use crate::error::{Errno, Result, VerifyError};
use crate::iter::IterMeta;
use crate::log::VerifierLog;
use crate::mem::{check_helper_mem_access, check_mem_size_reg, Access, CallArgMeta};
use crate::precision::mark_chain_precision;
use crate::print::reg_type_str;
use crate::state::*;
use crate::verbose;
use kfvm_btf::{Btf, Kind, Param, Type};
use kfvm_isa::RawInsn;
use std::sync::Arc;

/// `KF_*` flags (`include/linux/btf.h`), the kernel's values.
pub mod kf {
    /// `KF_ACQUIRE`.
    pub const ACQUIRE: u32 = 1 << 0;
    /// `KF_RELEASE`.
    pub const RELEASE: u32 = 1 << 1;
    /// `KF_RET_NULL`.
    pub const RET_NULL: u32 = 1 << 2;
    /// `KF_KPTR_GET` (Linux ≤ 6.3; the bit is unused in 6.18).
    pub const KPTR_GET: u32 = 1 << 3;
    /// `KF_TRUSTED_ARGS`.
    pub const TRUSTED_ARGS: u32 = 1 << 4;
    /// `KF_SLEEPABLE`.
    pub const SLEEPABLE: u32 = 1 << 5;
    /// `KF_DESTRUCTIVE`.
    pub const DESTRUCTIVE: u32 = 1 << 6;
    /// `KF_RCU`.
    pub const RCU: u32 = 1 << 7;
    /// `KF_ITER_NEW`.
    pub const ITER_NEW: u32 = 1 << 8;
    /// `KF_ITER_NEXT`.
    pub const ITER_NEXT: u32 = 1 << 9;
    /// `KF_ITER_DESTROY`.
    pub const ITER_DESTROY: u32 = 1 << 10;
    /// `KF_RCU_PROTECTED`.
    pub const RCU_PROTECTED: u32 = 1 << 11;
    /// `KF_FASTCALL`.
    pub const FASTCALL: u32 = 1 << 12;
}

/// `MAX_BPF_FUNC_REG_ARGS`.
const MAX_BPF_FUNC_REG_ARGS: usize = 5;

/// `IRQ_NATIVE_KFUNC`: `bpf_local_irq_save`/`restore`.
pub const IRQ_NATIVE_KFUNC: u8 = 0;
/// `IRQ_LOCK_KFUNC`: `bpf_res_spin_lock_irqsave`/`unlock_irqrestore`.
pub const IRQ_LOCK_KFUNC: u8 = 1;

/// `enum kfunc_ptr_arg_type`: what a pointer argument of a kfunc is, from
/// [`get_kfunc_ptr_arg_type`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KfuncArgType {
    /// `KF_ARG_PTR_TO_CTX`: the program's context.
    Ctx,
    /// `KF_ARG_PTR_TO_ALLOC_BTF_ID` (`__alloc`): an object from `bpf_obj_new`.
    AllocBtfId,
    /// `KF_ARG_PTR_TO_REFCOUNTED_KPTR` (`__refcounted_kptr`).
    RefcountedKptr,
    /// `KF_ARG_PTR_TO_DYNPTR`: `struct bpf_dynptr *`.
    Dynptr,
    /// `KF_ARG_PTR_TO_ITER`: an open-coded iterator on the stack.
    Iter,
    /// `KF_ARG_PTR_TO_LIST_HEAD`.
    ListHead,
    /// `KF_ARG_PTR_TO_LIST_NODE`.
    ListNode,
    /// `KF_ARG_PTR_TO_BTF_ID`: a kernel object.
    BtfId,
    /// `KF_ARG_PTR_TO_MEM`: memory the size of the pointee.
    Mem,
    /// `KF_ARG_PTR_TO_MEM_SIZE`: memory sized by the next argument (`__sz`, `__szk`).
    MemSize,
    /// `KF_ARG_PTR_TO_CALLBACK`: a function pointer.
    Callback,
    /// `KF_ARG_PTR_TO_RB_ROOT`.
    RbRoot,
    /// `KF_ARG_PTR_TO_RB_NODE`.
    RbNode,
    /// `KF_ARG_PTR_TO_NULL` (`__nullable` and NULL): nothing to check.
    Null,
    /// `KF_ARG_PTR_TO_CONST_STR` (`__str`).
    ConstStr,
    /// `KF_ARG_PTR_TO_MAP` (`__map`).
    Map,
    /// `KF_ARG_PTR_TO_WORKQUEUE`.
    Workqueue,
    /// `KF_ARG_PTR_TO_IRQ_FLAG` (`__irq_flag`).
    IrqFlag,
    /// `KF_ARG_PTR_TO_RES_SPIN_LOCK`.
    ResSpinLock,
    /// `KF_ARG_PTR_TO_TASK_WORK`.
    TaskWork,
    /// `KF_ARG_PTR_TO_KPTR` (Linux ≤ 6.3, kfvm's legacy `KF_KPTR_GET` kfuncs): argument 0, the
    /// address of a referenced kptr field of a map value.
    Kptr,
}

/// Mirrors `struct bpf_kfunc_call_arg_meta`: what `check_kfunc_args()` learns of a call.
#[derive(Clone, Debug, Default)]
pub struct KfuncCallArgMeta {
    /// `btf`: the BTF object of the kfunc ([`BTF_VMLINUX`]).
    pub btf: u32,
    /// `func_id`: its `FUNC` id.
    pub func_id: u32,
    /// `kfunc_flags`: `KF_*` ([`kf`]).
    pub kfunc_flags: u32,
    /// `func_proto`: the `FUNC_PROTO` id.
    pub func_proto: u32,
    /// `func_name`.
    pub func_name: String,
    /// `release_regno`: the register of the reference a `KF_RELEASE` kfunc releases.
    pub release_regno: usize,
    /// `r0_rdonly`.
    pub r0_rdonly: bool,
    /// `ret_btf_id`: the type of `R0` for special kfuncs (`bpf_cast_to_kern_ctx`,
    /// `bpf_obj_new_impl`, `bpf_rdonly_cast`).
    pub ret_btf_id: u32,
    /// `r0_size`: bytes of a returned `PTR_TO_MEM` (`rdonly_buf_size`/`rdwr_buf_size`).
    pub r0_size: u64,
    /// `subprogno` of a callback argument.
    pub subprogno: u32,
    /// `arg_constant`: the value of the `__k` / `__szk` argument, if any.
    pub arg_constant: Option<u64>,
    /// `arg_list_head`/`arg_rbtree_root` and friends are the graph API's (`obj.rs`); the
    /// allocated object's BTF object (`arg_btf`).
    pub arg_btf: u32,
    /// `arg_btf_id`.
    pub arg_btf_id: u32,
    /// `arg_owning_ref`.
    pub arg_owning_ref: bool,
    /// `arg_prog`: a `__prog` argument was seen.
    pub arg_prog: bool,
    /// `ref_obj_id`: the reference an argument carried.
    pub ref_obj_id: u32,
    /// `initialized_dynptr`.
    pub initialized_dynptr: InitializedDynptr,
    /// `iter`: where the iterator argument is (filled by `crate::iter::process_iter_arg`).
    pub iter: IterMeta,
    /// `map.ptr` (index + 1 in [`CheckOptions::maps`]).
    pub map: u32,
    /// `map.uid`.
    pub map_uid: u32,
    /// The BTF it was found in (the kernel's; `Arc` so the checks can borrow `env`).
    pub desc_btf: Option<Arc<Btf>>,
}

impl KfuncCallArgMeta {
    fn has(&self, f: u32) -> bool {
        self.kfunc_flags & f != 0
    }

    /// `is_kfunc_acquire()`.
    pub fn is_kfunc_acquire(&self) -> bool {
        self.has(kf::ACQUIRE)
    }

    /// `is_kfunc_release()`.
    pub fn is_kfunc_release(&self) -> bool {
        self.has(kf::RELEASE)
    }

    /// `is_kfunc_trusted_args()`: `KF_TRUSTED_ARGS`, implied by `KF_RELEASE`.
    pub fn is_kfunc_trusted_args(&self) -> bool {
        self.has(kf::TRUSTED_ARGS) || self.is_kfunc_release()
    }

    /// `is_kfunc_sleepable()`.
    pub fn is_kfunc_sleepable(&self) -> bool {
        self.has(kf::SLEEPABLE)
    }

    /// `is_kfunc_destructive()`.
    pub fn is_kfunc_destructive(&self) -> bool {
        self.has(kf::DESTRUCTIVE)
    }

    /// `is_kfunc_rcu()`.
    pub fn is_kfunc_rcu(&self) -> bool {
        self.has(kf::RCU)
    }

    /// `is_kfunc_rcu_protected()`.
    pub fn is_kfunc_rcu_protected(&self) -> bool {
        self.has(kf::RCU_PROTECTED)
    }

    /// `is_kfunc_ret_null()`.
    pub fn is_kfunc_ret_null(&self) -> bool {
        self.has(kf::RET_NULL)
    }

    /// `is_iter_kfunc()`.
    pub fn is_iter_kfunc(&self) -> bool {
        self.has(kf::ITER_NEW | kf::ITER_NEXT | kf::ITER_DESTROY)
    }

    /// `is_iter_next_kfunc()`.
    pub fn is_iter_next_kfunc(&self) -> bool {
        self.has(kf::ITER_NEXT)
    }

    /// Whether this is the kernel's special kfunc `name` (`special_kfunc_list[]`, compared by
    /// name since BTF ids differ between kernels).
    pub fn is(&self, name: &str) -> bool {
        self.btf == BTF_VMLINUX && self.func_name == name
    }

    fn kbtf(&self) -> &Btf {
        self.desc_btf.as_deref().expect("fetch_kfunc_meta sets desc_btf")
    }
}

// ---------------------------------------------------------------------------------------------
// BTF helpers (the kernel's btf.h inline functions).

/// The BTF of object `obj` ([`BTF_VMLINUX`], [`BTF_PROG`]).
pub fn btf_of(opts: &CheckOptions, obj: u32) -> Option<Arc<Btf>> {
    match obj {
        BTF_VMLINUX => opts.kernel_btf.clone(),
        BTF_PROG => opts.prog_btf.as_ref().map(|p| p.btf.clone()),
        _ => None,
    }
}

/// Mirrors `btf_type_skip_modifiers()`: the type and its id, modifiers and typedefs skipped.
pub fn btf_type_skip_modifiers(btf: &Btf, id: u32) -> Option<Type<'_>> {
    btf.skip_mods_and_typedefs(id).ok()
}

/// Mirrors `btf_type_is_scalar()`: an integer or an enum.
pub fn btf_type_is_scalar(t: &Type<'_>) -> bool {
    matches!(t.kind(), Kind::Int | Kind::Enum | Kind::Enum64)
}

/// Mirrors `btf_type_is_struct()` (`__btf_type_is_struct`): a struct or union.
pub fn btf_type_is_struct(t: &Type<'_>) -> bool {
    matches!(t.kind(), Kind::Struct | Kind::Union)
}

/// Mirrors `btf_type_str()`.
pub fn btf_type_str(t: &Type<'_>) -> &'static str {
    t.kind().as_str()
}

/// Mirrors `btf_param_match_suffix()`.
pub fn btf_param_match_suffix(arg: &Param<'_>, suffix: &str) -> bool {
    arg.name.len() >= suffix.len() && arg.name.ends_with(suffix)
}

/// Mirrors `__btf_type_is_scalar_struct()`: a struct of scalars, arrays of scalars and such
/// structs, nested at most 3 deep.
fn btf_type_is_scalar_struct(env: &mut Env<'_>, btf: &Btf, t: &Type<'_>, rec: u32) -> bool {
    if !btf_type_is_struct(t) {
        return false;
    }
    for m in t.members() {
        let Some(mt) = btf_type_skip_modifiers(btf, m.type_id) else { return false };
        if btf_type_is_struct(&mt) {
            if rec >= 3 {
                verbose!(env.log, "max struct nesting depth exceeded\n");
                return false;
            }
            if !btf_type_is_scalar_struct(env, btf, &mt, rec + 1) {
                return false;
            }
            continue;
        }
        if mt.kind() == Kind::Array {
            let a = mt.array().unwrap_or_default();
            if a.nelems == 0 {
                return false;
            }
            match btf_type_skip_modifiers(btf, a.elem_type) {
                Some(e) if btf_type_is_scalar(&e) => continue,
                _ => return false,
            }
        }
        if !btf_type_is_scalar(&mt) {
            return false;
        }
    }
    true
}

/// Mirrors `btf_is_projection_of()`: the UAPI context struct a kernel struct projects.
pub fn btf_is_projection_of(pname: &str, tname: &str) -> bool {
    (pname == "__sk_buff" && tname == "sk_buff") || (pname == "xdp_md" && tname == "xdp_buff")
}

/// Mirrors `btf_type_ids_nocast_alias()`: `X` and `X___init` are never each other.
pub fn btf_type_ids_nocast_alias(name1: &str, name2: &str) -> bool {
    const SUFFIX: &str = "___init";
    let (short, long) = if name1.len() < name2.len() { (name1, name2) } else { (name2, name1) };
    long.len() == short.len() + SUFFIX.len() && long.ends_with(SUFFIX) && long.starts_with(short)
}

/// The name of the context struct of programs of type `prog_type` (`bpf_types.h`'s
/// `prog_ctx_type`), `None` where it is `void *` or not a struct.
fn prog_ctx_type_name(prog_type: u32) -> Option<&'static str> {
    Some(match prog_type {
        1 | 3 | 4 | 8 | 10 | 11 | 12 | 14 => "__sk_buff",
        6 => "xdp_md",
        2 => "bpf_user_pt_regs_t",
        7 => "bpf_perf_event_data",
        9 => "bpf_sock",
        13 => "bpf_sock_ops",
        15 => "bpf_cgroup_dev_ctx",
        16 => "sk_msg_md",
        17 | 24 => "bpf_raw_tracepoint_args",
        18 => "bpf_sock_addr",
        20 => "sk_reuseport_md",
        21 => "__sk_buff",
        22 => "bpf_sysctl",
        23 => "bpf_sockopt",
        25 => "bpf_sk_lookup",
        30 => "bpf_sk_lookup",
        32 => "bpf_nf_ctx",
        _ => return None,
    })
}

/// Mirrors `btf_is_prog_ctx_type()`: whether pointer type `t` points to the context struct of
/// the program's type.
fn btf_is_prog_ctx_type(btf: &Btf, t: &Type<'_>, prog_type: u32) -> bool {
    let Some(ctx_name) = prog_ctx_type_name(prog_type) else { return false };
    let mut id = t.size_or_type();
    // KPROBE programs take `bpf_user_pt_regs_t`, a typedef, checked before typedefs are skipped.
    if prog_type == crate::env::prog_type::KPROBE {
        if let Ok(tt) = btf.strip_mods(id) {
            if tt.kind() == Kind::Typedef && tt.name() == "bpf_user_pt_regs_t" {
                return true;
            }
            id = tt.id();
        }
    }
    let Some(p) = btf_type_skip_modifiers(btf, id) else { return false };
    if !btf_type_is_struct(&p) {
        return false;
    }
    let tname = p.name();
    if btf_is_projection_of(ctx_name, tname) || ctx_name == tname {
        return true;
    }
    // `bpf_user_pt_regs_t` resolves to `struct pt_regs` on x86-64.
    ctx_name == "bpf_user_pt_regs_t" && tname == "pt_regs"
}

/// Whether pointer type `t` points to struct `name` (`__is_kfunc_ptr_arg_type()`).
fn is_ptr_to_struct_named(btf: &Btf, t: &Type<'_>, name: &str) -> bool {
    t.kind() == Kind::Ptr
        && btf_type_skip_modifiers(btf, t.size_or_type())
            .is_some_and(|p| p.kind() == Kind::Struct && p.name() == name)
}

// ---------------------------------------------------------------------------------------------
// Argument annotations (`is_kfunc_arg_*()`).

fn param_type<'a>(btf: &'a Btf, arg: &Param<'_>) -> Option<Type<'a>> {
    btf_type_skip_modifiers(btf, arg.type_id)
}

/// Mirrors `is_kfunc_arg_mem_size()`: `__sz` on a scalar carried by a scalar register.
fn is_kfunc_arg_mem_size(btf: &Btf, arg: &Param<'_>, reg: &RegState) -> bool {
    param_type(btf, arg).is_some_and(|t| btf_type_is_scalar(&t))
        && reg.ty == SCALAR_VALUE
        && btf_param_match_suffix(arg, "__sz")
}

/// Mirrors `is_kfunc_arg_const_mem_size()`: `__szk`.
fn is_kfunc_arg_const_mem_size(btf: &Btf, arg: &Param<'_>, reg: &RegState) -> bool {
    param_type(btf, arg).is_some_and(|t| btf_type_is_scalar(&t))
        && reg.ty == SCALAR_VALUE
        && btf_param_match_suffix(arg, "__szk")
}

/// Mirrors `is_kfunc_arg_scalar_with_name()`.
fn is_kfunc_arg_scalar_with_name(btf: &Btf, arg: &Param<'_>, name: &str) -> bool {
    param_type(btf, arg).is_some_and(|t| btf_type_is_scalar(&t)) && arg.name == name
}

/// Mirrors `is_kfunc_arg_callback()`: a function pointer.
fn is_kfunc_arg_callback(btf: &Btf, arg: &Param<'_>) -> bool {
    param_type(btf, arg).is_some_and(|t| {
        t.kind() == Kind::Ptr
            && btf_type_skip_modifiers(btf, t.size_or_type()).is_some_and(|p| p.kind() == Kind::FuncProto)
    })
}

// ---------------------------------------------------------------------------------------------
// Before the walk.

/// The kernel BTF, or why kfvm cannot check kfunc calls.
fn kernel_btf(opts: &CheckOptions) -> Result<Arc<Btf>> {
    opts.kernel_btf.clone().ok_or_else(|| {
        VerifyError::Unsupported("kfunc calls need the kernel BTF (CheckOptions::kernel_btf)".into())
    })
}

/// Mirrors `add_kfunc_call()`: the call at `insn_idx` names a function of the kernel BTF (module
/// BTFs, `off != 0`, are not modelled).
pub fn add_kfunc_call(
    opts: &CheckOptions,
    func_id: i32,
    offset: i16,
    insn_idx: usize,
    log: &mut VerifierLog,
) -> Result<()> {
    let reject = |log: &mut VerifierLog, msg: String| {
        verbose!(log, "{msg}\n");
        Err(VerifyError::reject(Errno::Inval, Some(insn_idx), msg))
    };
    if !opts.gpl_compatible {
        return reject(log, "cannot call kernel function from non-GPL compatible program".into());
    }
    // An unresolved weak kfunc (libbpf leaves `imm` 0): checked by fixup_kfunc_calls() if the
    // walk reaches it.
    if func_id == 0 && offset == 0 {
        return Ok(());
    }
    let btf = kernel_btf(opts)?;
    if offset != 0 {
        return Err(VerifyError::Unsupported("kfunc calls into module BTF (insn->off != 0)".into()));
    }
    let func = if func_id < 0 { None } else { btf.get(func_id as u32) };
    let Some(func) = func.filter(|f| f.kind() == Kind::Func) else {
        return reject(log, format!("kernel btf_id {} is not a function", func_id as u32));
    };
    if btf.get(func.size_or_type()).is_none_or(|p| p.kind() != Kind::FuncProto) {
        return reject(log, format!("kernel function btf_id {func_id} does not have a valid func_proto"));
    }
    Ok(())
}

/// `subprog_info[subprog].might_sleep`: the subprogram, or one it calls, calls a sleepable
/// kfunc the program may call (`mark_subprog_might_sleep()` in `check_cfg()`, merged from
/// callees to callers). kfvm models no sleepable helpers.
pub fn subprog_might_sleep(env: &Env<'_>, subprog: usize) -> bool {
    let mut seen = vec![false; env.subprog_cnt];
    let mut todo = vec![subprog];
    while let Some(sp) = todo.pop() {
        if sp >= env.subprog_cnt || std::mem::replace(&mut seen[sp], true) {
            continue;
        }
        for i in env.subprogs[sp].start..env.subprogs[sp + 1].start {
            let insn = env.insns[i];
            if insn.code != 0x85 {
                continue;
            }
            match insn.src() {
                2 if insn.off == 0 => {
                    let k = env.opts.kfuncs.get(insn.imm as u32);
                    if k.is_some_and(|k| k.allowed && k.flags & kf::SLEEPABLE != 0) {
                        return true;
                    }
                }
                1 => {
                    if let Some(callee) = env.find_subprog((i as i64 + insn.imm as i64 + 1) as usize) {
                        todo.push(callee);
                    }
                }
                _ => {}
            }
        }
    }
    false
}

/// Mirrors the `imm == 0` check of `fixup_kfunc_call()` (after `opt_remove_dead_code()`): a call
/// of an unresolved weak kfunc the walk reached.
pub fn fixup_kfunc_calls(env: &mut Env<'_>) -> Result<()> {
    let n = env.insns.len();
    let reached = (0..n).find(|&i| {
        let insn = env.insns[i];
        insn.code == 0x85 && insn.src() == 2 && insn.imm == 0 && env.aux[i].seen
    });
    if let Some(i) = reached {
        let msg = "invalid kernel function call not eliminated in verifier pass";
        verbose!(env.log, "{msg}\n");
        return Err(VerifyError::reject(Errno::Inval, Some(i), msg));
    }
    Ok(())
}

/// The number of parameters of kfunc `btf_id` (`get_call_summary()`), for
/// `compute_live_registers()`.
pub fn kfunc_num_params(opts: &CheckOptions, btf_id: i32, btf_off: i16) -> Option<usize> {
    if btf_off != 0 || btf_id <= 0 {
        return None;
    }
    // get_call_summary(): fetch_kfunc_meta() fails for a kfunc the program may not call, and
    // the call then counts as using R1-R5.
    opts.kfuncs.get(btf_id as u32).filter(|k| k.allowed)?;
    let btf = opts.kernel_btf.as_ref()?;
    let proto = btf.func_proto(btf_id as u32).ok()?;
    Some(proto.params().count())
}

/// Mirrors `kfunc_spin_allowed()`: the kfuncs callable while a `bpf_spin_lock` is held (the
/// graph API, `bpf_iter_num_*`, resilient locks). By id: the name is looked up in `opts`.
pub fn kfunc_spin_allowed(opts: &CheckOptions, btf_id: i32) -> bool {
    let Some(k) = opts.kfuncs.get(btf_id as u32) else { return false };
    matches!(
        k.name.as_str(),
        "bpf_list_push_front_impl"
            | "bpf_list_push_back_impl"
            | "bpf_list_pop_front"
            | "bpf_list_pop_back"
            | "bpf_list_front"
            | "bpf_list_back"
            | "bpf_rbtree_add_impl"
            | "bpf_rbtree_remove"
            | "bpf_rbtree_first"
            | "bpf_rbtree_root"
            | "bpf_rbtree_left"
            | "bpf_rbtree_right"
            | "bpf_iter_num_new"
            | "bpf_iter_num_next"
            | "bpf_iter_num_destroy"
            | "bpf_res_spin_lock"
            | "bpf_res_spin_unlock"
            | "bpf_res_spin_lock_irqsave"
            | "bpf_res_spin_unlock_irqrestore"
    )
}

// ---------------------------------------------------------------------------------------------
// The call.

/// Mirrors `fetch_kfunc_meta()`: the kfunc's BTF, name, prototype and flags; `EACCES` (logged by
/// the caller) when the program may not call it.
pub fn fetch_kfunc_meta(env: &mut Env<'_>, insn: RawInsn) -> Result<KfuncCallArgMeta> {
    let btf = kernel_btf(env.opts)?;
    if insn.off != 0 {
        return Err(VerifyError::Unsupported("kfunc calls into module BTF (insn->off != 0)".into()));
    }
    let func_id = insn.imm as u32;
    let (name, proto) = match btf.get(func_id) {
        Some(f) if f.kind() == Kind::Func => (f.name().to_string(), f.size_or_type()),
        _ => return Err(env.verifier_bug(format!("kfunc btf_id {func_id} is not a function"))),
    };
    let desc = env.opts.kfuncs.get(func_id).filter(|d| d.allowed).cloned();
    let Some(desc) = desc else {
        env.hint = Some(match env.opts.kfuncs.get(func_id) {
            None => format!("{name}() is a kernel function, not a kfunc: no program may call it"),
            Some(d) if d.allowed_prog_types.is_empty() => {
                format!("{name}() is not registered for this program's type")
            }
            Some(d) => {
                format!("{name}() may be called from {} programs only", d.allowed_prog_types.join(", "))
            }
        });
        return Err(env.reject(Errno::Acces, format!("calling kernel function {name} is not allowed")));
    };
    Ok(KfuncCallArgMeta {
        btf: BTF_VMLINUX,
        func_id,
        kfunc_flags: desc.flags,
        func_proto: proto,
        func_name: name,
        desc_btf: Some(btf),
        ..Default::default()
    })
}

/// kfvm's `KF_DEPRECATED`: warns (once per call instruction) or, with
/// [`CheckOptions::deny_deprecated`], refuses.
fn check_kfunc_deprecated(env: &mut Env<'_>, meta: &KfuncCallArgMeta) -> Result<()> {
    let Some(desc) = env.opts.kfuncs.get(meta.func_id).cloned() else { return Ok(()) };
    if !desc.deprecated {
        return Ok(());
    }
    let mut what = format!("kernel function {} is deprecated", meta.func_name);
    let mut paren = Vec::new();
    if let Some(r) = &desc.replacement {
        paren.push(format!("use {r}"));
    }
    if let Some(v) = &desc.removal {
        paren.push(format!("removed in {v}"));
    }
    if !paren.is_empty() {
        what.push_str(&format!(" ({})", paren.join("; ")));
    }
    if env.opts.deny_deprecated {
        env.hint = desc.replacement.as_ref().map(|r| format!("use {r} instead of {}()", meta.func_name));
        return Err(env.reject(Errno::Acces, format!("{what}, and deny_deprecated refuses it")));
    }
    let idx = env.insn_idx as usize;
    if !env.warnings.iter().any(|(i, _)| *i == idx) {
        let at = insn_where(env, idx);
        env.warnings.push((idx, format!("{at}: {what}")));
    }
    Ok(())
}

/// Mirrors `in_sleepable()`.
fn in_sleepable(env: &Env<'_>) -> bool {
    env.cur.in_sleepable
}

/// The registers of every frame and the spilled registers and iterators of every stack
/// (`bpf_for_each_reg_in_vstate_mask` with `STACK_SPILL | STACK_ITER`).
fn for_each_reg_spill_iter(st: &mut VerifierState, mut f: impl FnMut(&mut RegState)) {
    for fr in st.frame.iter_mut() {
        for r in fr.regs.iter_mut() {
            f(r);
        }
        for s in fr.stack.iter_mut() {
            if matches!(s.slot_type[BPF_REG_SIZE - 1], slot::SPILL | slot::ITER) {
                f(&mut s.spilled_ptr);
            }
        }
    }
}

/// Mirrors `check_kfunc_call()`.
pub fn check_kfunc_call(env: &mut Env<'_>, insn: RawInsn, insn_idx: &mut u32) -> Result<()> {
    if insn.imm == 0 {
        return Ok(());
    }
    let mut meta = fetch_kfunc_meta(env, insn)?;
    let name = meta.func_name.clone();
    env.aux[*insn_idx as usize].is_iter_next = meta.is_iter_next_kfunc();
    check_kfunc_deprecated(env, &meta)?;
    match name.as_str() {
        "bpf_res_spin_lock" | "bpf_res_spin_lock_irqsave" => {
            return Err(VerifyError::Unsupported("resilient spin locks (bpf_res_spin_lock)".into()))
        }
        "__bpf_trap" => {
            return Err(env.reject(Errno::Fault, "unexpected __bpf_trap() due to uninitialized variable?"))
        }
        _ => {}
    }
    if meta.is_kfunc_destructive() && !env.opts.sys_boot {
        env.hint = Some(format!("{name}() is destructive: the loader needs CAP_SYS_BOOT"));
        return Err(env.reject(Errno::Acces, "destructive kfunc calls require CAP_SYS_BOOT capability"));
    }
    let sleepable = meta.is_kfunc_sleepable();
    if sleepable && !in_sleepable(env) {
        env.hint = Some(format!(
            "{name}() may sleep: attach the program to a sleepable section (fentry.s/, lsm.s/, \
             uprobe.s/, syscall) or call a non-sleeping variant"
        ));
        return Err(
            env.reject(Errno::Acces, format!("program must be sleepable to call sleepable kfunc {name}"))
        );
    }
    check_kfunc_args(env, &mut meta, *insn_idx as usize)?;
    if matches!(
        name.as_str(),
        "bpf_rbtree_add_impl"
            | "bpf_wq_set_callback_impl"
            | "bpf_task_work_schedule_signal_impl"
            | "bpf_task_work_schedule_resume_impl"
            | "bpf_throw"
    ) {
        return Err(VerifyError::Unsupported(format!("kfuncs with callbacks ({name})")));
    }
    let rcu_lock = meta.is("bpf_rcu_read_lock");
    let rcu_unlock = meta.is("bpf_rcu_read_unlock");
    let preempt_disable = meta.is("bpf_preempt_disable");
    let preempt_enable = meta.is("bpf_preempt_enable");
    if env.cur.active_rcu_locks != 0 {
        if rcu_lock {
            return Err(env.reject(Errno::Inval, format!("nested rcu read lock (kernel function {name})")));
        } else if rcu_unlock {
            for_each_reg_spill_iter(&mut env.cur, |r| {
                if r.ty & MEM_RCU != 0 {
                    r.ty &= !(MEM_RCU | PTR_MAYBE_NULL);
                    r.ty |= PTR_UNTRUSTED;
                }
            });
            env.cur.active_rcu_locks = 0;
        } else if sleepable {
            env.hint =
                Some(format!("call {name}() after bpf_rcu_read_unlock(), outside the RCU read section"));
            return Err(env.reject(
                Errno::Acces,
                format!("kernel func {name} is sleepable within rcu_read_lock region"),
            ));
        }
    } else if rcu_lock {
        env.cur.active_rcu_locks = 1;
    } else if rcu_unlock {
        env.hint =
            Some("every bpf_rcu_read_unlock() needs a bpf_rcu_read_lock() before it on its path".into());
        return Err(env.reject(Errno::Inval, format!("unmatched rcu read unlock (kernel function {name})")));
    }
    if env.cur.active_preempt_locks != 0 {
        if preempt_disable {
            env.cur.active_preempt_locks += 1;
        } else if preempt_enable {
            env.cur.active_preempt_locks -= 1;
        } else if sleepable {
            env.hint = Some(format!("call {name}() after bpf_preempt_enable(), with preemption enabled"));
            return Err(env.reject(
                Errno::Acces,
                format!("kernel func {name} is sleepable within non-preemptible region"),
            ));
        }
    } else if preempt_disable {
        env.cur.active_preempt_locks += 1;
    } else if preempt_enable {
        env.hint =
            Some("every bpf_preempt_enable() needs a bpf_preempt_disable() before it on its path".into());
        return Err(env.reject(
            Errno::Inval,
            format!("unmatched attempt to enable preemption (kernel function {name})"),
        ));
    }
    if env.cur.active_irq_id != 0 && sleepable {
        env.hint = Some(format!("call {name}() after bpf_local_irq_restore(), with IRQs enabled"));
        return Err(
            env.reject(Errno::Acces, format!("kernel func {name} is sleepable within IRQ-disabled region"))
        );
    }
    if meta.is_kfunc_rcu_protected() && !crate::iter::in_rcu_cs(env) {
        env.hint = Some(format!("call {name}() between bpf_rcu_read_lock() and bpf_rcu_read_unlock()"));
        return Err(
            env.reject(Errno::Acces, format!("kernel func {name} requires RCU critical section protection"))
        );
    }
    if meta.release_regno != 0 {
        let reg = env.reg(meta.release_regno).clone();
        if meta.initialized_dynptr.ref_obj_id != 0 {
            crate::dynptr::unmark_stack_slots_dynptr(env, &reg)?;
        } else if !release_reference(env, reg.ref_obj_id) {
            let func_id = meta.func_id;
            return Err(env.reject(
                Errno::Inval,
                format!("kfunc {name}#{func_id} reference has not been acquired before"),
            ));
        }
    }
    if matches!(name.as_str(), "bpf_list_push_front_impl" | "bpf_list_push_back_impl" | "bpf_rbtree_add_impl")
    {
        return Err(VerifyError::Unsupported(format!("the graph API ({name})")));
    }
    let cap = env.bpf_capable;
    for r in 0..6 {
        env.reg_mut(r).mark_not_init(cap);
    }
    set_kfunc_ret(env, &mut meta, *insn_idx)?;
    if meta.is_iter_next_kfunc() {
        crate::iter::process_iter_next_call(env, *insn_idx, &meta.iter)?;
    }
    Ok(())
}

/// The `R0` part of `check_kfunc_call()`: from the return type of the prototype.
fn set_kfunc_ret(env: &mut Env<'_>, meta: &mut KfuncCallArgMeta, insn_idx: u32) -> Result<()> {
    let btf = meta.desc_btf.clone().expect("fetch_kfunc_meta sets desc_btf");
    let name = meta.func_name.clone();
    let Some(proto) = btf.get(meta.func_proto) else {
        return Err(env.verifier_bug(format!("kfunc {name} has no prototype")));
    };
    let ret_id = proto.size_or_type();
    let Some(t) = btf_type_skip_modifiers(&btf, ret_id) else {
        return Err(env.verifier_bug(format!("kfunc {name} returns an unknown type")));
    };
    let is_struct_ptr = t.kind() == Kind::Ptr
        && btf_type_skip_modifiers(&btf, t.size_or_type()).is_some_and(|p| btf_type_is_struct(&p));
    if meta.is_kfunc_acquire()
        && !is_struct_ptr
        && !matches!(
            name.as_str(),
            "bpf_obj_new_impl" | "bpf_percpu_obj_new_impl" | "bpf_refcount_acquire_impl"
        )
    {
        return Err(env.reject(Errno::Inval, "acquire kernel function does not return PTR_TO_BTF_ID"));
    }
    if btf_type_is_scalar(&t) {
        env.mark_reg_unknown(0);
    } else if t.kind() == Kind::Ptr {
        let Some(ptr_type) = btf_type_skip_modifiers(&btf, t.size_or_type()) else {
            return Err(env.verifier_bug(format!("kfunc {name} returns a pointer to an unknown type")));
        };
        if check_special_kfunc(env, meta)? {
            // R0 is set.
        } else if ptr_type.kind() == Kind::Void {
            env.mark_reg_unknown(0);
        } else if !btf_type_is_struct(&ptr_type) {
            if meta.r0_size == 0 {
                if let Ok(sz) = btf.resolve_size(ptr_type.id()) {
                    meta.r0_size = sz as u64;
                    meta.r0_rdonly = true;
                }
            }
            if meta.r0_size == 0 {
                let msg = format!(
                    "kernel function {name} returns pointer type {} {} is not supported",
                    btf_type_str(&ptr_type),
                    ptr_type.name()
                );
                return Err(env.reject(Errno::Inval, msg));
            }
            let rcu = meta.is_kfunc_rcu_protected();
            let r = env.reg_mut(0);
            r.mark_known_zero();
            r.ty = PTR_TO_MEM;
            r.mem_size = meta.r0_size as u32;
            if meta.r0_rdonly {
                r.ty |= MEM_RDONLY;
            }
            if meta.ref_obj_id != 0 {
                r.ref_obj_id = meta.ref_obj_id;
            }
            if rcu {
                r.ty |= MEM_RCU;
            }
        } else {
            let rcu = meta.is_kfunc_rcu_protected();
            let r = env.reg_mut(0);
            r.mark_known_zero();
            r.btf = meta.btf;
            r.ty = PTR_TO_BTF_ID;
            r.btf_id = ptr_type.id();
            if name == "bpf_get_kmem_cache" {
                r.ty |= PTR_UNTRUSTED;
            } else if rcu {
                r.ty |= MEM_RCU;
            }
            if meta.is_iter_next_kfunc() {
                let (fr, spi) = (meta.iter.frameno as usize, meta.iter.spi);
                let it_rcu = env.cur.frame[fr].stack[spi].spilled_ptr.ty & MEM_RCU != 0;
                env.reg_mut(0).ty |= if it_rcu { MEM_RCU } else { PTR_TRUSTED };
            }
        }
        if meta.is_kfunc_ret_null() {
            let id = env.new_id();
            let r = env.reg_mut(0);
            r.ty |= PTR_MAYBE_NULL;
            r.id = id;
        }
        if meta.is_kfunc_acquire() {
            let id = acquire_reference(env, insn_idx);
            let ret_null = meta.is_kfunc_ret_null();
            let r = env.reg_mut(0);
            if ret_null {
                r.id = id;
            }
            r.ref_obj_id = id;
        }
    }
    // `void`: R0 stays NOT_INIT (`bpf_obj_drop_impl`'s struct meta is the object code's).
    Ok(())
}

/// Mirrors `check_special_kfunc()`: `R0` of the kfuncs whose result the prototype does not
/// describe. `Ok(true)` when `R0` is set.
pub fn check_special_kfunc(env: &mut Env<'_>, meta: &mut KfuncCallArgMeta) -> Result<bool> {
    if meta.btf != BTF_VMLINUX {
        return Ok(false);
    }
    let name = meta.func_name.clone();
    match name.as_str() {
        "bpf_cast_to_kern_ctx" => {
            if meta.ret_btf_id == 0 {
                return Err(VerifyError::Unsupported(format!(
                    "the kernel context type of program type {} (bpf_cast_to_kern_ctx)",
                    env.opts.prog_type
                )));
            }
            let r = env.reg_mut(0);
            r.mark_known_zero();
            r.ty = PTR_TO_BTF_ID | PTR_TRUSTED;
            r.btf = BTF_VMLINUX;
            r.btf_id = meta.ret_btf_id;
            Ok(true)
        }
        "bpf_rdonly_cast" => {
            let Some(id) = meta.arg_constant else {
                return Err(env.verifier_bug("bpf_rdonly_cast without a constant type id"));
            };
            let btf = meta.kbtf();
            let Some(t) = btf.get(id as u32) else {
                return Err(env.reject(Errno::Inval, format!("invalid btf id {id}")));
            };
            let (is_struct, is_void) = (btf_type_is_struct(&t), t.kind() == Kind::Void);
            let r = env.reg_mut(0);
            r.mark_known_zero();
            if is_void {
                r.ty = PTR_TO_MEM | MEM_RDONLY | PTR_UNTRUSTED;
                r.mem_size = 0;
            } else if is_struct {
                r.ty = PTR_TO_BTF_ID | PTR_UNTRUSTED;
                r.btf = BTF_VMLINUX;
                r.btf_id = id as u32;
            } else {
                let msg =
                    "only struct or void is supported as the target type of bpf_rdonly_cast".to_string();
                return Err(env.reject(Errno::Inval, msg));
            }
            Ok(true)
        }
        "bpf_obj_new_impl" | "bpf_percpu_obj_new_impl" => {
            let kind = crate::obj::obj_kfunc_kind(&name).expect("an object kfunc");
            crate::obj::mark_obj_new_ret(env, kind, meta.arg_constant)?;
            Ok(true)
        }
        "bpf_dynptr_slice" | "bpf_dynptr_slice_rdwr" => {
            let rdwr = name == "bpf_dynptr_slice_rdwr";
            crate::dynptr::mark_dynptr_slice_ret(env, rdwr, meta.arg_constant, &meta.initialized_dynptr)?;
            Ok(true)
        }
        "bpf_refcount_acquire_impl"
        | "bpf_list_pop_front"
        | "bpf_list_pop_back"
        | "bpf_list_front"
        | "bpf_list_back"
        | "bpf_rbtree_remove"
        | "bpf_rbtree_first"
        | "bpf_rbtree_root"
        | "bpf_rbtree_left"
        | "bpf_rbtree_right" => Err(VerifyError::Unsupported(format!("the result of {name}"))),
        _ => Ok(false),
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

/// Mirrors `get_kfunc_ptr_arg_type()`: classifies pointer argument `argno` of type `t` (whose
/// pointee is `ref_t`).
#[allow(clippy::too_many_arguments)]
pub fn get_kfunc_ptr_arg_type(
    env: &mut Env<'_>,
    meta: &KfuncCallArgMeta,
    t: &Type<'_>,
    ref_t: &Type<'_>,
    args: &[Param<'_>],
    argno: usize,
) -> Result<KfuncArgType> {
    let btf = meta.kbtf();
    let regno = argno + 1;
    let reg = env.reg(regno).clone();
    let arg = &args[argno];
    if meta.is("bpf_cast_to_kern_ctx") {
        return Ok(KfuncArgType::Ctx);
    }
    if btf_is_prog_ctx_type(btf, t, env.opts.prog_type) {
        return Ok(KfuncArgType::Ctx);
    }
    if btf_param_match_suffix(arg, "__nullable") && reg.is_null() {
        return Ok(KfuncArgType::Null);
    }
    if btf_param_match_suffix(arg, "__alloc") {
        return Ok(KfuncArgType::AllocBtfId);
    }
    // is_kfunc_arg_kptr_get() of Linux 6.3, for kfvm's legacy KF_KPTR_GET kfuncs.
    if meta.has(kf::KPTR_GET) && argno == 0 {
        if ref_t.kind() != Kind::Ptr {
            let msg = format!("arg#0 BTF type must be a double pointer for {} kfunc", meta.func_name);
            return Err(env.reject(Errno::Inval, msg));
        }
        return Ok(KfuncArgType::Kptr);
    }
    if btf_param_match_suffix(arg, "__refcounted_kptr") {
        return Ok(KfuncArgType::RefcountedKptr);
    }
    if is_ptr_to_struct_named(btf, t, "bpf_dynptr") {
        return Ok(KfuncArgType::Dynptr);
    }
    if (meta.is_iter_kfunc() && argno == 0) || btf_param_match_suffix(arg, "__iter") {
        return Ok(KfuncArgType::Iter);
    }
    for (s, k) in [
        ("bpf_list_head", KfuncArgType::ListHead),
        ("bpf_list_node", KfuncArgType::ListNode),
        ("bpf_rb_root", KfuncArgType::RbRoot),
        ("bpf_rb_node", KfuncArgType::RbNode),
    ] {
        if is_ptr_to_struct_named(btf, t, s) {
            return Ok(k);
        }
    }
    if btf_param_match_suffix(arg, "__str") {
        return Ok(KfuncArgType::ConstStr);
    }
    if btf_param_match_suffix(arg, "__map") {
        return Ok(KfuncArgType::Map);
    }
    if is_ptr_to_struct_named(btf, t, "bpf_wq") {
        return Ok(KfuncArgType::Workqueue);
    }
    if is_ptr_to_struct_named(btf, t, "bpf_task_work") {
        return Ok(KfuncArgType::TaskWork);
    }
    if btf_param_match_suffix(arg, "__irq_flag") {
        return Ok(KfuncArgType::IrqFlag);
    }
    if is_ptr_to_struct_named(btf, t, "bpf_res_spin_lock") {
        return Ok(KfuncArgType::ResSpinLock);
    }
    if base_type(reg.ty) == PTR_TO_BTF_ID || reg2btf_ids_has(reg.ty) {
        if !btf_type_is_struct(ref_t) {
            let msg = format!(
                "kernel function {} args#{argno} pointer type {} {} is not supported",
                meta.func_name,
                btf_type_str(ref_t),
                ref_t.name()
            );
            return Err(env.reject(Errno::Inval, msg));
        }
        return Ok(KfuncArgType::BtfId);
    }
    if is_kfunc_arg_callback(btf, arg) {
        return Ok(KfuncArgType::Callback);
    }
    let mut arg_mem_size = false;
    if argno + 1 < args.len() {
        let next = env.reg(regno + 1).clone();
        if is_kfunc_arg_mem_size(btf, &args[argno + 1], &next)
            || is_kfunc_arg_const_mem_size(btf, &args[argno + 1], &next)
        {
            arg_mem_size = true;
        }
    }
    let btf2 = meta.desc_btf.clone().expect("fetch_kfunc_meta sets desc_btf");
    if !btf_type_is_scalar(ref_t)
        && !btf_type_is_scalar_struct(env, &btf2, ref_t, 0)
        && (!arg_mem_size || ref_t.kind() != Kind::Void)
    {
        let msg = format!(
            "arg#{argno} pointer type {} {} must point to {}scalar, or struct with scalar",
            btf_type_str(ref_t),
            ref_t.name(),
            if arg_mem_size { "void, " } else { "" }
        );
        return Err(env.reject(Errno::Inval, msg));
    }
    Ok(if arg_mem_size { KfuncArgType::MemSize } else { KfuncArgType::Mem })
}

/// Whether base type `t` is in `reg2btf_ids[]`: the socket types and `CONST_PTR_TO_MAP`.
const fn reg2btf_ids_has(t: u32) -> bool {
    matches!(base_type(t), PTR_TO_SOCKET | PTR_TO_SOCK_COMMON | PTR_TO_TCP_SOCK | CONST_PTR_TO_MAP)
}

/// The kernel BTF id of the struct a `reg2btf_ids[]` register type stands for.
fn reg2btf_id(btf: &Btf, ty: u32) -> Option<u32> {
    let name = match base_type(ty) {
        PTR_TO_SOCKET => "sock",
        PTR_TO_SOCK_COMMON => "sock_common",
        PTR_TO_TCP_SOCK => "tcp_sock",
        CONST_PTR_TO_MAP => "bpf_map",
        _ => return None,
    };
    btf.find_by_name_kind(name, Kind::Struct).map(|t| t.id())
}

/// Mirrors `process_kf_arg_ptr_to_btf_id()`: the register's object is the expected type (or
/// starts with it), strictly so for a released reference and `___init` aliases.
fn process_kf_arg_ptr_to_btf_id(
    env: &mut Env<'_>,
    meta: &KfuncCallArgMeta,
    regno: usize,
    ref_t: &Type<'_>,
    ref_id: u32,
    argno: usize,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let (reg_btf, reg_ref_id) = if base_type(reg.ty) == PTR_TO_BTF_ID {
        (reg.btf, reg.btf_id)
    } else {
        match reg2btf_id(meta.kbtf(), reg.ty) {
            Some(id) => (BTF_VMLINUX, id),
            None => {
                return Err(VerifyError::Unsupported(format!(
                    "BTF type of {} registers",
                    reg_type_str(reg.ty)
                )))
            }
        }
    };
    let Some(rbtf) = btf_of(env.opts, reg_btf) else {
        return Err(VerifyError::Unsupported(format!("BTF object {reg_btf} of R{regno}")));
    };
    let Some(reg_ref_t) = btf_type_skip_modifiers(&rbtf, reg_ref_id) else {
        return Err(env.verifier_bug(format!("R{regno} has unknown btf_id {reg_ref_id}")));
    };
    let reg_ref_tname = reg_ref_t.name().to_string();
    let ref_tname = ref_t.name();
    let strict = (meta.is_kfunc_release() && reg.ref_obj_id != 0)
        || (reg_btf == BTF_VMLINUX && btf_type_ids_nocast_alias(&reg_ref_tname, ref_tname));
    let struct_same = crate::btf_access::btf_struct_ids_match(
        env,
        reg_btf,
        reg_ref_t.id(),
        reg.off,
        meta.btf,
        ref_id,
        strict,
    );
    let taking_projection = btf_is_projection_of(ref_tname, &reg_ref_tname);
    if !taking_projection && !struct_same {
        let msg = format!(
            "kernel function {} args#{argno} expected pointer to {} {} but R{regno} has a pointer to {} {}",
            meta.func_name,
            btf_type_str(ref_t),
            ref_tname,
            btf_type_str(&reg_ref_t),
            reg_ref_tname
        );
        return Err(env.reject(Errno::Inval, msg));
    }
    Ok(())
}

/// Mirrors `process_kf_arg_ptr_to_kptr()` of Linux 6.3 (kfvm's legacy `KF_KPTR_GET`): the map
/// value holds a referenced kptr at the register's constant offset, of the type the kfunc's
/// double pointer names.
fn process_kf_arg_ptr_to_kptr(
    env: &mut Env<'_>,
    meta: &KfuncCallArgMeta,
    regno: usize,
    ref_t: &Type<'_>,
    argno: usize,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    if !reg.s.var_off.is_const() {
        return Err(env.reject(Errno::Inval, "arg#0 must have constant offset"));
    }
    let off = reg.off as i64 + reg.s.var_off.value as i64;
    let field = env.map(reg.map).record.kptrs.iter().find(|k| k.off as i64 == off).copied();
    let Some(field) = field.filter(|k| k.referenced) else {
        return Err(env.reject(Errno::Inval, format!("arg#0 no referenced kptr at map value offset={off}")));
    };
    let btf = meta.kbtf();
    let Some(target) = btf_type_skip_modifiers(btf, ref_t.size_or_type()) else {
        return Err(env.verifier_bug("KF_KPTR_GET argument points to an unknown type"));
    };
    let (tid, tstr, tname) = (target.id(), btf_type_str(&target), target.name().to_string());
    if !crate::btf_access::btf_struct_ids_match(env, field.btf, field.btf_id, 0, meta.btf, tid, true) {
        let msg =
            format!("kernel function {} args#{argno} expected pointer to {tstr} {tname}", meta.func_name);
        return Err(env.reject(Errno::Inval, msg));
    }
    Ok(())
}

/// Mirrors `check_kfunc_mem_size_reg()`: `[mem, mem + size)` is readable and writable.
fn check_kfunc_mem_size_reg(env: &mut Env<'_>, regno: usize) -> Result<()> {
    let saved = env.reg(regno - 1).clone();
    let may_be_null = type_may_be_null(saved.ty);
    if may_be_null {
        env.reg_mut(regno - 1).clear_maybe_null();
    }
    let mut m = CallArgMeta::default();
    let r = check_mem_size_reg(env, regno, Access::Read, true, &mut m)
        .and_then(|_| check_mem_size_reg(env, regno, Access::Write, true, &mut m));
    if may_be_null {
        *env.reg_mut(regno - 1) = saved;
    }
    r
}

/// Mirrors `check_mem_reg()`: `mem_size` bytes at the register are readable and writable.
fn check_mem_reg(env: &mut Env<'_>, regno: usize, mem_size: u32) -> Result<()> {
    let saved = env.reg(regno).clone();
    if saved.is_null() {
        return Ok(());
    }
    let may_be_null = type_may_be_null(saved.ty);
    if may_be_null {
        env.reg_mut(regno).clear_maybe_null();
    }
    let r = check_helper_mem_access(env, regno, mem_size as i32, Access::Read, true, None)
        .and_then(|_| check_helper_mem_access(env, regno, mem_size as i32, Access::Write, true, None));
    if may_be_null {
        *env.reg_mut(regno) = saved;
    }
    r
}

/// The hint for a pointer that is not trusted (or not RCU) where a kfunc needs one.
fn untrusted_hint(env: &Env<'_>, meta: &KfuncCallArgMeta, reg: &RegState) -> String {
    let what = if base_type(reg.ty) == PTR_TO_BTF_ID {
        format!("this {} pointer", env.btf_type_name(reg.btf, reg.btf_id))
    } else {
        "this pointer".to_string()
    };
    let name = &meta.func_name;
    let why = if reg.ty & PTR_UNTRUSTED != 0 {
        "is untrusted: it was read outside an RCU read section, through an untrusted pointer, or is \
         used after bpf_rcu_read_unlock()"
    } else {
        "was read from a field the kernel marks neither trusted nor RCU-safe"
    };
    if meta.is_kfunc_release() {
        return format!(
            "{what} {why}; {name}() releases a reference: pass it the pointer an acquiring kfunc returned"
        );
    }
    let fix = if reg.ty & PTR_UNTRUSTED != 0 && meta.is_kfunc_rcu() {
        "read it and use it between one bpf_rcu_read_lock() and its bpf_rcu_read_unlock()"
    } else if meta.is_kfunc_rcu() {
        "pass the program's context argument, a pointer returned by an acquiring kfunc, or one read \
         from an RCU-safe field (such as task_struct's real_parent) inside an RCU read section"
    } else {
        "pass the program's context argument or a pointer returned by an acquiring kfunc"
    };
    format!("{what} {why}; {name}() needs a trusted pointer: {fix}")
}

/// The name of the kfunc or helper called at `idx`, for hints.
fn call_name_at(env: &Env<'_>, idx: usize) -> Option<String> {
    let insn = *env.insns.get(idx)?;
    if insn.code != 0x85 {
        return None;
    }
    match insn.src() {
        2 => {
            let btf = env.opts.kernel_btf.as_ref()?;
            btf.get(insn.imm as u32).filter(|f| f.kind() == Kind::Func).map(|f| f.name().to_string())
        }
        0 => kfvm_isa::disasm::helper_name(insn.imm).map(|s| {
            if s.starts_with("bpf_") {
                s.to_string()
            } else {
                format!("bpf_{s}")
            }
        }),
        _ => None,
    }
}

/// `insn N (file.c:L)` for a hint, with the source line when `line_info` is known.
pub fn insn_where(env: &Env<'_>, idx: usize) -> String {
    let li = env.opts.line_info.iter().filter(|l| l.insn_off as usize <= idx).max_by_key(|l| l.insn_off);
    match li {
        Some(l) => {
            let file = l.file.rsplit('/').next().unwrap_or(&l.file);
            format!("insn {idx} ({file}:{})", l.line)
        }
        None => format!("insn {idx}"),
    }
}

/// The hint for references left at an exit (`check_reference_leak()`).
pub fn leak_hint(env: &Env<'_>) -> Option<String> {
    let r = env.cur.refs.iter().find(|r| r.ty == RefType::Ptr)?;
    let idx = r.insn_idx as usize;
    let by = call_name_at(env, idx)?;
    // Iterators and ring buffer dynptrs live on the stack: they are destroyed or submitted,
    // never moved into a map.
    if let Some(kind) = by.strip_prefix("bpf_iter_").and_then(|n| n.strip_suffix("_new")) {
        return Some(format!(
            "destroy the iterator created by {by}() at {} with bpf_iter_{kind}_destroy() on every path \
             before this exit",
            insn_where(env, idx)
        ));
    }
    if by == "bpf_ringbuf_reserve_dynptr" {
        return Some(format!(
            "submit or discard the dynptr reserved by bpf_ringbuf_reserve_dynptr() at {} on every path \
             before this exit (bpf_ringbuf_submit_dynptr() or bpf_ringbuf_discard_dynptr(), even when \
             the reservation failed)",
            insn_where(env, idx)
        ));
    }
    let release = match by.as_str() {
        "bpf_ringbuf_reserve" => "bpf_ringbuf_submit() or bpf_ringbuf_discard()".to_string(),
        n if n.starts_with("bpf_task_") => "bpf_task_release()".to_string(),
        n if n.starts_with("bpf_cgroup_") || n == "bpf_task_get_cgroup1" => {
            "bpf_cgroup_release()".to_string()
        }
        n if n.starts_with("bpf_cpumask_") => "bpf_cpumask_release()".to_string(),
        n if n.starts_with("bpf_obj_new") || n.starts_with("bpf_percpu_obj_new") => {
            "bpf_obj_drop()".to_string()
        }
        _ => "its release kfunc".to_string(),
    };
    Some(format!(
        "release the reference acquired by {by}() at {} on every path before this exit ({release}, \
         or move it into a map with bpf_kptr_xchg())",
        insn_where(env, idx)
    ))
}

/// The hint for a possibly-NULL argument: where the pointer came from.
fn null_hint(env: &Env<'_>, meta: &KfuncCallArgMeta, reg: &RegState) -> String {
    let origin = if reg.ref_obj_id != 0 {
        env.cur
            .refs
            .iter()
            .find(|r| r.id == reg.ref_obj_id)
            .and_then(|r| call_name_at(env, r.insn_idx as usize))
    } else {
        None
    };
    match origin {
        Some(f) => {
            format!("check the result of {f}() against NULL before passing it to {}()", meta.func_name)
        }
        None if reg.is_null() => format!("{}() does not take NULL here", meta.func_name),
        None => format!("check the pointer against NULL before passing it to {}()", meta.func_name),
    }
}

/// The hint for a load or store through a pointer that may still be NULL.
pub fn null_deref_hint(env: &Env<'_>, reg: &RegState) -> Option<String> {
    if !type_may_be_null(reg.ty) {
        return None;
    }
    let origin = (reg.ref_obj_id != 0)
        .then(|| env.cur.refs.iter().find(|r| r.id == reg.ref_obj_id))
        .flatten()
        .and_then(|r| call_name_at(env, r.insn_idx as usize));
    Some(match origin {
        Some(f) => format!("{f}() may return NULL: check the pointer against NULL before using it"),
        None => "the pointer may be NULL: check it against NULL before using it".to_string(),
    })
}

/// Mirrors `check_kfunc_args()`.
pub fn check_kfunc_args(env: &mut Env<'_>, meta: &mut KfuncCallArgMeta, insn_idx: usize) -> Result<()> {
    let btf = meta.desc_btf.clone().expect("fetch_kfunc_meta sets desc_btf");
    let Some(proto) = btf.get(meta.func_proto) else {
        return Err(env.verifier_bug(format!("kfunc {} has no prototype", meta.func_name)));
    };
    let args: Vec<Param<'_>> = proto.params().collect();
    let nargs = args.len();
    if nargs > MAX_BPF_FUNC_REG_ARGS {
        let msg = format!("Function {} has {nargs} > {MAX_BPF_FUNC_REG_ARGS} args", meta.func_name);
        return Err(env.reject(Errno::Inval, msg));
    }
    let mut i = 0;
    while i < nargs {
        let regno = i + 1;
        let reg = env.reg(regno).clone();
        let arg = args[i];
        let Some(t) = btf_type_skip_modifiers(&btf, arg.type_id) else {
            return Err(env.verifier_bug(format!("kfunc {} arg#{i} has an unknown type", meta.func_name)));
        };
        if btf_param_match_suffix(&arg, "__ign") {
            i += 1;
            continue;
        }
        if btf_param_match_suffix(&arg, "__prog") {
            if meta.arg_prog {
                return Err(env.reject(Errno::Fault, "Only 1 prog->aux argument supported per-kfunc"));
            }
            meta.arg_prog = true;
            i += 1;
            continue;
        }
        if btf_type_is_scalar(&t) {
            if reg.ty != SCALAR_VALUE {
                return Err(env.reject(Errno::Inval, format!("R{regno} is not a scalar")));
            }
            let mut is_ret_buf_sz = false;
            if btf_param_match_suffix(&arg, "__k") {
                if meta.arg_constant.is_some() {
                    return Err(env.verifier_bug("only one constant argument permitted"));
                }
                if !reg.s.var_off.is_const() {
                    env.hint = Some(format!(
                        "argument {} of {}() ({}) must be a compile-time constant",
                        i + 1,
                        meta.func_name,
                        arg.name
                    ));
                    return Err(env.reject(Errno::Inval, format!("R{regno} must be a known constant")));
                }
                mark_chain_precision(env, regno as i32)?;
                meta.arg_constant = Some(reg.s.var_off.value);
            } else if is_kfunc_arg_scalar_with_name(&btf, &arg, "rdonly_buf_size") {
                meta.r0_rdonly = true;
                is_ret_buf_sz = true;
            } else if is_kfunc_arg_scalar_with_name(&btf, &arg, "rdwr_buf_size") {
                is_ret_buf_sz = true;
            }
            if is_ret_buf_sz {
                if meta.r0_size != 0 {
                    // The kernel's message has no newline.
                    verbose!(env.log, "2 or more rdonly/rdwr_buf_size parameters for kfunc");
                    return Err(
                        env.rejected(Errno::Inval, "2 or more rdonly/rdwr_buf_size parameters for kfunc")
                    );
                }
                if !reg.s.var_off.is_const() {
                    return Err(env.reject(Errno::Inval, format!("R{regno} is not a const")));
                }
                meta.r0_size = reg.s.var_off.value;
                mark_chain_precision(env, regno as i32)?;
            }
            i += 1;
            continue;
        }
        if t.kind() != Kind::Ptr {
            return Err(env.reject(Errno::Inval, format!("Unrecognized arg#{i} type {}", btf_type_str(&t))));
        }
        if (meta.is_kfunc_trusted_args() || meta.is_kfunc_rcu())
            && (reg.is_null() || type_may_be_null(reg.ty))
            && !btf_param_match_suffix(&arg, "__nullable")
        {
            env.hint = Some(null_hint(env, meta, &reg));
            return Err(env.reject(Errno::Acces, format!("Possibly NULL pointer passed to trusted arg{i}")));
        }
        if reg.ref_obj_id != 0 {
            if meta.is_kfunc_release() && meta.ref_obj_id != 0 {
                return Err(env.verifier_bug(format!(
                    "more than one arg with ref_obj_id R{regno} {} {}",
                    reg.ref_obj_id, meta.ref_obj_id
                )));
            }
            meta.ref_obj_id = reg.ref_obj_id;
            if meta.is_kfunc_release() {
                meta.release_regno = regno;
            }
        }
        let Some(mut ref_t) = btf_type_skip_modifiers(&btf, t.size_or_type()) else {
            return Err(
                env.verifier_bug(format!("kfunc {} arg#{i} points to an unknown type", meta.func_name))
            );
        };
        let kf_arg_type = get_kfunc_ptr_arg_type(env, meta, &t, &ref_t, &args, i)?;
        if kf_arg_type == KfuncArgType::Null {
            i += 1;
            continue;
        }
        if kf_arg_type == KfuncArgType::Map {
            if reg.map == 0 {
                return Err(env.reject(Errno::Inval, format!("pointer in R{regno} isn't map pointer")));
            }
            if meta.map != 0 {
                return Err(VerifyError::Unsupported(
                    "kfuncs taking maps with workqueues or task_work".into(),
                ));
            }
            meta.map = reg.map;
            meta.map_uid = reg.map_uid;
        }
        if matches!(kf_arg_type, KfuncArgType::Map | KfuncArgType::AllocBtfId | KfuncArgType::BtfId)
            && (meta.is_kfunc_trusted_args() || meta.is_kfunc_rcu())
            && !is_trusted_reg(&reg)
        {
            if !meta.is_kfunc_rcu() {
                env.hint = Some(untrusted_hint(env, meta, &reg));
                return Err(env.reject(Errno::Inval, format!("R{regno} must be referenced or trusted")));
            }
            if !is_rcu_reg(&reg) {
                env.hint = Some(untrusted_hint(env, meta, &reg));
                return Err(env.reject(Errno::Inval, format!("R{regno} must be a rcu pointer")));
            }
        }
        let release = meta.is_kfunc_release() && reg.ref_obj_id != 0;
        check_func_arg_reg_off(env, regno, if release { OBJ_RELEASE } else { 0 })?;
        match kf_arg_type {
            KfuncArgType::Ctx => {
                if reg.ty != PTR_TO_CTX {
                    let msg = format!("arg#{i} expected pointer to ctx, but got {}", reg_type_str(reg.ty));
                    return Err(env.reject(Errno::Inval, msg));
                }
                if meta.is("bpf_cast_to_kern_ctx") {
                    meta.ret_btf_id = get_kern_ctx_btf_id(env)?;
                }
            }
            KfuncArgType::AllocBtfId => check_kfunc_arg_alloc(env, meta, regno, i)?,
            KfuncArgType::Dynptr => {
                let uninit = btf_param_match_suffix(&arg, "__uninit");
                check_kfunc_arg_dynptr(env, meta, regno, i, uninit, insn_idx)?;
            }
            KfuncArgType::Iter => check_kfunc_arg_iter(env, meta, regno, i, insn_idx)?,
            KfuncArgType::ListHead
            | KfuncArgType::ListNode
            | KfuncArgType::RbRoot
            | KfuncArgType::RbNode
            | KfuncArgType::RefcountedKptr => check_kfunc_arg_graph(env, meta, kf_arg_type, regno, i)?,
            KfuncArgType::Map | KfuncArgType::BtfId => {
                let mut ref_id = ref_t.id();
                if kf_arg_type == KfuncArgType::Map {
                    let Some(id) = reg2btf_id(&btf, CONST_PTR_TO_MAP) else {
                        return Err(VerifyError::Unsupported(
                            "struct bpf_map is not in the kernel BTF".into(),
                        ));
                    };
                    ref_id = id;
                    ref_t = btf.get(id).expect("found by name");
                }
                if (base_type(reg.ty) != PTR_TO_BTF_ID
                    || (bpf_type_has_unsafe_modifiers(reg.ty) && !is_rcu_reg(&reg)))
                    && !reg2btf_ids_has(reg.ty)
                {
                    verbose!(env.log, "arg#{i} is {} ", reg_type_str(reg.ty));
                    let expected =
                        reg_type_str(base_type(reg.ty) | (type_flag(reg.ty) & BPF_REG_TRUSTED_MODIFIERS));
                    verbose!(env.log, "expected {expected} or socket\n");
                    env.hint = Some(untrusted_hint(env, meta, &reg));
                    return Err(env.rejected(
                        Errno::Inval,
                        format!("arg#{i} is {} expected {expected} or socket", reg_type_str(reg.ty)),
                    ));
                }
                process_kf_arg_ptr_to_btf_id(env, meta, regno, &ref_t, ref_id, i)?;
            }
            KfuncArgType::Mem => {
                let size = match btf.resolve_size(ref_t.id()) {
                    Ok(s) => s,
                    Err(_) => {
                        let msg = format!(
                            "arg#{i} reference type('{} {}') size cannot be determined: -22",
                            btf_type_str(&ref_t),
                            ref_t.name()
                        );
                        return Err(env.reject(Errno::Inval, msg));
                    }
                };
                check_mem_reg(env, regno, size)?;
            }
            KfuncArgType::MemSize => {
                let size_arg = args[i + 1];
                let size_reg = env.reg(regno + 1).clone();
                if !reg.is_null() || !btf_param_match_suffix(&arg, "__opt") {
                    if let Err(e) = check_kfunc_mem_size_reg(env, regno + 1) {
                        if let VerifyError::Rejected(_) = e {
                            verbose!(
                                env.log,
                                "arg#{i} arg#{} memory, len pair leads to invalid memory access\n",
                                i + 1
                            );
                        }
                        return Err(e);
                    }
                }
                if is_kfunc_arg_const_mem_size(&btf, &size_arg, &size_reg) {
                    if meta.arg_constant.is_some() {
                        return Err(env.verifier_bug("only one constant argument permitted"));
                    }
                    if !size_reg.s.var_off.is_const() {
                        return Err(
                            env.reject(Errno::Inval, format!("R{} must be a known constant", regno + 1))
                        );
                    }
                    meta.arg_constant = Some(size_reg.s.var_off.value);
                }
                i += 1;
            }
            KfuncArgType::Callback => {
                if reg.ty != PTR_TO_FUNC {
                    return Err(env.reject(Errno::Inval, format!("arg{i} expected pointer to func")));
                }
                meta.subprogno = reg.subprogno;
            }
            KfuncArgType::ConstStr => {
                if reg.ty != PTR_TO_MAP_VALUE {
                    return Err(env.reject(Errno::Inval, format!("arg#{i} doesn't point to a const string")));
                }
                check_reg_const_str(env, regno)?;
            }
            KfuncArgType::IrqFlag => {
                if reg.ty != PTR_TO_STACK {
                    return Err(
                        env.reject(Errno::Inval, format!("arg#{i} doesn't point to an irq flag on stack"))
                    );
                }
                process_irq_flag(env, meta, regno)?;
            }
            KfuncArgType::Kptr => {
                if reg.ty != PTR_TO_MAP_VALUE {
                    return Err(env.reject(Errno::Inval, "arg#0 expected pointer to map value"));
                }
                process_kf_arg_ptr_to_kptr(env, meta, regno, &ref_t, i)?;
            }
            KfuncArgType::Workqueue | KfuncArgType::TaskWork | KfuncArgType::ResSpinLock => {
                return Err(VerifyError::Unsupported(format!(
                    "{kf_arg_type:?} arguments of {}",
                    meta.func_name
                )));
            }
            KfuncArgType::Null => {}
        }
        i += 1;
    }
    if meta.is_kfunc_release() && meta.release_regno == 0 {
        let name = meta.func_name.clone();
        env.hint = Some(format!(
            "{name}() releases a reference: pass it a pointer returned by an acquiring kfunc, not a \
             borrowed or already released one"
        ));
        return Err(env.reject(
            Errno::Inval,
            format!("release kernel function {name} expects refcounted PTR_TO_BTF_ID"),
        ));
    }
    Ok(())
}

/// Mirrors `get_kern_ctx_btf_id()`: the kernel struct behind the program's context.
fn get_kern_ctx_btf_id(env: &mut Env<'_>) -> Result<u32> {
    let name = match env.opts.prog_type {
        1 | 3 | 4 | 8 | 10 | 11 | 12 | 14 | 21 => "sk_buff",
        6 => "xdp_buff",
        2 => "pt_regs",
        7 => "bpf_perf_event_data_kern",
        9 => "sock",
        _ => return Ok(0),
    };
    Ok(env
        .opts
        .kernel_btf
        .as_ref()
        .and_then(|b| b.find_by_name_kind(name, Kind::Struct))
        .map_or(0, |t| t.id()))
}

/// Mirrors `check_reg_const_str()` as far as kfvm knows the map: a frozen (read-only) map
/// value at a constant offset. The zero terminator needs the map's contents.
fn check_reg_const_str(env: &mut Env<'_>, regno: usize) -> Result<()> {
    let reg = env.reg(regno).clone();
    let map = env.map(reg.map).clone();
    if !map.frozen {
        return Err(env.reject(Errno::Acces, format!("R{regno} does not point to a readonly map'")));
    }
    if !reg.s.var_off.is_const() {
        return Err(env.reject(Errno::Acces, format!("R{regno} is not a constant address'")));
    }
    Err(VerifyError::Unsupported("constant string arguments (the map's contents)".into()))
}

/// `KF_ARG_PTR_TO_ALLOC_BTF_ID`: an object of `bpf_obj_new` ([`crate::obj::process_alloc_arg`]).
fn check_kfunc_arg_alloc(
    env: &mut Env<'_>,
    meta: &mut KfuncCallArgMeta,
    _regno: usize,
    argno: usize,
) -> Result<()> {
    let (btf, id) = crate::obj::process_alloc_arg(env, argno, crate::obj::obj_kfunc_kind(&meta.func_name))?;
    if meta.btf == BTF_VMLINUX {
        meta.arg_btf = btf;
        meta.arg_btf_id = id;
    }
    Ok(())
}

/// `KF_ARG_PTR_TO_DYNPTR`: `process_dynptr_func()` ([`crate::dynptr::process_kfunc_dynptr_arg`]).
fn check_kfunc_arg_dynptr(
    env: &mut Env<'_>,
    meta: &mut KfuncCallArgMeta,
    regno: usize,
    _argno: usize,
    uninit: bool,
    insn_idx: usize,
) -> Result<()> {
    let kind = DynptrKfunc::of(&meta.func_name);
    crate::dynptr::process_kfunc_dynptr_arg(
        env,
        regno,
        insn_idx as u32,
        uninit,
        kind,
        &mut meta.initialized_dynptr,
    )
}

/// `KF_ARG_PTR_TO_ITER`: [`crate::iter::process_iter_arg`].
fn check_kfunc_arg_iter(
    env: &mut Env<'_>,
    meta: &mut KfuncCallArgMeta,
    regno: usize,
    _argno: usize,
    insn_idx: usize,
) -> Result<()> {
    if meta.is("bpf_iter_css_task_new") {
        return Err(VerifyError::Unsupported("css_task iterators".into()));
    }
    meta.iter.func_name = meta.func_name.clone();
    meta.iter.kfunc_flags = meta.kfunc_flags;
    meta.iter.func_proto = meta.func_proto;
    crate::iter::process_iter_arg(env, regno, insn_idx as u32, &mut meta.iter)?;
    // process_iter_arg() sets meta->ref_obj_id to an initialised iterator's reference: the
    // element iter_next() returns carries it, and dies with the iterator.
    if meta.iter.ref_obj_id != 0 {
        meta.ref_obj_id = meta.iter.ref_obj_id;
    }
    Ok(())
}

/// The graph API's and refcounted objects' arguments (`obj.rs`).
fn check_kfunc_arg_graph(
    _env: &mut Env<'_>,
    meta: &mut KfuncCallArgMeta,
    kind: KfuncArgType,
    _regno: usize,
    _argno: usize,
) -> Result<()> {
    Err(VerifyError::Unsupported(format!("{kind:?} arguments ({})", meta.func_name)))
}

// ---------------------------------------------------------------------------------------------
// IRQ flags (`bpf_local_irq_save`/`restore`).

/// Mirrors `stack_slot_obj_get_spi()` for one slot: `Ok(None)` is `-ERANGE` (beyond the
/// allocated stack).
fn irq_flag_get_spi(env: &mut Env<'_>, reg: &RegState) -> Result<Option<usize>> {
    if !reg.s.var_off.is_const() {
        return Err(env.reject(Errno::Inval, "irq_flag has to be at a constant offset"));
    }
    let off = reg.off as i64 + reg.s.var_off.value as i64;
    if off % BPF_REG_SIZE as i64 != 0 {
        return Err(env.reject(Errno::Inval, format!("cannot pass in irq_flag at an offset={off}")));
    }
    let spi = (-off - 1) / BPF_REG_SIZE as i64;
    if spi < 0 {
        return Err(env.reject(Errno::Inval, format!("cannot pass in irq_flag at an offset={off}")));
    }
    let fr = reg.frameno as usize;
    if spi as usize >= env.cur.frame[fr].stack.len() {
        return Ok(None);
    }
    Ok(Some(spi as usize))
}

/// Mirrors `process_irq_flag()`.
fn process_irq_flag(env: &mut Env<'_>, meta: &KfuncCallArgMeta, regno: usize) -> Result<()> {
    let (irq_save, class) = match meta.func_name.as_str() {
        "bpf_local_irq_save" => (true, IRQ_NATIVE_KFUNC),
        "bpf_res_spin_lock_irqsave" => (true, IRQ_LOCK_KFUNC),
        "bpf_local_irq_restore" => (false, IRQ_NATIVE_KFUNC),
        "bpf_res_spin_unlock_irqrestore" => (false, IRQ_LOCK_KFUNC),
        _ => return Err(env.verifier_bug("unknown irq flags kfunc")),
    };
    let reg = env.reg(regno).clone();
    let fr = reg.frameno as usize;
    if irq_save {
        // is_irq_flag_reg_valid_uninit()
        let valid = match irq_flag_get_spi(env, &reg) {
            Ok(None) => true,
            Ok(Some(spi)) => !env.cur.frame[fr].stack[spi].slot_type.contains(&slot::IRQ_FLAG),
            Err(_) => false,
        };
        if !valid {
            return Err(
                env.reject(Errno::Inval, format!("expected uninitialized irq flag as arg#{}", regno - 1))
            );
        }
        let idx = env.insn_idx as usize;
        crate::mem::check_mem_access(env, idx, regno, 0, 0x18, Access::Write, -1, false, false)?;
        // mark_stack_slot_irq_flag()
        let Some(spi) = irq_flag_get_spi(env, &reg)? else {
            return Err(env.verifier_bug("irq flag slot beyond the stack after a write"));
        };
        let insn_idx = env.insn_idx;
        let id = env.new_id();
        env.cur.refs.push(RefState { ty: RefType::Irq, id, insn_idx, ptr: 0 });
        env.cur.active_irq_id = id;
        crate::liveness::bpf_mark_stack_write(env, reg.frameno, 1u64 << spi);
        let s = &mut env.cur.frame[fr].stack[spi];
        s.spilled_ptr.mark_known_zero();
        s.spilled_ptr.ty = PTR_TO_STACK;
        s.spilled_ptr.ref_obj_id = id;
        s.spilled_ptr.irq_kfunc_class = class;
        s.slot_type = [slot::IRQ_FLAG; BPF_REG_SIZE];
        env.mark_stack_slot_scratched(spi);
    } else {
        // is_irq_flag_reg_valid_init()
        let spi = match irq_flag_get_spi(env, &reg) {
            Ok(Some(spi))
                if env.cur.frame[fr].stack[spi].spilled_ptr.ref_obj_id != 0
                    && env.cur.frame[fr].stack[spi].slot_type.iter().all(|&t| t == slot::IRQ_FLAG) =>
            {
                spi
            }
            _ => {
                env.hint = Some("pass the flag a bpf_local_irq_save() on this path filled".into());
                return Err(env
                    .reject(Errno::Inval, format!("expected an initialized irq flag as arg#{}", regno - 1)));
            }
        };
        // mark_irq_flag_read()
        let insn_idx = env.insn_idx;
        crate::liveness::bpf_mark_stack_read(env, reg.frameno, insn_idx, 1u64 << spi)?;
        // unmark_stack_slot_irq_flag()
        let st = env.cur.frame[fr].stack[spi].spilled_ptr.clone();
        if st.irq_kfunc_class != class {
            let n = |c: u8| if c == IRQ_NATIVE_KFUNC { "native" } else { "lock" };
            return Err(env.reject(
                Errno::Inval,
                format!(
                    "irq flag acquired by {} kfuncs cannot be restored with {} kfuncs",
                    n(st.irq_kfunc_class),
                    n(class)
                ),
            ));
        }
        if st.ref_obj_id != env.cur.active_irq_id {
            let active = env.cur.active_irq_id;
            let at = env.cur.refs.iter().find(|r| r.id == active).map_or(0, |r| r.insn_idx);
            return Err(env.reject(
                Errno::Acces,
                format!(
                    "cannot restore irq state out of order, expected id={active} acquired at insn_idx={at}"
                ),
            ));
        }
        // release_irq_state()
        let mut prev_id = 0;
        let mut found = None;
        for (k, r) in env.cur.refs.iter().enumerate() {
            if r.ty != RefType::Irq {
                continue;
            }
            if r.id == st.ref_obj_id {
                found = Some(k);
                break;
            }
            prev_id = r.id;
        }
        let Some(k) = found else {
            return Err(env.verifier_bug("irq flag without its reference"));
        };
        env.cur.refs.remove(k);
        env.cur.active_irq_id = prev_id;
        let cap = env.bpf_capable;
        crate::liveness::bpf_mark_stack_write(env, reg.frameno, 1u64 << spi);
        let s = &mut env.cur.frame[fr].stack[spi];
        s.spilled_ptr.mark_not_init(cap);
        s.slot_type = [slot::INVALID; BPF_REG_SIZE];
        env.mark_stack_slot_scratched(spi);
    }
    Ok(())
}
