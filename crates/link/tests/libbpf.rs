//! kfvm-link against libbpf, on the same objects and target BTFs.
//!
//! `tests/recorded/STEM@TARGET.libbpf-VER.txt` hold what libbpf (the system's 1.1, and 1.6.2
//! built from source: the libbpf of Linux 6.18, which kfvm follows) handed to `BPF_PROG_LOAD` for
//! object STEM linked against TARGET (`progs/libbpf_link.c`, run by `progs/build.sh` for every line
//! of `tests/recorded/MANIFEST`), or the warnings with which it refused the object. Each test
//! links the same object against the same target with kfvm-link and compares:
//!
//! - refused objects: the same errno, and kfvm's message is one of libbpf's warnings;
//! - loaded objects: every instruction of every program libbpf loaded (CO-RE applied or poisoned,
//!   kfunc ids, typed ksym ids, map references as map indices), and the `.kconfig` map's bytes.
//!
//! kfvm follows libbpf 1.6. libbpf 1.1 differs in three ways these objects show, allowed for when
//! comparing with the 1.1 recordings only:
//!
//! - a call of an unresolved weak kfunc keeps `src_reg` `BPF_PSEUDO_KFUNC_CALL` with `imm` 0
//!   instead of becoming the poison call `2002000000 + extern index`;
//! - a kfunc extern named with a `___flavor` suffix is looked up by its full name, not its
//!   essential name (so `bpf_task_acquire___v2`, weak, stays unresolved);
//! - a *weak* kfunc extern whose prototype does not match refuses the object, as a strong one
//!   does (1.6 leaves it unresolved).
//!
//! (1.1 also says "kernel" where 1.6 says "vmlinux" in the prototype message, and prints errnos as
//! numbers.)
//!
//! libbpf's feature probes decide `LINUX_HAS_BPF_COOKIE` and `LINUX_HAS_SYSCALL_WRAPPER`; the test
//! gives kfvm's target the values the recording shows. For a target other than the running
//! kernel, the harness loads tracing, LSM, ext and struct_ops programs as `BPF_PROG_TYPE_SYSCALL`
//! (libbpf 1.6) or leaves them out (libbpf 1.1, which cannot retype them): their attach targets
//! are not in that BTF.
//!
//! `vmlinux` recordings are compared only on a machine whose `/sys/kernel/btf/vmlinux` is the one
//! recorded against (its hash is in the recording); elsewhere they are skipped, saying so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kfvm_btf::Btf;

use kfvm_isa::RawInsn;
use kfvm_link::{link, Target};
use kfvm_object::Object;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Debug, Default)]
struct Recording {
    version: String,
    kversion: u32,
    target_hash: u64,
    kallsyms: Vec<(String, u64)>,
    load: i32,
    warns: Vec<String>,
    kconfig: Option<Vec<u8>>,
    progs: Vec<(String, Vec<RawInsn>)>,
}

fn parse_recording(text: &str) -> Recording {
    let mut r = Recording::default();
    for line in text.lines() {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "libbpf" => r.version = rest.to_string(),
            "kversion" => r.kversion = u32::from_str_radix(rest.trim_start_matches("0x"), 16).unwrap(),
            "target-hash" => r.target_hash = u64::from_str_radix(rest, 16).unwrap(),
            "kallsyms" => {
                let (n, a) = rest.split_once(' ').unwrap();
                r.kallsyms
                    .push((n.to_string(), u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap()));
            }
            "load" => r.load = rest.parse().unwrap(),
            "warn" => r.warns.push(rest.strip_prefix("libbpf: ").unwrap_or(rest).to_string()),
            "kconfig" => {
                r.kconfig =
                    Some(rest.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect())
            }
            "prog" => r.progs.push((rest.split_whitespace().next().unwrap().to_string(), Vec::new())),
            "insn" => {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let insn = RawInsn::new(
                    u8::from_str_radix(f[1], 16).unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                    f[4].parse().unwrap(),
                    f[5].parse().unwrap(),
                );
                r.progs.last_mut().unwrap().1.push(insn);
            }
            "skip" => {}
            "open-error" => panic!("libbpf could not open the object: {line}"),
            _ => panic!("unexpected recording line: {line}"),
        }
    }
    r
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn manifest() -> Vec<(String, PathBuf, Vec<String>)> {
    let text = std::fs::read_to_string(Path::new(DIR).join("tests/recorded/MANIFEST")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_string(),
                Path::new(DIR).join("tests/progs").join(f[1]),
                f[2..].iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

fn target_path(t: &str) -> PathBuf {
    match t {
        "vmlinux" => PathBuf::from("/sys/kernel/btf/vmlinux"),
        "host" => Path::new(DIR).join("tests/data/host.btf"),
        "kinds" => Path::new(DIR).join("tests/data/kinds_target.btf"),
        _ => panic!("unknown target {t}"),
    }
}

/// libbpf 1.1 words some messages differently.
fn normalize_11(s: &str) -> String {
    s.replace("incompatible with kernel [", "incompatible with vmlinux [")
        .replace(": -22", ": -EINVAL")
        .replace(": -3", ": -ESRCH")
}

const POISON_CALL_KFUNC_BASE: i32 = 2_002_000_000;

/// libbpf 1.1 refused the object only for weak kfunc externs with mismatched prototypes.
fn weak_proto_refused_by_11(obj: &Object, warns: &[String]) -> bool {
    let mut any = false;
    for w in warns {
        if w.starts_with("failed to load object") {
            continue;
        }
        let weak_proto = w
            .strip_prefix("extern (func ksym) '")
            .and_then(|r| r.split_once("': func_proto "))
            .is_some_and(|(name, _)| obj.externs.iter().any(|x| x.name == name && x.weak));
        if !weak_proto {
            return false;
        }
        any = true;
    }
    any
}

/// Compares one recording; `Err` says what differs, `Ok(None)` passed, `Ok(Some(why))` skipped.
fn check(
    stem: &str,
    obj_path: &Path,
    target: &str,
    rec_path: &Path,
    cache: &mut HashMap<String, Arc<Btf>>,
) -> Result<Option<String>, String> {
    let rec = parse_recording(&std::fs::read_to_string(rec_path).unwrap());
    let is_11 = rec.version == "1.1";
    let tpath = target_path(target);
    let Ok(tbytes) = std::fs::read(&tpath) else {
        return Ok(Some(format!("{} not readable", tpath.display())));
    };
    if fnv1a(&tbytes) != rec.target_hash {
        return Ok(Some(format!("{} is not the BTF recorded against", tpath.display())));
    }
    let kconfig = std::fs::read_to_string(Path::new(DIR).join("tests/data/kconfig")).unwrap();
    let btf =
        cache.entry(target.to_string()).or_insert_with(|| Arc::new(Btf::from_vec(tbytes).unwrap())).clone();
    let mut t = Target::new(btf).with_kernel_version(rec.kversion).with_kconfig(&kconfig);
    for (n, a) in &rec.kallsyms {
        t = t.with_ksym_addr(n.clone(), *a);
    }
    let obj = Object::open(obj_path).map_err(|e| format!("{stem}: open: {e}"))?;
    // LINUX_HAS_BPF_COOKIE and LINUX_HAS_SYSCALL_WRAPPER are what libbpf probed on the recording
    // machine (the wrapper probe needs a kprobe perf event): take them from the recording.
    if let Some(data) = &rec.kconfig {
        let flag = |name: &str| {
            obj.externs.iter().find(|x| x.name == name).and_then(|x| match x.kind {
                kfvm_object::ExternKind::Kconfig { data_off, .. } => {
                    data.get(data_off as usize).map(|&b| b != 0)
                }
                _ => None,
            })
        };
        t = t.with_features(
            flag("LINUX_HAS_BPF_COOKIE").unwrap_or(true),
            flag("LINUX_HAS_SYSCALL_WRAPPER").unwrap_or(true),
        );
    }
    let res = link(&obj, &t);
    if rec.load != 0 {
        let e = match res {
            Ok(_) if is_11 && weak_proto_refused_by_11(&obj, &rec.warns) => return Ok(None),
            Ok(_) => return Err(format!("libbpf refused the object ({:?}), kfvm linked it", rec.warns)),
            Err(e) => e,
        };
        if e.errno.code() != rec.load {
            return Err(format!("errno {} ({e}), libbpf {}", e.errno.code(), rec.load));
        }
        let warns: Vec<String> =
            rec.warns.iter().map(|w| if is_11 { normalize_11(w) } else { w.clone() }).collect();
        if !warns.contains(&e.message) {
            return Err(format!("message '{}' is none of libbpf's {warns:?}", e.message));
        }
        return Ok(None);
    }
    let linked = res.map_err(|e| format!("kfvm refused what libbpf loaded: {e}"))?;
    if let Some(want) = &rec.kconfig {
        let m = linked
            .maps
            .iter()
            .find(|m| m.source == kfvm_object::MapSource::Kconfig)
            .ok_or("no .kconfig map")?;
        let have = m.data.clone().unwrap_or_default();
        if &have != want {
            return Err(format!(".kconfig data {have:02x?}, libbpf {want:02x?}"));
        }
    }
    let mut compared = 0;
    for (name, want) in &rec.progs {
        // BPF_OBJ_NAME_LEN: libbpf sends at most 15 characters of the name
        let Some(p) = linked.programs.iter().find(|p| p.name.chars().take(15).collect::<String>() == *name)
        else {
            if obj.programs.iter().any(|p| p.name.starts_with(name.as_str())) {
                return Err(format!("program {name} not linked"));
            }
            continue; // one of libbpf's own probe programs
        };
        compared += 1;
        if p.insns.len() != want.len() {
            return Err(format!("{name}: {} insns, libbpf {}", p.insns.len(), want.len()));
        }
        for (i, (h, w)) in p.insns.iter().zip(want).enumerate() {
            if h == w {
                continue;
            }
            let ext_poison = h.code == 0x85 && h.regs == 0 && h.imm >= POISON_CALL_KFUNC_BASE;
            let unresolved_11 = w.code == 0x85 && w.src() == 2 && w.imm == 0 && w.off == 0;
            if is_11 && ext_poison && unresolved_11 {
                continue; // 1.1 leaves unresolved weak kfunc calls unpoisoned
            }
            let flavored = p.kfunc_call_at(i).is_some_and(|c| c.name.contains("___"));
            if is_11 && flavored && unresolved_11 {
                continue; // 1.1 looks kfuncs up by their full name
            }
            return Err(format!(
                "{name}: insn {i}: kfvm {:02x} {} {} {} {}, libbpf {:02x} {} {} {} {}\n{}",
                h.code,
                h.dst(),
                h.src(),
                h.off,
                h.imm,
                w.code,
                w.dst(),
                w.src(),
                w.off,
                w.imm,
                linked.listing(p)
            ));
        }
    }
    if compared == 0 && !rec.progs.is_empty() {
        return Err("no program compared".to_string());
    }
    Ok(None)
}

#[test]
fn linked_like_libbpf() {
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut skipped = Vec::new();
    let mut cache = HashMap::new();
    for (stem, obj, targets) in manifest() {
        for t in targets {
            for ver in ["1.1", "1.6"] {
                let rec = Path::new(DIR).join(format!("tests/recorded/{stem}@{t}.libbpf-{ver}.txt"));
                if !rec.exists() {
                    if ver == "1.1" {
                        failures.push(format!("{}: missing", rec.display()));
                    }
                    continue;
                }
                match check(&stem, &obj, &t, &rec, &mut cache) {
                    Ok(None) => passed += 1,
                    Ok(Some(why)) => skipped.push(format!("{stem}@{t} (libbpf {ver}): {why}")),
                    Err(e) => failures.push(format!("{stem}@{t} (libbpf {ver}): {e}")),
                }
            }
        }
    }
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    eprintln!("{passed} recordings agree with libbpf, {} skipped", skipped.len());
    assert!(failures.is_empty(), "{} differ from libbpf:\n{}", failures.len(), failures.join("\n\n"));
    assert!(passed >= 20, "only {passed} recordings compared");
}
