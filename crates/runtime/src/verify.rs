//! What the verifier sees of a linked program: [`check_options`] builds the
//! [`kfvm_verifier::CheckOptions`] the kernel's `BPF_PROG_LOAD` would hand to `bpf_check()` for a
//! program of a [`kfvm_link::LinkedObject`] linked against the kernel model's host BTF.
//!
//! - program type, expected attach type, `BPF_F_SLEEPABLE`, `attach_btf_id` (the linker resolved
//!   the section's target in the host BTF: the `btf_trace_<name>` typedef of a `tp_btf/` program,
//!   the `FUNC` of an `fentry/`/`fexit/`/`lsm/` one);
//! - the maps, as `BPF_MAP_CREATE` made them: sizes, flags, BTF or not, the special fields of the
//!   value type (`struct btf_record`: spin lock, timer, `__kptr` fields with their pointee in the
//!   host BTF, or in the program's BTF for local types), frozen `.rodata`;
//! - the program's BTF and its `func_info` records (global functions, callbacks);
//! - the kernel BTF (the host BTF the object linked against, shared through its `Arc`);
//! - the kfuncs of the kernel model ([`kfunc_table`]): BTF id, name, `KF_*` flags, whether this
//!   program may call it (`btf_kfunc_id_set_contains()`), deprecation;
//! - the loader's capabilities ([`Caps`]).

use kfvm_btf::{Btf, Kind};
use kfvm_kfunc::KfuncRegistry;
use kfvm_link::{LinkedObject, LinkedProgram};
use kfvm_object::{FieldKind, KptrKind, MapDef, MapSource};
use kfvm_uapi::MapType;
use kfvm_verifier::env::{BtfRecord, KptrField, LineInfo, ProgBtf};
use kfvm_verifier::{BtfEnv, CheckOptions, KfuncDesc, KfuncTable, MapInfo, BTF_PROG, BTF_VMLINUX};
use std::sync::Arc;

/// `BPF_F_TEST_STATE_FREQ`.
const BPF_F_TEST_STATE_FREQ: u32 = 1 << 3;

/// The capabilities of the loader (`bpf_capable()`, `perfmon_capable()`, `CAP_SYS_ADMIN`,
/// `CAP_SYS_BOOT`). The default is a root loader: all four.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Caps {
    /// `CAP_BPF`.
    pub bpf: bool,
    /// `CAP_PERFMON`.
    pub perfmon: bool,
    /// `CAP_SYS_ADMIN` (implies `CAP_BPF` and `CAP_PERFMON` in the kernel's checks).
    pub sys_admin: bool,
    /// `CAP_SYS_BOOT` (`KF_DESTRUCTIVE` kfuncs).
    pub sys_boot: bool,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { bpf: true, perfmon: true, sys_admin: true, sys_boot: true }
    }
}

impl Caps {
    /// The capability named `name` (`bpf`, `perfmon`, `sys_admin`, `sys_boot`, with or without
    /// `cap_`, any case) set to `on`.
    pub fn set(&mut self, name: &str, on: bool) -> Result<(), String> {
        let n = name.to_ascii_lowercase();
        let n = n.strip_prefix("cap_").unwrap_or(&n);
        match n {
            "bpf" => self.bpf = on,
            "perfmon" => self.perfmon = on,
            "sys_admin" => self.sys_admin = on,
            "sys_boot" => self.sys_boot = on,
            _ => {
                return Err(format!("unknown capability `{name}` (known: bpf, perfmon, sys_admin, sys_boot)"))
            }
        }
        Ok(())
    }

    /// `bpf_capable()`: `CAP_BPF` or `CAP_SYS_ADMIN`.
    pub fn bpf_capable(&self) -> bool {
        self.bpf || self.sys_admin
    }

    /// `perfmon_capable()`: `CAP_PERFMON` or `CAP_SYS_ADMIN`.
    pub fn perfmon_capable(&self) -> bool {
        self.perfmon || self.sys_admin
    }
}

/// Why the verifier cannot decide for a program of type `prog_type` yet: its context is not
/// modelled, so an "invalid bpf_context access" would be no verdict. `None` for the types it
/// models.
pub fn unmodelled_context(prog_type: u32) -> Option<String> {
    (!kfvm_verifier::ctx::context_modelled(prog_type))
        .then(|| format!("the verifier does not model the context of program type {prog_type} yet"))
}

/// What [`check_options`] needs besides the program.
#[derive(Clone, Copy, Debug)]
pub struct VerifyEnv<'a> {
    /// The kfunc registry of the kernel model the object linked against.
    pub registry: &'a KfuncRegistry,
    /// `nr_cpu_ids` of the model.
    pub nr_cpu_ids: u32,
    /// The loader's capabilities.
    pub caps: Caps,
    /// Log level.
    pub log_level: u32,
    /// kfvm's `--deny-deprecated`.
    pub deny_deprecated: bool,
    /// kfvm's `hint:` lines after the kernel's message of a rejection.
    pub hints: bool,
}

/// Why a program's options could not be built: what `BPF_MAP_CREATE` or the loader would have
/// refused before the verifier ran.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{0}")]
pub struct OptionsError(pub String);

/// The [`CheckOptions`] of `prog` (a program of `obj`) as `BPF_PROG_LOAD` presents them.
pub fn check_options(
    obj: &LinkedObject,
    prog: &LinkedProgram,
    env: &VerifyEnv<'_>,
) -> Result<CheckOptions, OptionsError> {
    let maps = (0..obj.maps.len()).map(|i| map_info(obj, &obj.maps[i])).collect::<Result<Vec<_>, _>>()?;
    // libbpf resolves the attach target before BPF_PROG_LOAD (libbpf_find_attach_btf_id()): a
    // target the kernel's BTF lacks fails the load there, the kernel never sees the program.
    if let (Some(t), None) = (&prog.attach_target, prog.attach_btf_id) {
        return Err(OptionsError(format!(
            "prog '{}': failed to find kernel BTF type ID of '{}': -ESRCH",
            prog.name, t.name
        )));
    }
    let prog_btf = obj.btf.as_ref().map(|b| ProgBtf {
        btf: b.clone(),
        func_info: prog.func_info.iter().map(|f| (f.insn_off, f.type_id)).collect(),
    });
    Ok(CheckOptions {
        prog_type: prog.prog_type.as_u32(),
        expected_attach_type: prog.expected_attach_type.map_or(0, |a| a.as_u32()),
        sleepable: prog.sleepable,
        test_state_freq: prog.prog_flags & BPF_F_TEST_STATE_FREQ != 0,
        bpf_capable: env.caps.bpf_capable(),
        perfmon: env.caps.perfmon_capable(),
        log_level: env.log_level,
        log_size: 0,
        maps,
        nr_cpu_ids: env.nr_cpu_ids,
        prog_btf,
        kernel_btf: Some(obj.target_btf.clone()),
        attach_btf_id: prog.attach_btf_id.unwrap_or(0),
        kfuncs: Arc::new(kfunc_table(env.registry, prog)),
        sys_boot: env.caps.sys_boot,
        deny_deprecated: env.deny_deprecated,
        gpl_compatible: license_is_gpl_compatible(&obj.license),
        hints: env.hints,
        line_info: prog
            .line_info
            .iter()
            .map(|l| LineInfo {
                insn_off: l.insn_off,
                file: l.file.clone(),
                line: l.line(),
                source: l.source.clone(),
                file_name_off: l.file_name_off,
            })
            .collect(),
    })
}

/// Mirrors `license_is_gpl_compatible()` (include/linux/license.h).
fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL" | "GPL v2" | "GPL and additional rights" | "Dual BSD/GPL" | "Dual MIT/GPL" | "Dual MPL/GPL"
    )
}

/// The verifier's view of map `def` of `obj` (`struct bpf_map` after `BPF_MAP_CREATE`).
pub fn map_info(obj: &LinkedObject, def: &MapDef) -> Result<MapInfo, OptionsError> {
    let mut info = MapInfo::new(def.map_type, def.key_size, def.value_size, def.max_entries);
    info.map_flags = def.map_flags;
    info.name = def.name.clone();
    // libbpf creates some map types without BTF (bpf_object__create_map).
    info.has_btf = obj.btf.is_some()
        && (def.btf_value_type_id != 0 || def.btf_key_type_id != 0)
        && !MapType::from_u32(def.map_type).is_some_and(|t| t.libbpf_creates_without_btf());
    // libbpf freezes .rodata and .kconfig after filling them (bpf_map_freeze()).
    info.frozen = matches!(def.source, MapSource::Rodata | MapSource::Kconfig);
    if info.frozen {
        let mut v = def.data.clone().unwrap_or_default();
        v.resize(def.value_size as usize, 0);
        info.frozen_value = Some(v.into());
    }
    info.record = btf_record(obj, def)?;
    if let Some(inner) = &def.inner {
        info.inner = Some(Box::new(map_info(obj, inner)?));
    }
    Ok(info)
}

/// Mirrors `btf_parse_fields()` for a map value as the verifier uses it: the spin lock, the timer
/// and the kptr fields, each kptr's pointee resolved the way `btf_parse_kptr()` does (a type of
/// the kernel BTF by name, else a local type of the program's BTF).
fn btf_record(obj: &LinkedObject, def: &MapDef) -> Result<BtfRecord, OptionsError> {
    let fields = def.fields.as_ref().map_err(|e| {
        OptionsError(format!(
            "map {}: BPF_MAP_CREATE would fail: {} (errno {})",
            def.name, e.message, e.errno
        ))
    })?;
    let mut rec = BtfRecord::default();
    for f in fields {
        match &f.kind {
            FieldKind::SpinLock => rec.spin_lock_off = Some(f.offset),
            FieldKind::Timer => rec.timer_off = Some(f.offset),
            FieldKind::Kptr { kind, type_id } => {
                let name = obj.btf.as_ref().and_then(|b| b.get(*type_id)).map(|t| t.name().to_string());
                let host = name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .and_then(|n| obj.target_btf.find_by_name_kind(n, Kind::Struct))
                    .map(|t| t.id());
                let (btf, btf_id) = match host {
                    Some(id) => (BTF_VMLINUX, id),
                    None => (BTF_PROG, *type_id),
                };
                rec.kptrs.push(KptrField {
                    off: f.offset,
                    referenced: *kind == KptrKind::Ref,
                    percpu: *kind == KptrKind::Percpu,
                    btf,
                    btf_id,
                });
            }
            _ => {}
        }
    }
    Ok(rec)
}

/// The kfuncs of `registry` as program `prog` sees them: each kfunc's BTF id in the host BTF,
/// name, `KF_*` flags (those of the set that lets `prog` call it, else those of its first
/// registration), `allowed` (`btf_kfunc_id_set_contains()` for `prog`), and deprecation.
pub fn kfunc_table(registry: &KfuncRegistry, prog: &LinkedProgram) -> KfuncTable {
    let info = prog.prog_info();
    let mut table = KfuncTable::default();
    for k in registry.kfuncs().filter(|k| k.is_kfunc()) {
        let contains = registry.btf_kfunc_id_set_contains(k.btf_id(), &info);
        let dep = k.deprecation();
        table.insert(KfuncDesc {
            btf_id: k.btf_id(),
            name: k.name().to_string(),
            flags: contains.unwrap_or_else(|| k.flags()).bits(),
            deprecated: dep.is_some(),
            allowed: contains.is_some(),
            replacement: dep.and_then(|d| d.replacement.map(str::to_string)),
            removal: dep.and_then(|d| d.removed_in.map(|v| v.to_string())),
            allowed_prog_types: if contains.is_some() {
                Vec::new()
            } else {
                registry.allowed_prog_types(k.btf_id()).iter().map(|t| t.name().to_string()).collect()
            },
        });
    }
    table
}

/// Type names for the verifier's log (`ptr_task_struct`): the kernel BTF and the program's.
#[derive(Debug)]
pub struct BtfNames {
    /// BTF object [`BTF_VMLINUX`].
    pub kernel: Arc<Btf>,
    /// BTF object [`BTF_PROG`].
    pub prog: Option<Arc<Btf>>,
}

impl BtfNames {
    /// The names of `obj`'s kernel and program BTF.
    pub fn of(obj: &LinkedObject) -> BtfNames {
        BtfNames { kernel: obj.target_btf.clone(), prog: obj.btf.clone() }
    }
}

impl BtfEnv for BtfNames {
    fn type_name(&self, btf: u32, btf_id: u32) -> String {
        let b = match btf {
            BTF_PROG => self.prog.as_deref(),
            _ => Some(&*self.kernel),
        };
        b.and_then(|b| b.get(btf_id)).map(|t| t.name().to_string()).unwrap_or_default()
    }
}
