//! Extern resolution: libbpf's `bpf_object__resolve_externs` against a [`Target`].
//!
//! - `.kconfig`: `LINUX_KERNEL_VERSION`, `LINUX_HAS_BPF_COOKIE`, `LINUX_HAS_SYSCALL_WRAPPER`
//!   (other `LINUX_*` only when weak, as zero); `CONFIG_*` from the target's Kconfig text, parsed
//!   line by line as libbpf parses `/boot/config-*` (`y`/`n`/`m`, numbers, quoted strings, with
//!   libbpf's type and range checks). The values are written into the `.kconfig` map's data.
//! - `.ksyms` functions (kfuncs): the target `FUNC` with the extern's essential name, its
//!   `FUNC_PROTO` compared with [`types_are_compat`]; a weak extern that is missing or
//!   incompatible stays unresolved (its calls are poisoned), a strong one fails the object.
//! - typed `.ksyms` variables: the target `VAR` by name, types compared the same way.
//! - typeless `.ksyms` variables: the target's symbol addresses (libbpf's `/proc/kallsyms`).
//! - finally every strong extern must be resolved: `extern 'X' (strong): not resolved`.

use kfvm_btf::{Btf, Kind};
use kfvm_object::{ExternKind, KconfigType, MapSource, Object};

use crate::relo_core::{types_are_compat, Errno, Log};
use crate::{LinkError, LinkErrorKind, Target};

/// How an extern was resolved.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExternValue {
    /// A `.kconfig` value, written at `data_off` of the `.kconfig` map.
    Kconfig {
        /// Offset in the `.kconfig` map value.
        data_off: u32,
        /// The bytes written (zeros when a weak extern was left unset).
        bytes: Vec<u8>,
    },
    /// A kfunc: the target `FUNC` id (a kfunc call's `imm`) and the BTF `fd_array` index (its
    /// `off`; 0 for the main target BTF).
    Kfunc {
        /// `FUNC` id in the target BTF.
        btf_id: u32,
        /// `insn->off` of the call.
        btf_fd_idx: i16,
    },
    /// A typed kernel variable: the target `VAR` id (`BPF_PSEUDO_BTF_ID`).
    Var {
        /// `VAR` id in the target BTF.
        btf_id: u32,
    },
    /// A typeless kernel symbol: its address.
    Addr(u64),
    /// A weak extern left unresolved (zero; kfunc calls to it are poisoned).
    Unresolved,
}

/// One extern of the object and its resolution.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ResolvedExtern {
    /// The extern's name.
    pub name: String,
    /// `__weak`.
    pub weak: bool,
    /// The resolution.
    pub value: ExternValue,
}

/// State of one extern during resolution (`struct extern_desc`'s mutable part).
#[derive(Clone, Default)]
struct ExtState {
    is_set: bool,
    kernel_btf_id: u32,
    addr: u64,
}

fn err(kind: LinkErrorKind, errno: Errno, log: &mut Log, msg: String) -> LinkError {
    log.warn(msg.clone());
    LinkError { kind, errno, message: msg }
}

/// `is_kcfg_value_in_range`.
fn in_range(size: u32, signed: bool, v: u64) -> bool {
    if size >= 8 {
        return true;
    }
    let bits = size * 8;
    if signed {
        v.wrapping_add(1u64 << (bits - 1)) < (1u64 << bits)
    } else {
        (v >> bits) == 0
    }
}

fn write_num(data: &mut [u8], off: usize, size: u32, v: u64) -> bool {
    let n = size as usize;
    if !matches!(n, 1 | 2 | 4 | 8) {
        return false;
    }
    match data.get_mut(off..off + n) {
        Some(d) => {
            d.copy_from_slice(&v.to_le_bytes()[..n]);
            true
        }
        None => false,
    }
}

/// `strtoull(value, &end, 0)` with "the whole string" required: `None` where libbpf refuses.
fn parse_u64(value: &str) -> Option<u64> {
    let s = value.trim_start();
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.is_empty() {
        return if radix == 16 { None } else { (s == "0").then_some(0) };
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

struct Resolver<'a> {
    obj: &'a Object,
    local: Option<&'a Btf>,
    target: &'a Target,
    state: Vec<ExtState>,
    data: Vec<u8>,
    log: &'a mut Log,
}

impl Resolver<'_> {
    fn kcfg(&self, i: usize) -> Option<(KconfigType, u32, bool, u32)> {
        match self.obj.externs[i].kind {
            ExternKind::Kconfig { ty, size, signed, data_off, .. } => Some((ty, size, signed, data_off)),
            _ => None,
        }
    }

    /// `set_kcfg_value_num`.
    fn set_num(&mut self, i: usize, value: u64) -> Result<(), LinkError> {
        let name = self.obj.externs[i].name.clone();
        let Some((ty, size, signed, off)) = self.kcfg(i) else { return Ok(()) };
        let e = |s: &mut Self, errno, msg| Err(err(LinkErrorKind::Extern, errno, s.log, msg));
        if !matches!(ty, KconfigType::Int | KconfigType::Char | KconfigType::Bool) {
            return e(
                self,
                Errno::Inval,
                format!("extern (kcfg) '{name}': value '{value}' implies integer, char, or boolean type"),
            );
        }
        if ty == KconfigType::Bool && value > 1 {
            return e(
                self,
                Errno::Inval,
                format!("extern (kcfg) '{name}': value '{value}' isn't boolean compatible"),
            );
        }
        if !in_range(size, signed, value) {
            return e(
                self,
                Errno::Range,
                format!("extern (kcfg) '{name}': value '{value}' doesn't fit in {size} bytes"),
            );
        }
        if !write_num(&mut self.data, off as usize, size, value) {
            return Err(LinkError {
                kind: LinkErrorKind::Extern,
                errno: Errno::Inval,
                message: format!("extern (kcfg) '{name}': bad size {size}"),
            });
        }
        self.state[i].is_set = true;
        Ok(())
    }

    /// `set_kcfg_value_tri`.
    fn set_tri(&mut self, i: usize, value: u8) -> Result<(), LinkError> {
        let name = self.obj.externs[i].name.clone();
        let Some((ty, _, _, off)) = self.kcfg(i) else { return Ok(()) };
        let off = off as usize;
        let c = value as char;
        match ty {
            KconfigType::Bool => {
                if value == b'm' {
                    return Err(err(
                        LinkErrorKind::Extern,
                        Errno::Inval,
                        self.log,
                        format!("extern (kcfg) '{name}': value '{c}' implies tristate or char type"),
                    ));
                }
                write_num(&mut self.data, off, 1, (value == b'y') as u64);
            }
            KconfigType::Tristate => {
                // enum libbpf_tristate { TRI_NO = 0, TRI_YES = 1, TRI_MODULE = 2 }
                let v = match value {
                    b'y' => 1,
                    b'm' => 2,
                    _ => 0,
                };
                write_num(&mut self.data, off, 4, v);
            }
            KconfigType::Char => {
                write_num(&mut self.data, off, 1, value as u64);
            }
            _ => {
                return Err(err(
                    LinkErrorKind::Extern,
                    Errno::Inval,
                    self.log,
                    format!("extern (kcfg) '{name}': value '{c}' implies bool, tristate, or char type"),
                ))
            }
        }
        self.state[i].is_set = true;
        Ok(())
    }

    /// `set_kcfg_value_str`.
    fn set_str(&mut self, i: usize, value: &str) -> Result<(), LinkError> {
        let name = self.obj.externs[i].name.clone();
        let Some((ty, size, _, off)) = self.kcfg(i) else { return Ok(()) };
        if ty != KconfigType::CharArray {
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Inval,
                self.log,
                format!("extern (kcfg) '{name}': value '{value}' implies char array type"),
            ));
        }
        let b = value.as_bytes();
        if b.len() < 2 || b[b.len() - 1] != b'"' {
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Inval,
                self.log,
                format!("extern (kcfg) '{name}': invalid string config '{value}'"),
            ));
        }
        let mut len = b.len() - 2;
        if len >= size as usize {
            self.log.warn(format!(
                "extern (kcfg) '{name}': long string '{value}' of ({len} bytes) truncated to {} bytes",
                size.saturating_sub(1)
            ));
            len = (size as usize).saturating_sub(1);
        }
        let off = off as usize;
        if let Some(d) = self.data.get_mut(off..off + len + 1) {
            d[..len].copy_from_slice(&b[1..1 + len]);
            d[len] = 0;
        }
        self.state[i].is_set = true;
        Ok(())
    }

    /// `bpf_object__process_kconfig_line`.
    fn kconfig_line(&mut self, line: &str) -> Result<(), LinkError> {
        if !line.starts_with("CONFIG_") {
            return Ok(());
        }
        let Some(sep) = line.find('=') else {
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Inval,
                self.log,
                format!("failed to parse '{line}': no separator"),
            ));
        };
        let line = line.strip_suffix('\n').unwrap_or(line);
        let (name, value) = (&line[..sep], &line[sep + 1..]);
        if value.is_empty() {
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Inval,
                self.log,
                format!("failed to parse '{line}': no value"),
            ));
        }
        let Some(i) = self.obj.externs.iter().position(|x| x.name == name) else { return Ok(()) };
        if self.state[i].is_set || self.kcfg(i).is_none() {
            return Ok(());
        }
        match value.as_bytes()[0] {
            b'y' | b'n' | b'm' => self.set_tri(i, value.as_bytes()[0]),
            b'"' => self.set_str(i, value),
            _ => {
                let Some(num) = parse_u64(value) else {
                    self.log.warn(format!("failed to parse '{value}' as integer completely"));
                    return Err(err(
                        LinkErrorKind::Extern,
                        Errno::Inval,
                        self.log,
                        format!("extern (kcfg) '{name}': value '{value}' isn't a valid integer"),
                    ));
                };
                let ty = self.kcfg(i).map(|k| k.0);
                if !matches!(ty, Some(KconfigType::Int | KconfigType::Char)) {
                    return Err(err(
                        LinkErrorKind::Extern,
                        Errno::Inval,
                        self.log,
                        format!("extern (kcfg) '{name}': value '{value}' implies integer type"),
                    ));
                }
                self.set_num(i, num)
            }
        }
    }

    /// `find_ksym_btf_id` on the main target BTF.
    fn find_ksym(&self, name: &str, kind: Kind) -> Option<u32> {
        self.target.btf().find_by_name_kind(name, kind).map(|t| t.id()).filter(|&id| id > 0)
    }

    /// `bpf_object__resolve_ksym_var_btf_id`.
    fn resolve_var(&mut self, i: usize, local: &Btf, local_type_id: u32) -> Result<(), LinkError> {
        let x = &self.obj.externs[i];
        let name = x.name.clone();
        let targ = self.target.btf().clone();
        let Some(id) = self.find_ksym(&name, Kind::Var) else {
            if x.weak {
                return Ok(());
            }
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Srch,
                self.log,
                format!("extern (var ksym) '{name}': not found in kernel BTF"),
            ));
        };
        let var = targ.type_by_id(id).map_err(|e| btf_err(&e))?;
        let (tt, tid) = match targ.skip_mods_and_typedefs(var.size_or_type()) {
            Ok(t) => (t, t.id()),
            Err(e) => return Err(btf_err(&e)),
        };
        if !types_are_compat(local, local_type_id, &targ, tid).unwrap_or(false) {
            let lt = local.get(local_type_id);
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Inval,
                self.log,
                format!(
                    "extern (var ksym) '{name}': incompatible types, expected [{local_type_id}] {} {}, but kernel has [{tid}] {} {}",
                    lt.map_or("?", |t| t.kind().libbpf_str()),
                    lt.map_or("", |t| t.name()),
                    tt.kind().libbpf_str(),
                    tt.name()
                ),
            ));
        }
        self.state[i].is_set = true;
        self.state[i].kernel_btf_id = id;
        self.log.debug(format!("extern (var ksym) '{name}': resolved to [{id}] var {}", var.name()));
        Ok(())
    }

    /// `bpf_object__resolve_ksym_func_btf_id`.
    fn resolve_func(&mut self, i: usize, local: &Btf, local_proto_id: u32) -> Result<(), LinkError> {
        let x = &self.obj.externs[i];
        let (name, essent, weak) = (x.name.clone(), x.essent_name.clone(), x.weak);
        let targ = self.target.btf().clone();
        let Some(kfunc_id) = self.find_ksym(&essent, Kind::Func) else {
            if weak {
                return Ok(());
            }
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Srch,
                self.log,
                format!("extern (func ksym) '{name}': not found in kernel or module BTFs"),
            ));
        };
        let kproto = targ.type_by_id(kfunc_id).map_err(|e| btf_err(&e))?.size_or_type();
        if !types_are_compat(local, local_proto_id, &targ, kproto).unwrap_or(false) {
            if weak {
                return Ok(());
            }
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Inval,
                self.log,
                format!(
                    "extern (func ksym) '{name}': func_proto [{local_proto_id}] incompatible with {} [{kproto}]",
                    "vmlinux"
                ),
            ));
        }
        self.state[i].is_set = true;
        self.state[i].kernel_btf_id = kfunc_id;
        self.log.debug(format!("extern (func ksym) '{name}': resolved to vmlinux [{kfunc_id}]"));
        Ok(())
    }
}

fn btf_err(e: &kfvm_btf::BtfError) -> LinkError {
    LinkError { kind: LinkErrorKind::Btf, errno: Errno::Inval, message: e.to_string() }
}

/// The result of [`resolve_externs`]: one entry per extern (in [`Object::externs`] order) and the
/// `.kconfig` map's contents (`None` without a `.kconfig` map).
pub(crate) struct Externs {
    pub(crate) resolved: Vec<ResolvedExtern>,
    pub(crate) kconfig_data: Option<(usize, Vec<u8>)>,
}

/// `bpf_object__resolve_externs`.
pub(crate) fn resolve_externs(
    obj: &Object,
    local: Option<&Btf>,
    target: &Target,
    log: &mut Log,
) -> Result<Externs, LinkError> {
    let kcfg_map = obj.maps.iter().position(|m| m.source == MapSource::Kconfig);
    let data = kcfg_map.map(|m| vec![0u8; obj.maps[m].value_size as usize]).unwrap_or_default();
    let mut r =
        Resolver { obj, local, target, state: vec![ExtState::default(); obj.externs.len()], data, log };
    let (mut need_config, mut need_kallsyms, mut need_btf) = (false, false, false);
    for (i, x) in obj.externs.iter().enumerate() {
        match x.kind {
            ExternKind::Ksym { type_id, .. } => {
                if type_id != 0 {
                    need_btf = true;
                } else {
                    need_kallsyms = true;
                }
            }
            ExternKind::Kconfig { .. } => {
                if x.name.starts_with("CONFIG_") {
                    need_config = true;
                    continue;
                }
                let value: u64 = match x.name.as_str() {
                    "LINUX_KERNEL_VERSION" => {
                        let v = target.kernel_version() as u64;
                        if v == 0 {
                            return Err(err(
                                LinkErrorKind::Extern,
                                Errno::Inval,
                                r.log,
                                format!("extern (kcfg) '{}': failed to get kernel version", x.name),
                            ));
                        }
                        v
                    }
                    "LINUX_HAS_BPF_COOKIE" => target.has_bpf_cookie() as u64,
                    "LINUX_HAS_SYSCALL_WRAPPER" => target.has_syscall_wrapper() as u64,
                    n if !n.starts_with("LINUX_") || !x.weak => {
                        return Err(err(
                            LinkErrorKind::Extern,
                            Errno::Inval,
                            r.log,
                            format!("extern (kcfg) '{}': unrecognized virtual extern", x.name),
                        ));
                    }
                    _ => 0,
                };
                r.set_num(i, value)?;
                r.log.debug(format!("extern (kcfg) '{}': set to {value:#x}", x.name));
            }
        }
    }
    if need_config {
        let text = target.kconfig().to_string();
        for line in text.split_inclusive('\n') {
            if let Err(e) = r.kconfig_line(line) {
                r.log.warn(format!(
                    "error parsing in-memory Kconfig line '{}': {}",
                    line.trim_end_matches('\n'),
                    e.errno.code()
                ));
                return Err(e);
            }
        }
    }
    if need_kallsyms {
        for (i, x) in obj.externs.iter().enumerate() {
            let ExternKind::Ksym { func: false, .. } = x.kind else { continue };
            if let Some(addr) = target.ksym_addr(&x.name) {
                r.state[i].is_set = true;
                r.state[i].addr = addr;
                r.log.debug(format!("extern (ksym) '{}': set to {addr:#x}", x.name));
            }
        }
    }
    if need_btf {
        let Some(local) = r.local else {
            return Err(LinkError {
                kind: LinkErrorKind::Btf,
                errno: Errno::Inval,
                message: "typed __ksym externs need the object's BTF".to_string(),
            });
        };
        for (i, x) in obj.externs.iter().enumerate() {
            let ExternKind::Ksym { func, type_id } = x.kind else { continue };
            if type_id == 0 {
                continue;
            }
            let is_var = local.get(x.btf_id).is_some_and(|t| t.kind() == Kind::Var);
            let res = if is_var && !func {
                r.resolve_var(i, local, type_id)
            } else {
                r.resolve_func(i, local, type_id)
            };
            if let Err(mut e) = res {
                // libbpf returns -EINVAL for any failure here
                e.errno = Errno::Inval;
                return Err(e);
            }
        }
    }
    for (i, x) in obj.externs.iter().enumerate() {
        if !r.state[i].is_set && !x.weak {
            return Err(err(
                LinkErrorKind::Extern,
                Errno::Srch,
                r.log,
                format!("extern '{}' (strong): not resolved", x.name),
            ));
        } else if !r.state[i].is_set {
            r.log.debug(format!("extern '{}' (weak): not resolved, defaulting to zero", x.name));
        }
    }
    let resolved = obj
        .externs
        .iter()
        .zip(&r.state)
        .map(|(x, s)| {
            let value = match x.kind {
                ExternKind::Kconfig { data_off, size, .. } => {
                    let o = data_off as usize;
                    ExternValue::Kconfig {
                        data_off,
                        bytes: r.data.get(o..o + size as usize).map(<[u8]>::to_vec).unwrap_or_default(),
                    }
                }
                _ if !s.is_set => ExternValue::Unresolved,
                ExternKind::Ksym { func: true, .. } => {
                    ExternValue::Kfunc { btf_id: s.kernel_btf_id, btf_fd_idx: 0 }
                }
                ExternKind::Ksym { type_id: 0, .. } => ExternValue::Addr(s.addr),
                ExternKind::Ksym { .. } => ExternValue::Var { btf_id: s.kernel_btf_id },
            };
            ResolvedExtern { name: x.name.clone(), weak: x.weak, value }
        })
        .collect();
    Ok(Externs { resolved, kconfig_data: kcfg_map.map(|m| (m, r.data)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull() {
        assert_eq!(parse_u64("42"), Some(42));
        assert_eq!(parse_u64("0x2a"), Some(42));
        assert_eq!(parse_u64("052"), Some(42));
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("-1"), Some(u64::MAX));
        assert_eq!(parse_u64("12abc"), None);
        assert_eq!(parse_u64("0x"), None);
        assert_eq!(parse_u64("99999999999999999999999"), None);
    }

    #[test]
    fn ranges() {
        assert!(in_range(1, false, 255));
        assert!(!in_range(1, false, 256));
        assert!(in_range(1, true, (-128i64) as u64));
        assert!(!in_range(1, true, 128));
        assert!(in_range(8, false, u64::MAX));
    }
}
