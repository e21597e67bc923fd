//! The program's BTF `func_info`: its checks at load (`check_btf_func_early()`,
//! `check_btf_info()`), the argument expectations of subprograms (`btf_prepare_func_args()`,
//! from kernel/bpf/btf.c) and their check at a call (`btf_check_subprog_call()`).
//!
//! Supported argument kinds are the kernel's default ones: scalars (`ARG_ANYTHING`), the
//! context (`ARG_PTR_TO_CTX`) and, for global functions, sized memory (`ARG_PTR_TO_MEM`,
//! nullable unless `arg:nonnull`) and trusted kernel objects (`arg:trusted`, with
//! `arg:nullable`). Not yet: the `arg:untrusted`/`arg:arena` tags, dynptr arguments,
//! `BPF_PROG_TYPE_EXT`.

use crate::env::{Env, FuncInfoAux, SubprogArg, BTF_FUNC_GLOBAL, BTF_VMLINUX};
use crate::error::{Errno, Result, VerifyError};
use crate::log::VerifierLog;
use crate::mem::Access;
use crate::print::reg_type_str;
use crate::state::*;
use crate::verbose;
use crate::CheckOptions;
use kfvm_btf::{Btf, Kind};

/// `MAX_BPF_FUNC_REG_ARGS`.
const MAX_BPF_FUNC_REG_ARGS: usize = 5;

/// `btf_type_str()`: the kernel's name of a BTF kind.
fn kind_str(k: Kind) -> &'static str {
    k.as_str()
}

fn reject(log: &mut VerifierLog, errno: Errno, msg: String) -> VerifyError {
    verbose!(log, "{msg}");
    VerifyError::reject(errno, None, msg.trim_end().to_string())
}

/// Mirrors `check_btf_func_early()`: each `func_info` record starts after the previous one and
/// names a `FUNC`. (Its messages end without a newline, as the kernel's do.)
pub fn check_btf_func_early(opts: &CheckOptions, log: &mut VerifierLog) -> Result<()> {
    let Some(pb) = &opts.prog_btf else { return Ok(()) };
    let mut prev = 0;
    for (i, &(off, type_id)) in pb.func_info.iter().enumerate() {
        if i == 0 {
            if off != 0 {
                return Err(reject(
                    log,
                    Errno::Inval,
                    format!("nonzero insn_off {off} for the first func info record"),
                ));
            }
        } else if off <= prev {
            return Err(reject(
                log,
                Errno::Inval,
                format!("same or smaller insn offset ({off}) than previous func info record ({prev})"),
            ));
        }
        let is_func = pb.btf.type_by_id(type_id).is_ok_and(|t| t.kind() == Kind::Func && type_id != 0);
        if !is_func {
            return Err(reject(log, Errno::Inval, format!("invalid type id {type_id} in func info")));
        }
        prev = off;
    }
    Ok(())
}

/// Mirrors `check_btf_info()` after `check_subprogs()`: `check_btf_func()` with `func_info`,
/// `check_abnormal_return()` without.
pub fn check_btf_info(
    opts: &CheckOptions,
    subprogs: &[crate::cfg::SubprogInfo],
    log: &mut VerifierLog,
) -> Result<Vec<FuncInfoAux>> {
    let Some(pb) = opts.prog_btf.as_ref().filter(|p| !p.func_info.is_empty()) else {
        // check_abnormal_return()
        for sp in subprogs.iter().skip(1) {
            if sp.has_ld_abs {
                return Err(reject(
                    log,
                    Errno::Inval,
                    "LD_ABS is not allowed in subprogs without BTF\n".into(),
                ));
            }
            if sp.has_tail_call {
                return Err(reject(
                    log,
                    Errno::Inval,
                    "tail_call is not allowed in subprogs without BTF\n".into(),
                ));
            }
        }
        return Ok(Vec::new());
    };
    if pb.func_info.len() != subprogs.len() {
        return Err(reject(
            log,
            Errno::Inval,
            "number of funcs in func_info doesn't match number of subprogs\n".into(),
        ));
    }
    let mut out = Vec::with_capacity(subprogs.len());
    for (i, (&(off, type_id), sp)) in pb.func_info.iter().zip(subprogs).enumerate() {
        if sp.start as u32 != off {
            return Err(reject(
                log,
                Errno::Inval,
                "func_info BTF section doesn't match subprog layout in BPF program\n".into(),
            ));
        }
        let t = pb.btf.type_by_id(type_id).map_err(|e| VerifyError::Internal(format!("func_info: {e}")))?;
        let linkage = t.vlen();
        let scalar_return = pb
            .btf
            .func_proto(type_id)
            .ok()
            .and_then(|p| p.type_id())
            .and_then(|r| pb.btf.skip_mods_and_typedefs(r).ok())
            .is_some_and(|r| {
                (r.kind() == Kind::Int && r.size().is_some_and(|s| s <= 8))
                    || matches!(r.kind(), Kind::Enum | Kind::Enum64)
            });
        if i > 0 && !scalar_return && sp.has_ld_abs {
            return Err(reject(
                log,
                Errno::Inval,
                "LD_ABS is only allowed in functions that return 'int'.\n".into(),
            ));
        }
        if i > 0 && !scalar_return && sp.has_tail_call {
            return Err(reject(
                log,
                Errno::Inval,
                "tail_call is only allowed in functions that return 'int'.\n".into(),
            ));
        }
        out.push(FuncInfoAux { linkage, ..Default::default() });
    }
    Ok(out)
}

/// The BTF `FUNC` of subprogram `subprog`, if the program has `func_info`.
fn func_type<'a>(env: &'a Env<'_>, subprog: usize) -> Option<(&'a Btf, u32)> {
    let pb = env.opts.prog_btf.as_ref()?;
    pb.func_info.get(subprog).map(|&(_, id)| (&*pb.btf, id))
}

impl Env<'_> {
    /// `subprog_is_global()`.
    pub fn subprog_is_global(&self, subprog: usize) -> bool {
        self.func_info_aux.get(subprog).is_some_and(|a| a.linkage == BTF_FUNC_GLOBAL)
    }

    /// `subprog_name()`: the function's BTF name.
    pub fn subprog_name(&self, subprog: usize) -> String {
        func_type(self, subprog)
            .and_then(|(btf, id)| btf.type_by_id(id).ok().map(|t| t.name().to_string()))
            .unwrap_or_default()
    }
}

/// The struct name of the context of `prog_type` (`find_canonical_prog_ctx_type()`), and the
/// kernel-side projection name it may also be called by.
fn ctx_type_names(prog_type: u32) -> &'static [&'static str] {
    use crate::env::prog_type as pt;
    match prog_type {
        pt::SOCKET_FILTER | pt::SCHED_CLS | pt::SCHED_ACT | pt::CGROUP_SKB => &["__sk_buff", "sk_buff"],
        pt::XDP => &["xdp_md", "xdp_buff"],
        pt::KPROBE => &["pt_regs"],
        _ => &[],
    }
}

/// Mirrors `btf_is_prog_ctx_type()` for pointer type `ptr` (a `PTR`).
fn is_prog_ctx_type(btf: &Btf, ptr_target: u32, prog_type: u32) -> bool {
    use crate::env::prog_type as pt;
    if prog_type == pt::KPROBE {
        if let Ok(t) = btf.strip_mods(ptr_target) {
            if t.kind() == Kind::Typedef && t.name() == "bpf_user_pt_regs_t" {
                return true;
            }
        }
    }
    let Ok(t) = btf.skip_mods_and_typedefs(ptr_target) else { return false };
    if !matches!(t.kind(), Kind::Struct | Kind::Union) {
        return false;
    }
    ctx_type_names(prog_type).contains(&t.name())
}

/// Why a function's BTF cannot be converted: the error number and the message (already
/// logged; empty when the kernel says nothing, for static functions).
type PrepErr = (Errno, String);

/// Logs `msg` (a `bpf_log()` of `btf_prepare_func_args()`) and returns it as the reason.
fn prep_fail(env: &mut Env<'_>, errno: Errno, msg: String) -> Result<std::result::Result<(), PrepErr>> {
    verbose!(env.log, "{msg}\n");
    Ok(Err((errno, msg)))
}

/// Mirrors `btf_prepare_func_args()`: the verifier's expectation of each argument of
/// subprogram `subprog`. `Ok(Err(..))`: not convertible (`-EINVAL`/`-EOPNOTSUPP`, which only a
/// global function's own verification turns into a rejection); `Err`: a verifier bug.
fn btf_prepare_func_args(env: &mut Env<'_>, subprog: usize) -> Result<std::result::Result<(), PrepErr>> {
    let is_global = env.subprog_is_global(subprog);
    if env.func_info_aux[subprog].args_cached {
        return Ok(Ok(()));
    }
    let Some((btf, fn_id)) = func_type(env, subprog) else {
        return Err(env.verifier_bug("func_info undefined"));
    };
    let pb = env.opts.prog_btf.as_ref().expect("func_info").btf.clone();
    let _ = btf;
    let btf = &*pb;
    let fn_t = btf.type_by_id(fn_id).map_err(|e| VerifyError::Internal(e.to_string()))?;
    let tname = fn_t.name().to_string();
    let Ok(proto) = btf.func_proto(fn_id) else {
        verbose!(env.log, "Invalid type of function {tname}()\n");
        return Err(env.rejected(Errno::Fault, format!("Invalid type of function {tname}()")));
    };
    let params: Vec<(u32, String)> =
        proto.params().map(|p| (p.type_id, p.name.to_string())).collect::<Vec<_>>();
    if params.len() > MAX_BPF_FUNC_REG_ARGS {
        if !is_global {
            return Ok(Err((Errno::Inval, String::new())));
        }
        return prep_fail(
            env,
            Errno::Inval,
            format!(
                "Global function {tname}() with {} > {MAX_BPF_FUNC_REG_ARGS} args. Buggy compiler.",
                params.len()
            ),
        );
    }
    let ret_ok = match proto.type_id() {
        None | Some(0) => false,
        Some(r) => btf
            .skip_mods_and_typedefs(r)
            .is_ok_and(|t| matches!(t.kind(), Kind::Int | Kind::Enum | Kind::Enum64)),
    };
    if !ret_ok {
        if !is_global {
            return Ok(Err((Errno::Inval, String::new())));
        }
        return prep_fail(
            env,
            Errno::Inval,
            format!("Global function {tname}() doesn't return scalar. Only those are supported."),
        );
    }
    let mut args = Vec::with_capacity(params.len());
    for (i, (ty, _)) in params.iter().enumerate() {
        let tags: Vec<String> = btf
            .component_decl_tags(fn_id, i as u32)
            .iter()
            .filter_map(|t| t.value.strip_prefix("arg:").map(str::to_string))
            .collect();
        if !tags.is_empty() && !is_global {
            return prep_fail(
                env,
                Errno::OpNotSupp,
                format!("arg#{i} type tag is not supported in static functions"),
            );
        }
        let (mut nonnull, mut ctx_tag, mut trusted, mut nullable) = (false, false, false, false);
        for t in &tags {
            match t.as_str() {
                "ctx" => ctx_tag = true,
                "nonnull" => nonnull = true,
                "trusted" => trusted = true,
                "nullable" => nullable = true,
                "untrusted" | "arena" => {
                    return Err(VerifyError::Unsupported(format!("the arg:{t} tag of global functions")));
                }
                _ => {
                    return prep_fail(env, Errno::OpNotSupp, format!("arg#{i} has unsupported set of tags"));
                }
            }
        }
        let t = btf.skip_mods_and_typedefs(*ty).map_err(|e| VerifyError::Internal(e.to_string()))?;
        if t.kind() == Kind::Ptr {
            let target = t.type_id().unwrap_or(0);
            if ctx_tag || is_prog_ctx_type(btf, target, env.opts.prog_type) {
                if nonnull || trusted || nullable {
                    return prep_fail(env, Errno::Inval, format!("arg#{i} has invalid combination of tags"));
                }
                if ctx_tag {
                    return Err(VerifyError::Unsupported("the arg:ctx tag of global functions".into()));
                }
                args.push(SubprogArg::Ctx);
                continue;
            }
            if trusted {
                if nonnull {
                    return prep_fail(env, Errno::Inval, format!("arg#{i} has invalid combination of tags"));
                }
                let btf_id = match btf_get_ptr_to_btf_id(env, i, btf, target)? {
                    Ok(id) => id,
                    Err(e) => return Ok(Err(e)),
                };
                args.push(SubprogArg::TrustedBtfId { btf_id, maybe_null: nullable });
                continue;
            }
            if is_global {
                if nullable {
                    return prep_fail(env, Errno::Inval, format!("arg#{i} has invalid combination of tags"));
                }
                let pointee = btf.skip_mods_and_typedefs(target).ok();
                match btf.resolve_size(target) {
                    Ok(size) if target != 0 => {
                        args.push(SubprogArg::Mem { size, maybe_null: !nonnull });
                    }
                    _ => {
                        let (k, n) =
                            pointee.map_or((Kind::Void, String::new()), |p| (p.kind(), p.name().to_string()));
                        let k = if target == 0 { Kind::Void } else { k };
                        return prep_fail(
                            env,
                            Errno::Inval,
                            format!(
                                "arg#{i} reference type('{} {n}') size cannot be determined: -22",
                                kind_str(k)
                            ),
                        );
                    }
                }
                continue;
            }
        }
        if !tags.is_empty() {
            return prep_fail(
                env,
                Errno::Inval,
                format!("arg#{i} has pointer tag, but is not a pointer type"),
            );
        }
        if matches!(t.kind(), Kind::Int | Kind::Enum | Kind::Enum64) {
            args.push(SubprogArg::Anything);
            continue;
        }
        if !is_global {
            return Ok(Err((Errno::Inval, String::new())));
        }
        return prep_fail(
            env,
            Errno::Inval,
            format!("Arg#{i} type {} in {tname}() is not supported yet.", kind_str(t.kind())),
        );
    }
    let a = &mut env.func_info_aux[subprog];
    a.args = args;
    a.args_cached = true;
    Ok(Ok(()))
}

/// Mirrors `btf_get_ptr_to_btf_id()`: the kernel type a pointer argument's pointee (`target`,
/// of the program BTF) names, found as CO-RE finds candidates (same kind, same name without a
/// `___flavor` suffix); exactly one must match.
fn btf_get_ptr_to_btf_id(
    env: &mut Env<'_>,
    arg: usize,
    btf: &Btf,
    target: u32,
) -> Result<std::result::Result<u32, PrepErr>> {
    let t = btf.strip_mods(target).map_err(|e| VerifyError::Internal(e.to_string()))?;
    let (kind, name) = (t.kind(), t.name().to_string());
    let essential = name.find("___").map_or(name.as_str(), |i| &name[..i]);
    let kbtf = env.kernel_btf("arg:trusted arguments of global functions")?;
    let cands: Vec<u32> = if essential.is_empty() {
        Vec::new()
    } else {
        kbtf.types().filter(|k| k.kind() == kind && k.name() == essential).map(|k| k.id()).take(2).collect()
    };
    if cands.len() != 1 {
        let (errno, what) =
            if cands.is_empty() { (Errno::NoEnt, "has no matches") } else { (Errno::Srch, "is ambiguous") };
        let msg = format!("arg#{arg} reference type('{} {name}') {what}", kind_str(kind));
        verbose!(env.log, "{msg}\n");
        return Ok(Err((errno, msg)));
    }
    Ok(Ok(cands[0]))
}

/// The `ARG_PTR_TO_BTF_ID` part of `check_reg_type()` for a global function's argument
/// (`meta.func_id` zero): the register must be one of `btf_ptr_types` (NULL-ness aside when the
/// argument is nullable) and point to the expected kernel type.
fn check_btf_id_arg(env: &mut Env<'_>, regno: usize, btf_id: u32, maybe_null: bool) -> Result<()> {
    let reg = env.reg(regno).clone();
    let mut t = reg.ty;
    if maybe_null {
        t &= !PTR_MAYBE_NULL;
    }
    const BTF_PTR_TYPES: [u32; 3] = [PTR_TO_BTF_ID, PTR_TO_BTF_ID | PTR_TRUSTED, PTR_TO_BTF_ID | MEM_RCU];
    if !BTF_PTR_TYPES.contains(&t) {
        let names: Vec<String> = BTF_PTR_TYPES.iter().map(|&x| reg_type_str(x)).collect();
        return Err(env.reject(
            Errno::Acces,
            format!("R{regno} type={} expected={}", reg_type_str(reg.ty), names.join(", ")),
        ));
    }
    if !crate::btf_access::btf_struct_ids_match(env, reg.btf, reg.btf_id, reg.off, BTF_VMLINUX, btf_id, false)
    {
        let have = env.btf_type_name(reg.btf, reg.btf_id);
        let need = env.btf_type_name(BTF_VMLINUX, btf_id);
        return Err(env.reject(Errno::Acces, format!("R{regno} is of type {have} but {need} is expected")));
    }
    Ok(())
}

/// Mirrors `check_mem_reg()`: `mem_size` bytes at the register are readable and writable (a
/// NULL register passes; a maybe-NULL one is checked as if not NULL).
fn check_mem_reg(env: &mut Env<'_>, regno: usize, mem_size: u32) -> Result<()> {
    let reg = env.reg(regno).clone();
    if reg.is_null() {
        return Ok(());
    }
    let may_be_null = type_may_be_null(reg.ty);
    if may_be_null {
        let mut r = reg.clone();
        crate::jmp::mark_ptr_not_null_reg(env, &mut r);
        *env.reg_mut(regno) = r;
    }
    let res = crate::mem::check_helper_mem_access(env, regno, mem_size as i32, Access::Read, true, None)
        .and_then(|_| {
            crate::mem::check_helper_mem_access(env, regno, mem_size as i32, Access::Write, true, None)
        });
    if may_be_null {
        *env.reg_mut(regno) = reg;
    }
    res
}

/// Mirrors `btf_check_func_arg_match()`. `Ok(false)`: a mismatch (already logged).
fn btf_check_func_arg_match(env: &mut Env<'_>, subprog: usize) -> Result<bool> {
    if btf_prepare_func_args(env, subprog)?.is_err() {
        return Ok(false);
    }
    let args = env.func_info_aux[subprog].args.clone();
    for (i, arg) in args.iter().enumerate() {
        let regno = i + 1;
        let reg = env.reg(regno).clone();
        match *arg {
            SubprogArg::Anything => {
                if reg.ty != SCALAR_VALUE {
                    verbose!(env.log, "R{regno} is not a scalar\n");
                    return Ok(false);
                }
            }
            SubprogArg::Ctx => {
                crate::call::check_func_arg_reg_off(env, regno, 0)?;
                if reg.ty != PTR_TO_CTX {
                    verbose!(env.log, "arg#{i} expects pointer to ctx\n");
                    return Ok(false);
                }
            }
            SubprogArg::TrustedBtfId { btf_id, maybe_null } => {
                if reg.is_null() && maybe_null {
                    continue;
                }
                let r = check_btf_id_arg(env, regno, btf_id, maybe_null)
                    .and_then(|_| crate::call::check_func_arg_reg_off(env, regno, 0));
                match r {
                    Ok(()) => {}
                    Err(VerifyError::Rejected(rej)) => {
                        env.func_info_aux[subprog].arg_errno = Some(rej.errno);
                        return Ok(false);
                    }
                    Err(e) => return Err(e),
                }
            }
            SubprogArg::Mem { size, maybe_null } => {
                crate::call::check_func_arg_reg_off(env, regno, 0)?;
                match check_mem_reg(env, regno, size) {
                    Ok(()) => {}
                    Err(VerifyError::Rejected(_)) => return Ok(false),
                    Err(e) => return Err(e),
                }
                if !maybe_null && type_may_be_null(reg.ty) {
                    verbose!(env.log, "arg#{i} is expected to be non-NULL\n");
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// Mirrors `btf_check_subprog_call()`: whether the registers match the BTF arguments of
/// `subprog`. `Ok(false)` (`-EINVAL`): no BTF, unreliable BTF, or a mismatch.
pub fn btf_check_subprog_call(env: &mut Env<'_>, subprog: usize) -> Result<bool> {
    if env.func_info_aux.is_empty() {
        return Ok(false);
    }
    if env.func_info_aux[subprog].unreliable {
        return Ok(false);
    }
    let ok = btf_check_func_arg_match(env, subprog)?;
    if !ok {
        env.func_info_aux[subprog].unreliable = true;
    }
    Ok(ok)
}

/// The registers of a global function's entry from its BTF arguments (the subprogram part of
/// `do_check_common()`).
pub fn init_global_args(env: &mut Env<'_>, subprog: usize) -> Result<()> {
    if let Err((errno, msg)) = btf_prepare_func_args(env, subprog)? {
        return Err(env.rejected(errno, msg));
    }
    let args = env.func_info_aux[subprog].args.clone();
    for (i, arg) in args.iter().enumerate() {
        let regno = i + 1;
        match *arg {
            SubprogArg::Ctx => {
                let r = env.reg_mut(regno);
                r.ty = PTR_TO_CTX;
                r.mark_known_zero();
            }
            SubprogArg::Anything => {
                let cap = env.bpf_capable;
                let r = env.reg_mut(regno);
                r.ty = SCALAR_VALUE;
                r.mark_unknown(cap);
            }
            SubprogArg::Mem { size, maybe_null } => {
                let id = if maybe_null { env.new_id() } else { 0 };
                let r = env.reg_mut(regno);
                r.ty = PTR_TO_MEM | if maybe_null { PTR_MAYBE_NULL } else { 0 };
                r.mark_known_zero();
                r.mem_size = size;
                r.id = id;
            }
            SubprogArg::TrustedBtfId { btf_id, maybe_null } => {
                let id = env.new_id();
                let r = env.reg_mut(regno);
                r.ty = PTR_TO_BTF_ID | PTR_TRUSTED | if maybe_null { PTR_MAYBE_NULL } else { 0 };
                r.mark_known_zero();
                r.btf = BTF_VMLINUX;
                r.btf_id = btf_id;
                r.id = id;
            }
        }
    }
    Ok(())
}

/// The main program's part of `do_check_common()` with `func_info`: its BTF must declare one
/// context argument, else it is marked unreliable (messages of `btf_prepare_func_args()` stay
/// in the log).
pub fn check_main_args(env: &mut Env<'_>) -> Result<()> {
    let ok = btf_prepare_func_args(env, 0)?.is_ok();
    let a = &env.func_info_aux[0];
    if !ok || a.args.len() != 1 || a.args[0] != SubprogArg::Ctx {
        env.func_info_aux[0].unreliable = true;
    }
    Ok(())
}
