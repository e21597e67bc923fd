//! BPF ELF objects loaded into the live kernel through kfvm's own pipeline, the way libbpf
//! loads them: the object read by `kfvm-object`, linked by `kfvm-link` against the running
//! kernel's BTF (`/sys/kernel/btf/vmlinux`), its maps created with `BPF_MAP_CREATE` (with BTF,
//! global data written and `.rodata` frozen), the program's BTF loaded with `BPF_BTF_LOAD` after
//! libbpf's fix-ups of `.ksyms` ([`btf_for_kernel`]), and `BPF_PROG_LOAD` given `func_info`,
//! `line_info`, `attach_btf_id`, `expected_attach_type` and the maps in `fd_array`.

use crate::{create_map, map_update, prog_load_ext, sys_bpf_fd_cmd, LoadOpts, Loaded, MapSpec};
use kfvm_link::{LinkedObject, LinkedProgram, Target};
use kfvm_object::{MapDef, MapSource};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_INT: u32 = 1;
const BTF_FUNC_GLOBAL: u32 = 1;
const BTF_VAR_GLOBAL_ALLOCATED: u32 = 1;

fn rd(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn wr(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Size of the data following a type record's 12-byte head.
fn extra_len(kind: u32, vlen: u32) -> Option<usize> {
    Some(match kind {
        1 => 4,
        2 | 7..=12 | 16 | 18 => 0,
        3 => 12,
        4 | 5 => 12 * vlen as usize,
        6 => 8 * vlen as usize,
        13 => 8 * vlen as usize,
        14 => 4,
        15 => 12 * vlen as usize,
        17 => 4,
        19 => 12 * vlen as usize,
        _ => return None,
    })
}

/// libbpf's fix-ups of an object's BTF for the kernel (`bpf_object__collect_externs`): the
/// kernel refuses `extern` FUNCs and typeless VARs in a DATASEC, so every entry of `.ksyms`
/// becomes a 4-byte `int` slot: a FUNC entry points at a new `int dummy_ksym` VAR (and its
/// prototype's unnamed parameters take that name), the FUNC itself becomes global; a VAR
/// becomes a global allocated `int`. BTF without `.ksyms` is returned as it is.
pub fn btf_for_kernel(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.len() < 24 || u16::from_le_bytes([raw[0], raw[1]]) != BTF_MAGIC {
        return Err("not BTF (bad magic)".into());
    }
    let hdr_len = rd(raw, 4) as usize;
    let (type_off, type_len, str_off, str_len) = (rd(raw, 8), rd(raw, 12), rd(raw, 16), rd(raw, 20));
    let types_start = hdr_len + type_off as usize;
    let strs_start = hdr_len + str_off as usize;
    if types_start + type_len as usize > raw.len() || strs_start + str_len as usize > raw.len() {
        return Err("BTF sections out of bounds".into());
    }
    // Index the records.
    let mut offs = vec![0usize]; // id 0: void
    let mut p = types_start;
    let end = types_start + type_len as usize;
    while p < end {
        if p + 12 > end {
            return Err("truncated BTF type record".into());
        }
        let info = rd(raw, p + 4);
        let (kind, vlen) = ((info >> 24) & 0x1f, info & 0xffff);
        let extra = extra_len(kind, vlen).ok_or_else(|| format!("unknown BTF kind {kind}"))?;
        offs.push(p);
        p += 12 + extra;
    }
    let name = |b: &[u8], t: usize| -> String {
        let off = strs_start + rd(b, t) as usize;
        let e = b[off..].iter().position(|&c| c == 0).map_or(b.len(), |n| off + n);
        String::from_utf8_lossy(&b[off..e]).into_owned()
    };
    let kind_of = |b: &[u8], id: usize| (rd(b, offs[id] + 4) >> 24) & 0x1f;
    let Some(sec) =
        (1..offs.len()).find(|&id| kind_of(raw, id) == KIND_DATASEC && name(raw, offs[id]) == ".ksyms")
    else {
        return Ok(raw.to_vec());
    };
    let mut out = raw.to_vec();
    let vlen = (rd(raw, offs[sec] + 4) & 0xffff) as usize;
    let entries: Vec<usize> = (0..vlen).map(|i| offs[sec] + 12 + 12 * i).collect();
    let int_id = (1..offs.len())
        .find(|&id| kind_of(raw, id) == KIND_INT && rd(raw, offs[id] + 8) == 4)
        .ok_or("no 4-byte int in the BTF")? as u32;
    let has_func = entries.iter().any(|&e| kind_of(raw, rd(raw, e) as usize) == KIND_FUNC);
    // The new VAR is appended: type ids of existing types do not change.
    let dummy_id = offs.len() as u32;
    let dummy_name = str_len; // appended string offset
    for &e in &entries {
        let id = rd(raw, e) as usize;
        let t = offs[id];
        match kind_of(raw, id) {
            KIND_FUNC => {
                let proto = offs[rd(raw, t + 8) as usize];
                if (rd(raw, proto + 4) >> 24) & 0x1f == KIND_FUNC_PROTO {
                    let n = (rd(raw, proto + 4) & 0xffff) as usize;
                    for j in 0..n {
                        let prm = proto + 12 + 8 * j;
                        if rd(raw, prm + 4) != 0 && rd(raw, prm) == 0 {
                            wr(&mut out, prm, dummy_name);
                        }
                    }
                }
                wr(&mut out, e, dummy_id);
                let info = rd(raw, t + 4);
                wr(&mut out, t + 4, (info & !0xffff) | BTF_FUNC_GLOBAL);
            }
            KIND_VAR => {
                wr(&mut out, t + 8, int_id);
                wr(&mut out, t + 12, BTF_VAR_GLOBAL_ALLOCATED);
            }
            k => return Err(format!(".ksyms holds a type of kind {k}")),
        }
    }
    for (i, &e) in entries.iter().enumerate() {
        wr(&mut out, e + 4, 4 * i as u32);
        wr(&mut out, e + 8, 4);
    }
    wr(&mut out, offs[sec] + 8, 4 * vlen as u32);
    if !has_func {
        return Ok(out);
    }
    // Append `VAR int dummy_ksym` (global allocated) and its name.
    let mut var = Vec::with_capacity(16);
    var.extend_from_slice(&dummy_name.to_le_bytes());
    var.extend_from_slice(&(KIND_VAR << 24).to_le_bytes());
    var.extend_from_slice(&int_id.to_le_bytes());
    var.extend_from_slice(&BTF_VAR_GLOBAL_ALLOCATED.to_le_bytes());
    let mut res = Vec::with_capacity(out.len() + 32);
    res.extend_from_slice(&out[..end]);
    res.extend_from_slice(&var);
    res.extend_from_slice(&out[end..]);
    res.extend_from_slice(b"dummy_ksym\0");
    let hdr = &mut res[..hdr_len];
    // Types first, then strings (as clang and libbpf lay them out).
    if str_off < type_off {
        return Err("BTF with strings before types is not supported".into());
    }
    wr(hdr, 12, type_len + 16);
    wr(hdr, 16, str_off + 16);
    wr(hdr, 20, str_len + 11);
    Ok(res)
}

/// The running kernel as a link target, read once.
pub fn running_kernel() -> Result<&'static Target, String> {
    static T: OnceLock<Result<Target, String>> = OnceLock::new();
    T.get_or_init(Target::running_kernel).as_ref().map_err(Clone::clone)
}

/// `BPF_MAP_FREEZE`.
const BPF_MAP_FREEZE: libc::c_long = 22;

/// Creates map `def` of `obj` as libbpf does, with `btf_fd`'s BTF when the map has key or value
/// types; fills global data and freezes `.rodata`/`.kconfig`.
fn create_obj_map(obj: &LinkedObject, def: &MapDef, btf: Option<&[u8]>) -> Result<OwnedFd, String> {
    if def.inner.is_some() {
        return Err(format!("map {}: maps of maps are not supported by this loader", def.name));
    }
    let with_btf = btf.filter(|_| {
        (def.btf_key_type_id != 0 || def.btf_value_type_id != 0)
            && !kfvm_uapi::MapType::from_u32(def.map_type).is_some_and(|t| t.libbpf_creates_without_btf())
    });
    let spec = MapSpec {
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        name: def.name.clone(),
        btf: with_btf.map(|b| (b.to_vec(), def.btf_key_type_id, def.btf_value_type_id)),
    };
    // libbpf retries without BTF when the kernel refuses the map with it.
    let fd = match create_map(&spec) {
        Ok(fd) => Ok(fd),
        Err(_) if spec.btf.is_some() => create_map(&MapSpec { btf: None, ..spec.clone() }),
        Err(e) => Err(e),
    }
    .map_err(|e| format!("map {}: BPF_MAP_CREATE: {e}", def.name))?;
    if let Some(data) = &def.data {
        let key = 0u32.to_ne_bytes();
        map_update(&fd, &key, data).map_err(|e| format!("map {}: BPF_MAP_UPDATE_ELEM: {e}", def.name))?;
    }
    if matches!(def.source, MapSource::Rodata | MapSource::Kconfig) {
        sys_bpf_fd_cmd(BPF_MAP_FREEZE, &fd).map_err(|e| format!("map {}: BPF_MAP_FREEZE: {e}", def.name))?;
    }
    let _ = obj;
    Ok(fd)
}

/// A program loaded into the live kernel, with the maps it uses.
#[derive(Debug)]
pub struct LoadedProgram {
    /// The verdict and log.
    pub loaded: Loaded,
    /// The object's maps (kept open for test runs).
    pub maps: Vec<OwnedFd>,
    /// The log level the log was taken at (a failed load at level 0 is retried at level 1, as
    /// libbpf does).
    pub log_level: u32,
}

/// Loads program `prog` of `obj` (linked against [`running_kernel`]) with log level `log_level`
/// and `extra_flags` added to its `prog_flags`. `Err` when something before `BPF_PROG_LOAD`
/// failed (the BTF or a map was refused).
pub fn load_program(
    obj: &LinkedObject,
    prog: &LinkedProgram,
    log_level: u32,
    extra_flags: u32,
) -> Result<LoadedProgram, String> {
    let btf = match &obj.btf {
        Some(b) => Some(btf_for_kernel(b.raw_data()).map_err(|e| format!("program BTF: {e}"))?),
        None => None,
    };
    let mut maps = Vec::new();
    for def in &obj.maps {
        maps.push(create_obj_map(obj, def, btf.as_deref())?);
    }
    let fds: Vec<i32> = maps.iter().map(|f| f.as_raw_fd()).collect();
    let func_info: Vec<(u32, u32)> = prog.func_info.iter().map(|f| (f.insn_off, f.type_id)).collect();
    let line_info: Vec<[u32; 4]> =
        prog.line_info.iter().map(|l| [l.insn_off, l.file_name_off, l.line_off, l.line_col]).collect();
    let load = |level: u32| {
        let opts = LoadOpts {
            prog_type: prog.prog_type.as_u32(),
            flags: prog.prog_flags | extra_flags,
            log_level: level,
            expected_attach_type: prog.expected_attach_type.map_or(0, |a| a.as_u32()),
            fd_array: &fds,
            attach_btf_id: prog.attach_btf_id.unwrap_or(0),
            prog_btf: btf.as_deref().unwrap_or(&[]),
            func_info: if btf.is_some() { &func_info } else { &[] },
        };
        prog_load_ext(
            &prog.insns,
            &opts,
            if btf.is_some() { &line_info } else { &[] },
            &obj.license,
            &prog.name,
        )
    };
    let mut loaded = load(log_level);
    let mut level = log_level;
    if loaded.fd.is_none() && log_level == 0 {
        level = 1;
        loaded = load(1);
    }
    Ok(LoadedProgram { loaded, maps, log_level: level })
}

/// Links `bytes` (an ELF object named `file_name`) against the running kernel.
pub fn link_for_kernel(bytes: &[u8], file_name: &str) -> Result<LinkedObject, String> {
    let target = running_kernel()?;
    let obj = kfvm_object::Object::parse(bytes, file_name).map_err(|e| format!("{file_name}: {e}"))?;
    kfvm_link::link(&obj, target).map_err(|e| format!("{file_name}: link against vmlinux: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btf_without_ksyms_is_unchanged() {
        let mut b = kfvm_btf::BtfBuilder::new();
        b.add_int("int", 4, kfvm_btf::IntEncoding::SIGNED);
        let raw = b.finish().unwrap();
        assert_eq!(btf_for_kernel(&raw).unwrap(), raw);
    }

    #[test]
    fn ksyms_funcs_become_int_slots() {
        use kfvm_btf::{FuncLinkage, VarLinkage, VarSecinfo};
        let mut b = kfvm_btf::BtfBuilder::new();
        let int = b.add_int("int", 4, kfvm_btf::IntEncoding::SIGNED);
        let proto = b.add_func_proto(int, &[("", int)]);
        let f = b.add_func("bpf_foo", proto, FuncLinkage::Extern);
        let v = b.add_var("some_var", 0, VarLinkage::Extern);
        b.add_datasec(
            ".ksyms",
            0,
            &[VarSecinfo { type_id: f, offset: 0, size: 0 }, VarSecinfo { type_id: v, offset: 0, size: 0 }],
        );
        let raw = b.finish().unwrap();
        let fixed = kfvm_btf::Btf::parse(&btf_for_kernel(&raw).unwrap()).unwrap();
        let dummy = fixed.find_by_name_kind("dummy_ksym", kfvm_btf::Kind::Var).unwrap();
        let sec = fixed.find_by_name_kind(".ksyms", kfvm_btf::Kind::Datasec).unwrap();
        let vars: Vec<_> = sec.datasec_vars().collect();
        assert_eq!(vars[0].type_id, dummy.id());
        assert_eq!((vars[1].type_id, vars[1].offset, vars[1].size), (v, 4, 4));
        assert_eq!(sec.size(), Some(8));
        assert_eq!(fixed.get(f).unwrap().vlen(), 1, "global linkage");
    }
}
