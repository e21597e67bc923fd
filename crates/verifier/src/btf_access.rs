//! BTF-typed pointers (`PTR_TO_BTF_ID`): their trust (`is_trusted_reg()`, `is_rcu_reg()`,
//! `in_rcu_cs()`), loads through them (`check_ptr_to_btf_access()` in kernel/bpf/verifier.c with
//! `btf_struct_access()` / `btf_struct_walk()` of kernel/bpf/btf.c), the trust of the pointers
//! such a load yields (the `__safe_rcu` / `__safe_rcu_or_null` / `__safe_trusted` /
//! `__safe_trusted_or_null` shadow structs of the kernel BTF, `btf_nested_type_is_trusted()`),
//! and the names the log prints for them.
//!
//! A `PTR_TO_BTF_ID` register names its type by a BTF object number ([`RegState::btf`]:
//! [`BTF_VMLINUX`] for [`CheckOptions::kernel_btf`], [`BTF_PROG`] for the program's own BTF) and a
//! type id ([`RegState::btf_id`], always a struct or union with modifiers skipped). Every load
//! through such a pointer is recorded ([`crate::env::InsnAux::probe_mem`]): the kernel turns them
//! into `BPF_PROBE_MEM` loads, which read 0 instead of faulting.

use crate::env::*;
use crate::error::{Errno, Result, VerifyError};
use crate::mem::Access;
use crate::state::*;
use kfvm_btf::{Btf, Kind};

/// `BPF_REG_TRUSTED_MODIFIERS`: the flags a trusted register may carry.
pub const BPF_REG_TRUSTED_MODIFIERS: u32 = MEM_ALLOC | PTR_TRUSTED | NON_OWN_REF;

/// Mirrors `bpf_type_has_unsafe_modifiers()`: a flag outside [`BPF_REG_TRUSTED_MODIFIERS`].
pub const fn bpf_type_has_unsafe_modifiers(t: u32) -> bool {
    type_flag(t) & !BPF_REG_TRUSTED_MODIFIERS != 0
}

/// Mirrors `is_trusted_reg()`: referenced, a socket type of `reg2btf_ids[]` without unsafe
/// modifiers, or `PTR_TRUSTED` / `MEM_ALLOC` / `NON_OWN_REF` without unsafe modifiers.
pub fn is_trusted_reg(reg: &RegState) -> bool {
    if reg.ref_obj_id != 0 {
        return true;
    }
    let reg2btf = matches!(base_type(reg.ty), PTR_TO_SOCKET | PTR_TO_SOCK_COMMON | PTR_TO_TCP_SOCK);
    if reg2btf && !bpf_type_has_unsafe_modifiers(reg.ty) {
        return true;
    }
    type_flag(reg.ty) & BPF_REG_TRUSTED_MODIFIERS != 0 && !bpf_type_has_unsafe_modifiers(reg.ty)
}

/// Mirrors `is_rcu_reg()`.
pub const fn is_rcu_reg(reg: &RegState) -> bool {
    reg.ty & MEM_RCU != 0
}

/// Mirrors `clear_trusted_flags()`.
pub fn clear_trusted_flags(flag: &mut u32) {
    *flag &= !(BPF_REG_TRUSTED_MODIFIERS | MEM_RCU);
}

/// The types whose referenced kptrs load as `MEM_RCU` inside an RCU read section
/// (`rcu_protected_types` of verifier.c; `prog_test_ref_kfunc` is the test module's).
pub const RCU_PROTECTED_TYPES: &[&str] =
    &["prog_test_ref_kfunc", "cgroup", "bpf_cpumask", "task_struct", "bpf_crypto_ctx"];

impl BtfEnv for Btf {
    fn type_name(&self, _btf: u32, btf_id: u32) -> String {
        self.get(btf_id).map(|t| t.name().to_string()).unwrap_or_default()
    }
}

impl<'a> Env<'a> {
    /// The BTF behind object number `btf` ([`BTF_VMLINUX`] or [`BTF_PROG`]).
    pub fn btf_obj(&self, btf: u32) -> Option<&'a Btf> {
        let opts: &'a CheckOptions = self.opts;
        match btf {
            BTF_VMLINUX => opts.kernel_btf.as_deref(),
            BTF_PROG => opts.prog_btf.as_ref().map(|p| &*p.btf),
            _ => None,
        }
    }

    /// The kernel BTF, or [`VerifyError::Unsupported`] naming what needed it.
    pub fn kernel_btf(&self, what: &str) -> Result<&'a Btf> {
        let opts: &'a CheckOptions = self.opts;
        opts.kernel_btf.as_deref().ok_or_else(|| {
            VerifyError::Unsupported(format!("{what} needs the kernel BTF (CheckOptions::kernel_btf)"))
        })
    }

    /// Mirrors `in_sleepable()`.
    pub fn in_sleepable(&self) -> bool {
        self.cur.in_sleepable
    }

    /// Mirrors `in_rcu_cs()`: inside `bpf_rcu_read_lock()`, holding a spin lock, or not
    /// sleepable.
    pub fn in_rcu_cs(&self) -> bool {
        self.cur.active_rcu_locks != 0 || self.cur.active_locks != 0 || !self.in_sleepable()
    }

    /// Mirrors `btf_nested_type_is_trusted()`: whether the shadow struct `<type of reg><suffix>`
    /// has a pointer member named `field_name` whose pointee (modifiers skipped) is `btf_id`.
    pub fn btf_nested_type_is_trusted(
        &self,
        reg: &RegState,
        field_name: &str,
        btf_id: u32,
        suffix: &str,
    ) -> bool {
        let Some(btf) = self.btf_obj(reg.btf) else { return false };
        let Some(walk) = btf.get(reg.btf_id) else { return false };
        let safe_name = format!("{}{suffix}", walk.name());
        if safe_name.len() >= 64 {
            return false;
        }
        let Some(safe) = btf.find_by_name_kind(&safe_name, walk.kind()) else { return false };
        safe.members().any(|m| {
            let Some(mt) = btf.get(m.type_id) else { return false };
            if mt.kind() != Kind::Ptr {
                return false;
            }
            btf.skip_mods_and_typedefs(mt.size_or_type()).is_ok_and(|t| t.id() == btf_id)
                && m.name == field_name
        })
    }

    /// Mirrors `type_is_rcu()`.
    fn type_is_rcu(&self, reg: &RegState, field: &str, id: u32) -> bool {
        self.btf_nested_type_is_trusted(reg, field, id, "__safe_rcu")
    }

    /// Mirrors `type_is_rcu_or_null()`.
    fn type_is_rcu_or_null(&self, reg: &RegState, field: &str, id: u32) -> bool {
        self.btf_nested_type_is_trusted(reg, field, id, "__safe_rcu_or_null")
    }

    /// Mirrors `type_is_trusted()`.
    fn type_is_trusted(&self, reg: &RegState, field: &str, id: u32) -> bool {
        self.btf_nested_type_is_trusted(reg, field, id, "__safe_trusted")
    }

    /// Mirrors `type_is_trusted_or_null()`.
    fn type_is_trusted_or_null(&self, reg: &RegState, field: &str, id: u32) -> bool {
        self.btf_nested_type_is_trusted(reg, field, id, "__safe_trusted_or_null")
    }
}

/// What `btf_struct_walk()` found at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk<'b> {
    /// `WALK_SCALAR`.
    Scalar,
    /// `WALK_PTR`: a pointer to struct `id`, the member's name.
    Ptr { id: u32, field: &'b str },
    /// `WALK_PTR_UNTRUSTED`: a pointer to something other than a struct.
    PtrUntrusted,
    /// `WALK_STRUCT`: a nested struct starts exactly there.
    Struct(u32),
}

/// What a load through a BTF pointer gives (`btf_struct_access()`'s results).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructAccess {
    /// `SCALAR_VALUE`, `PTR_TO_BTF_ID` or `PTR_TO_MEM`.
    pub reg_type: u32,
    /// For `PTR_TO_BTF_ID`: the struct pointed to.
    pub btf_id: u32,
    /// Type flags (`MEM_RCU`, `MEM_USER`, `MEM_PERCPU`, `PTR_UNTRUSTED`, `MEM_RDONLY`).
    pub flag: u32,
    /// The pointer member's name.
    pub field_name: String,
}

/// A walk error: the log line and the errno.
type WalkErr = (Errno, String);

/// `__btf_resolve_size()`: the member's type resolved through modifiers and arrays: (the type
/// reached, or the outermost array; total size; element type; element type id; element count;
/// the id of the resolved type).
fn btf_resolve_size(
    btf: &Btf,
    id: u32,
) -> Option<(kfvm_btf::Type<'_>, u32, kfvm_btf::Type<'_>, u32, u32, u32)> {
    let mut t = btf.get(id)?;
    let mut array_type = None;
    let mut last_array_elem = 0;
    let mut nelems: u32 = 1;
    let mut tid = id;
    for _ in 0..32 {
        let size = match t.kind() {
            Kind::Int | Kind::Struct | Kind::Union | Kind::Enum | Kind::Float | Kind::Enum64 => {
                t.size_or_type()
            }
            Kind::Ptr => 8,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                tid = t.size_or_type();
                t = btf.get(tid)?;
                continue;
            }
            Kind::Array => {
                let a = t.array()?;
                if array_type.is_none() {
                    array_type = Some(t);
                }
                if nelems != 0 && a.nelems > u32::MAX / nelems {
                    return None;
                }
                nelems *= a.nelems;
                last_array_elem = a.elem_type;
                t = btf.get(a.elem_type)?;
                continue;
            }
            _ => return None,
        };
        if nelems != 0 && size > u32::MAX / nelems {
            return None;
        }
        return Some((array_type.unwrap_or(t), nelems * size, t, last_array_elem, nelems, tid));
    }
    None
}

/// Mirrors `btf_struct_walk()`: what lies at `off..off+size` of struct `id`.
fn btf_struct_walk<'b>(
    btf: &'b Btf,
    id: u32,
    mut off: u32,
    size: u32,
    flag: &mut u32,
) -> Result<Walk<'b>, WalkErr> {
    let mut t =
        btf.skip_mods_and_typedefs(id).map_err(|_| (Errno::Inval, "Type '' is not a struct".to_string()))?;
    'again: loop {
        if matches!(t.kind(), Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag | Kind::Typedef) {
            t = btf
                .skip_mods_and_typedefs(t.id())
                .map_err(|_| (Errno::Inval, "Type '' is not a struct".into()))?;
        }
        let tname = t.name();
        if !t.kind().is_composite() {
            return Err((Errno::Inval, format!("Type '{tname}' is not a struct")));
        }
        let vlen = t.vlen() as usize;
        if t.kind() == Kind::Union && vlen != 1 && *flag & PTR_UNTRUSTED == 0 {
            // Walking a union yields untrusted pointers (but for single-member unions such as
            // __bpf_md_ptr).
            *flag |= PTR_UNTRUSTED;
        }
        let tsize = t.size_or_type();
        if off as u64 + size as u64 > tsize as u64 {
            // The last member may be a flexible array.
            let beyond = || (Errno::Acces, format!("access beyond struct {tname} at off {off} size {size}"));
            let Some(last) = (vlen > 0).then(|| t.member(vlen - 1)).flatten() else { return Err(beyond()) };
            let mt = btf.skip_mods_and_typedefs(last.type_id).map_err(|_| beyond())?;
            let Some(a) = (mt.kind() == Kind::Array).then(|| mt.array()).flatten() else {
                return Err(beyond());
            };
            if a.nelems != 0 {
                return Err(beyond());
            }
            let moff = last.bit_offset / 8;
            if off < moff {
                return Err(beyond());
            }
            let et = btf.skip_mods_and_typedefs(a.elem_type).map_err(|_| beyond())?;
            if et.kind() == Kind::Int {
                return Ok(Walk::Scalar);
            }
            if !et.kind().is_composite() || et.size_or_type() == 0 {
                return Err(beyond());
            }
            off = (off - moff) % et.size_or_type();
            t = et;
            continue 'again;
        }
        for m in t.members() {
            let mut moff = m.bit_offset / 8;
            if off + size <= moff {
                break;
            }
            if m.bitfield_size != 0 {
                let end_bit = m.bit_offset + m.bitfield_size;
                if off <= moff && end_bit.div_ceil(8) <= off + size {
                    return Ok(Walk::Scalar);
                }
                continue;
            }
            if off < moff {
                break;
            }
            let mname = m.name;
            let Some((mut mtype, msize, elem_type, elem_id, total_nelems, resolved_id)) =
                btf_resolve_size(btf, m.type_id)
            else {
                return Err((Errno::Fault, format!("field {mname} doesn't have size")));
            };
            let mut mid = if resolved_id != 0 { resolved_id } else { m.type_id };
            let mut msize = msize;
            let mtrue_end = moff + msize;
            if off >= mtrue_end {
                continue;
            }
            if mtype.kind() == Kind::Array {
                if moff == mtrue_end {
                    continue;
                }
                msize /= total_nelems;
                let elem_idx = (off - moff) / msize;
                moff += elem_idx * msize;
                mtype = elem_type;
                mid = elem_id;
            }
            if mtype.kind().is_composite() {
                if off == moff {
                    return Ok(Walk::Struct(mid));
                }
                off -= moff;
                t = mtype;
                continue 'again;
            }
            if mtype.kind() == Kind::Ptr {
                if msize != size || off != moff {
                    return Err((
                        Errno::Acces,
                        format!(
                            "cannot access ptr member {mname} with moff {moff} in struct {tname} with off {off} size {size}"
                        ),
                    ));
                }
                let mut tmp_flag = 0;
                if let Some(tt) = btf.get(mtype.size_or_type()) {
                    if tt.kind() == Kind::TypeTag && !tt.kind_flag() {
                        match tt.name() {
                            "user" => tmp_flag = MEM_USER,
                            "percpu" => tmp_flag = MEM_PERCPU,
                            "rcu" => tmp_flag = MEM_RCU,
                            _ => {}
                        }
                    }
                }
                let Ok(st) = btf.skip_mods_and_typedefs(mtype.size_or_type()) else {
                    return Ok(Walk::PtrUntrusted);
                };
                if st.kind().is_composite() {
                    *flag |= tmp_flag;
                    return Ok(Walk::Ptr { id: st.id(), field: mname });
                }
                return Ok(Walk::PtrUntrusted);
            }
            if off + size > mtrue_end && *flag & PTR_UNTRUSTED == 0 {
                return Err((
                    Errno::Acces,
                    format!(
                        "access beyond the end of member {mname} (mend:{mtrue_end}) in struct {tname} with off {off} size {size}"
                    ),
                ));
            }
            return Ok(Walk::Scalar);
        }
        return Err((Errno::Inval, format!("struct {tname} doesn't have field at offset {off}")));
    }
}

/// Mirrors `btf_struct_access()`: what a load of `size` bytes at `off` of `reg`'s struct gives.
pub fn btf_struct_access(
    btf: &Btf,
    reg: &RegState,
    off: i32,
    size: i32,
) -> Result<StructAccess, (Errno, String)> {
    let (off, size) = (off as u32, size as u32);
    let mut id = reg.btf_id;
    let mut tmp_flag = 0;
    let mut off = off;
    loop {
        match btf_struct_walk(btf, id, off, size, &mut tmp_flag)? {
            Walk::Ptr { id: pid, field } => {
                if reg.ty & MEM_ALLOC != 0 {
                    return Ok(StructAccess {
                        reg_type: SCALAR_VALUE,
                        btf_id: 0,
                        flag: 0,
                        field_name: String::new(),
                    });
                }
                return Ok(StructAccess {
                    reg_type: PTR_TO_BTF_ID,
                    btf_id: pid,
                    flag: tmp_flag,
                    field_name: field.to_string(),
                });
            }
            Walk::PtrUntrusted => {
                return Ok(StructAccess {
                    reg_type: PTR_TO_MEM,
                    btf_id: 0,
                    flag: MEM_RDONLY | PTR_UNTRUSTED,
                    field_name: String::new(),
                })
            }
            Walk::Scalar => {
                return Ok(StructAccess {
                    reg_type: SCALAR_VALUE,
                    btf_id: 0,
                    flag: 0,
                    field_name: String::new(),
                })
            }
            Walk::Struct(nid) => {
                id = nid;
                off = 0;
            }
        }
    }
}

/// Mirrors `check_ptr_to_btf_access()`: a load or store of `size` bytes at `off` (the
/// instruction's offset plus the register's fixed offset) through BTF pointer `regno`.
pub fn check_ptr_to_btf_access(
    env: &mut Env<'_>,
    regno: usize,
    off: i32,
    size: i32,
    t: Access,
    value_regno: i32,
) -> Result<()> {
    let reg = env.reg(regno).clone();
    let Some(btf) = env.btf_obj(reg.btf) else {
        return Err(VerifyError::Unsupported(format!(
            "loads through BTF pointers need the BTF of object {} (CheckOptions::kernel_btf)",
            reg.btf
        )));
    };
    let tname = btf.get(reg.btf_id).map(|t| t.name()).unwrap_or("");
    if !env.allow_ptr_leaks {
        return Err(env.reject(
            Errno::Perm,
            format!("'struct {tname}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN"),
        ));
    }
    if !env.opts.gpl_compatible && reg.btf == BTF_VMLINUX {
        return Err(env.reject(
            Errno::Inval,
            format!("Cannot access kernel 'struct {tname}' from non-GPL compatible program"),
        ));
    }
    if off < 0 {
        return Err(
            env.reject(Errno::Acces, format!("R{regno} is ptr_{tname} invalid negative access: off={off}"))
        );
    }
    if !reg.s.var_off.is_const() || reg.s.var_off.value != 0 {
        let tn = crate::print::tnum_strn(reg.s.var_off);
        return Err(env.reject(
            Errno::Acces,
            format!("R{regno} is ptr_{tname} invalid variable offset: off={off}, var_off={tn}"),
        ));
    }
    if reg.ty & MEM_USER != 0 {
        return Err(
            env.reject(Errno::Acces, format!("R{regno} is ptr_{tname} access user memory: off={off}"))
        );
    }
    if reg.ty & MEM_PERCPU != 0 {
        return Err(
            env.reject(Errno::Acces, format!("R{regno} is ptr_{tname} access percpu memory: off={off}"))
        );
    }
    // No program type kfvm knows has a btf_struct_access callback: writes are for program
    // allocated objects only.
    if t != Access::Read && !type_is_ptr_alloc_obj(reg.ty) {
        return Err(env.reject(Errno::Acces, "only read is supported"));
    }
    if reg.ty & MEM_ALLOC != 0
        && !type_is_non_owning_ref(reg.ty)
        && reg.ty & MEM_RCU == 0
        && reg.ref_obj_id == 0
    {
        return Err(env.verifier_bug("ref_obj_id for allocated object must be non-zero"));
    }
    // btf_struct_access(): the fields the kernel manages in an allocated object are not data.
    if reg.ty & MEM_ALLOC != 0 {
        if let Some(name) = crate::obj::alloc_obj_special_field_at(btf, reg.btf_id, off, size) {
            return Err(env.reject(Errno::Acces, format!("direct access to {name} is disallowed")));
        }
    }
    let acc = match btf_struct_access(btf, &reg, off, size) {
        Ok(a) => a,
        Err((errno, msg)) => return Err(env.reject(errno, msg)),
    };
    let mut flag = acc.flag;
    if acc.reg_type != PTR_TO_BTF_ID {
        // Scalars and untrusted memory keep what the walk said.
    } else if type_flag(reg.ty) & PTR_UNTRUSTED != 0 {
        // Pointers walked from an untrusted pointer stay untrusted.
        flag = PTR_UNTRUSTED;
    } else if is_trusted_reg(&reg) || is_rcu_reg(&reg) {
        let (field, id) = (acc.field_name.as_str(), acc.btf_id);
        if env.type_is_trusted(&reg, field, id) {
            flag |= PTR_TRUSTED;
        } else if env.type_is_trusted_or_null(&reg, field, id) {
            flag |= PTR_TRUSTED | PTR_MAYBE_NULL;
        } else if env.in_rcu_cs() && !type_may_be_null(reg.ty) {
            if env.type_is_rcu(&reg, field, id) {
                flag |= MEM_RCU;
            } else if flag & MEM_RCU != 0 || env.type_is_rcu_or_null(&reg, field, id) {
                flag |= MEM_RCU | PTR_MAYBE_NULL;
                if env.type_is_rcu_or_null(&reg, field, id) && flag & PTR_UNTRUSTED != 0 {
                    flag &= !PTR_UNTRUSTED;
                }
            } else if flag & (MEM_PERCPU | MEM_USER) != 0 {
                // Kept as they are.
            } else {
                // Walking an unknown pointer gives the old, flagless PTR_TO_BTF_ID.
                clear_trusted_flags(&mut flag);
            }
        } else {
            // Outside an RCU read section (or from a maybe-NULL RCU pointer): untrusted.
            flag = PTR_UNTRUSTED;
        }
    } else {
        clear_trusted_flags(&mut flag);
    }
    if t == Access::Read && value_regno >= 0 {
        mark_btf_ld_reg(env, value_regno as usize, acc.reg_type, reg.btf, acc.btf_id, flag);
    }
    Ok(())
}

/// Mirrors `mark_btf_ld_reg()`.
fn mark_btf_ld_reg(env: &mut Env<'_>, regno: usize, reg_type: u32, btf: u32, btf_id: u32, flag: u32) {
    match reg_type {
        PTR_TO_BTF_ID => {
            let r = env.reg_mut(regno);
            r.mark_known_zero();
            r.ty = PTR_TO_BTF_ID | flag;
            r.btf = btf;
            r.btf_id = btf_id;
            if type_may_be_null(flag) {
                let id = env.new_id();
                env.reg_mut(regno).id = id;
            }
        }
        PTR_TO_MEM => {
            let r = env.reg_mut(regno);
            r.mark_known_zero();
            r.ty = PTR_TO_MEM | flag;
            r.mem_size = 0;
        }
        _ => env.mark_reg_unknown(regno),
    }
}

/// Mirrors `btf_types_are_same()`: one BTF object, one id.
pub fn btf_types_are_same(btf1: u32, id1: u32, btf2: u32, id2: u32) -> bool {
    btf1 == btf2 && id1 == id2
}

/// Mirrors `btf_struct_ids_match()`: whether a pointer to `id` (of BTF object `btf`) plus `off`
/// points to a `need_id`, walking nested structs at the offset (and at offset 0 of each) unless
/// `strict`. A walk that fails logs why, as the kernel's does.
#[allow(clippy::too_many_arguments)]
pub fn btf_struct_ids_match(
    env: &mut Env<'_>,
    btf: u32,
    id: u32,
    off: i32,
    need_btf: u32,
    need_id: u32,
    strict: bool,
) -> bool {
    if off == 0 && btf_types_are_same(btf, id, need_btf, need_id) {
        return true;
    }
    if strict {
        return false;
    }
    let Some(b) = env.btf_obj(btf) else { return false };
    let (mut id, mut off) = (id, off);
    for _ in 0..64 {
        if b.get(id).is_none() || off < 0 {
            return false;
        }
        let mut flag = 0;
        match btf_struct_walk(b, id, off as u32, 1, &mut flag) {
            Ok(Walk::Struct(nid)) => {
                if btf_types_are_same(btf, nid, need_btf, need_id) {
                    return true;
                }
                // The nested struct's id may be a typedef or modifier: resolve it as the
                // next walk does.
                id = b.skip_mods_and_typedefs(nid).map(|t| t.id()).unwrap_or(nid);
                if btf_types_are_same(btf, id, need_btf, need_id) {
                    return true;
                }
                off = 0;
            }
            Ok(_) => return false,
            Err((_, msg)) => {
                crate::verbose!(env.log, "{msg}\n");
                return false;
            }
        }
    }
    false
}

/// The kptr field of map value register `reg` at `off` (`btf_record_find(.., BPF_KPTR)`).
pub fn kptr_field_at(env: &Env<'_>, reg: &RegState, off: i64) -> Option<KptrField> {
    if reg.ty != PTR_TO_MAP_VALUE || reg.map == 0 {
        return None;
    }
    env.map(reg.map).record.kptrs.iter().find(|k| k.off as i64 == off).copied()
}

/// Mirrors `rcu_protected_object()`: program-local types, and the kernel's
/// [`RCU_PROTECTED_TYPES`].
fn rcu_protected_object(env: &Env<'_>, btf: u32, btf_id: u32) -> bool {
    if btf != BTF_VMLINUX {
        return true;
    }
    env.btf_obj(btf).and_then(|b| b.get(btf_id)).is_some_and(|t| RCU_PROTECTED_TYPES.contains(&t.name()))
}

/// Mirrors `btf_ld_kptr_type()`: what a load of a kptr field gives. A referenced kptr of an
/// RCU-protected type loads as `MEM_RCU` inside an RCU read section; anything else is untrusted.
fn btf_ld_kptr_type(env: &Env<'_>, k: &KptrField) -> u32 {
    let mut ret = PTR_MAYBE_NULL;
    // rcu_safe_kptr()
    let rcu_safe_kptr = k.percpu || (k.referenced && rcu_protected_object(env, k.btf, k.btf_id));
    if rcu_safe_kptr && env.in_rcu_cs() {
        ret |= MEM_RCU;
        if k.percpu {
            ret |= MEM_PERCPU;
        } else if k.btf != BTF_VMLINUX {
            ret |= MEM_ALLOC;
        }
    } else {
        ret |= PTR_UNTRUSTED;
    }
    ret
}

/// Mirrors `map_kptr_match_type()`: whether `regno` may be stored into (or exchanged with) kptr
/// field `k`. Logs `invalid kptr access, ...` and fails if not.
pub fn map_kptr_match_type(env: &mut Env<'_>, k: &KptrField, regno: usize) -> Result<()> {
    let reg = env.reg(regno).clone();
    let targ_name = env.btf_type_name(k.btf, k.btf_id);
    let perm_flags = if reg.btf == BTF_VMLINUX {
        PTR_MAYBE_NULL | PTR_TRUSTED | MEM_RCU | if k.referenced { 0 } else { PTR_UNTRUSTED }
    } else {
        PTR_MAYBE_NULL | MEM_ALLOC | if k.percpu { MEM_PERCPU } else { 0 }
    };
    let mut reg_name = String::new();
    let ok = 'ok: {
        if base_type(reg.ty) != PTR_TO_BTF_ID || type_flag(reg.ty) & !perm_flags != 0 {
            break 'ok false;
        }
        reg_name = env.btf_type_name(reg.btf, reg.btf_id);
        // __check_ptr_off_reg(.., fixed_off_ok = true) says why itself.
        crate::mem::check_ptr_off_reg(env, &reg, regno, true)?;
        btf_struct_ids_match(env, reg.btf, reg.btf_id, reg.off, k.btf, k.btf_id, k.referenced || k.percpu)
    };
    if ok {
        return Ok(());
    }
    let mut msg = format!(
        "invalid kptr access, R{regno} type={}{reg_name} expected={}{targ_name}",
        crate::print::reg_type_str(reg.ty),
        crate::print::reg_type_str(PTR_TO_BTF_ID)
    );
    if !k.referenced && !k.percpu {
        msg.push_str(&format!(
            " or {}{targ_name}",
            crate::print::reg_type_str(PTR_TO_BTF_ID | PTR_UNTRUSTED)
        ));
    }
    // -EINVAL here, which both callers (check_map_kptr_access(), check_reg_type()) turn into
    // -EACCES.
    Err(env.reject(Errno::Acces, msg))
}

/// Mirrors `check_map_kptr_access()`: a load, store or immediate store of kptr field `k` (the
/// caller checked the offset, the size and the constant offset).
pub fn check_map_kptr_access(
    env: &mut Env<'_>,
    value_regno: i32,
    insn_idx: usize,
    k: &KptrField,
) -> Result<()> {
    let insn = env.insns[insn_idx];
    let class = insn.code & 7;
    if insn.code & 0xe0 != 0x60 {
        return Err(
            env.reject(Errno::Acces, "kptr in map can only be accessed using BPF_MEM instruction mode")
        );
    }
    const LDX: u8 = 1;
    const ST: u8 = 2;
    const STX: u8 = 3;
    if class != LDX && (k.referenced || k.percpu) {
        return Err(env.reject(Errno::Acces, "store to referenced kptr disallowed"));
    }
    match class {
        LDX => {
            let flag = btf_ld_kptr_type(env, k);
            mark_btf_ld_reg(env, value_regno as usize, PTR_TO_BTF_ID, k.btf, k.btf_id, flag);
            Ok(())
        }
        STX => {
            if !env.reg(value_regno as usize).is_null() {
                map_kptr_match_type(env, k, value_regno as usize)?;
            }
            Ok(())
        }
        ST => {
            if insn.imm != 0 {
                return Err(env.reject(
                    Errno::Acces,
                    format!("BPF_ST imm must be 0 when storing to kptr at off={}", k.off),
                ));
            }
            Ok(())
        }
        _ => Err(env.reject(Errno::Acces, "kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST")),
    }
}

/// Mirrors `process_kptr_func()`: the `ARG_KPTR_XCHG_DEST` argument of `bpf_kptr_xchg()`, a
/// referenced kptr field of a map value or of an object the program allocated. Returns the
/// field.
pub fn process_kptr_func(env: &mut Env<'_>, regno: usize) -> Result<KptrField> {
    let reg = env.reg(regno).clone();
    let kptrs = if type_is_ptr_alloc_obj(reg.ty) {
        // reg_btf_record(): the record of the local type.
        let Some(btf) = env.btf_obj(reg.btf) else {
            return Err(env.verifier_bug(format!("allocated object R{regno} without its BTF")));
        };
        let kernel = env.kernel_btf("kptr fields of allocated objects")?;
        crate::obj::alloc_obj_kptrs(btf, reg.btf_id, kernel)
    } else {
        let map = env.map(reg.map).clone();
        if !map.btf() {
            return Err(env.reject(
                Errno::Inval,
                format!("map '{}' has to have BTF in order to use bpf_kptr_xchg", map.name),
            ));
        }
        map.record.kptrs
    };
    if !reg.s.var_off.is_const() {
        return Err(env.reject(
            Errno::Inval,
            format!("R{regno} doesn't have constant offset. kptr has to be at the constant offset"),
        ));
    }
    if kptrs.is_empty() {
        return Err(env.reject(Errno::Inval, format!("R{regno} has no valid kptr")));
    }
    let kptr_off = (reg.off as i64).wrapping_add(reg.s.var_off.value as i64);
    let Some(k) = kptrs.iter().find(|k| k.off as i64 == kptr_off).copied() else {
        return Err(env.reject(Errno::Acces, format!("off={} doesn't point to kptr", kptr_off as i32)));
    };
    if !k.referenced && !k.percpu {
        return Err(env.reject(Errno::Acces, format!("off={} kptr isn't referenced kptr", kptr_off as i32)));
    }
    Ok(k)
}

/// What a `BPF_PSEUDO_BTF_ID` `lddw` loads (`struct bpf_insn_aux_data::btf_var`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfVar {
    /// `reg_type`: `PTR_TO_BTF_ID` (maybe `MEM_PERCPU`) or `PTR_TO_MEM | MEM_RDONLY`.
    pub reg_type: u32,
    /// For `PTR_TO_BTF_ID`: the variable's type id (as the `VAR` names it).
    pub btf_id: u32,
    /// For `PTR_TO_MEM`: the size of the variable.
    pub mem_size: u32,
}

/// Mirrors `__check_pseudo_btf_id()` for the kernel BTF `btf`: the typed `__ksym` a `lddw` of
/// `BPF_PSEUDO_BTF_ID` names (a `VAR`, or a `FUNC` whose address is taken), as
/// `resolve_pseudo_ldimm64()` checks it before the walk. `Err`: the errno and the message.
pub fn check_pseudo_btf_id(btf: &Btf, id: u32) -> Result<BtfVar, (Errno, String)> {
    let Some(t) = btf.get(id).filter(|_| id != 0) else {
        return Err((Errno::NoEnt, format!("ldimm64 insn specifies invalid btf_id {}.", id as i32)));
    };
    match t.kind() {
        Kind::Func => return Ok(BtfVar { reg_type: PTR_TO_MEM | MEM_RDONLY, btf_id: 0, mem_size: 0 }),
        Kind::Var => {}
        _ => {
            return Err((
                Errno::Inval,
                format!("pseudo btf_id {} in ldimm64 isn't KIND_VAR or KIND_FUNC", id as i32),
            ))
        }
    }
    let percpu = btf
        .find_by_name_kind(".data..percpu", Kind::Datasec)
        .is_some_and(|d| d.datasec_vars().any(|v| v.type_id == id));
    let ty = t.size_or_type();
    if percpu {
        return Ok(BtfVar { reg_type: PTR_TO_BTF_ID | MEM_PERCPU, btf_id: ty, mem_size: 0 });
    }
    let target = btf.skip_mods_and_typedefs(ty).ok();
    match target {
        Some(st) if st.kind().is_composite() => {
            Ok(BtfVar { reg_type: PTR_TO_BTF_ID, btf_id: ty, mem_size: 0 })
        }
        _ => match btf.resolve_size(ty) {
            Ok(size) => Ok(BtfVar { reg_type: PTR_TO_MEM | MEM_RDONLY, btf_id: 0, mem_size: size }),
            Err(_) => {
                let tname = target.map(|t| t.name().to_string()).unwrap_or_default();
                Err((Errno::Inval, format!("ldimm64 unable to resolve the size of type '{tname}': -22")))
            }
        },
    }
}
