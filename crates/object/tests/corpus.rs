//! The committed corpus (`tests/progs/*.bpf.o`) read by kfvm-object and compared with what other
//! tools recorded from the same objects (`tests/progs/build.sh`):
//!
//! - `X.libbpf.txt`: the system libbpf (`libbpf_dump.c`): programs, sections, types and maps after
//!   `bpf_object__open()`, and every `BPF_PROG_LOAD` request libbpf made: linked instructions,
//!   `func_info`, `line_info`, prog type, expected attach type, flags, attach target;
//! - `X.objdump.txt`: `llvm-objdump-19 -d -r`: functions, their sections and sizes, relocations;
//! - `X.btf.txt`: `bpftool btf dump file`: the decl tags.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kfvm_object::{ExternKind, Object, Program, RelocKind};

fn progs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs")
}

fn objects() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(progs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    v.sort();
    assert!(v.len() >= 6, "corpus missing");
    v
}

fn base(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().trim_end_matches(".bpf.o").to_string()
}

fn open(name: &str) -> Object {
    Object::open(progs_dir().join(format!("{name}.bpf.o"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `key=value` fields of a line.
fn kv(line: &str) -> HashMap<&str, &str> {
    line.split_whitespace().filter_map(|w| w.split_once('=')).collect()
}

fn num(s: &str) -> u64 {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).unwrap()
    } else {
        s.parse().unwrap()
    }
}

#[derive(Default, Debug)]
struct LoadRec {
    fields: HashMap<String, String>,
    insns: Vec<(u8, u8, u8, i16, i32, Option<String>)>,
    func_info: Vec<(u32, u32)>,
    line_info: Vec<(u32, u32, u32, u32, u32)>,
}

struct LibbpfDump {
    progs: Vec<HashMap<String, String>>,
    maps: Vec<HashMap<String, String>>,
    map_fds: HashMap<i32, String>,
    loads: Vec<(String, LoadRec)>,
}

fn read_libbpf(name: &str) -> LibbpfDump {
    let text = std::fs::read_to_string(progs_dir().join(format!("{name}.libbpf.txt"))).unwrap();
    let mut d = LibbpfDump { progs: vec![], maps: vec![], map_fds: HashMap::new(), loads: vec![] };
    let owned = |line: &str| -> HashMap<String, String> {
        let mut m: HashMap<String, String> =
            kv(line).into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        m.insert("name".into(), line.split_whitespace().nth(1).unwrap_or("").to_string());
        m
    };
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("prog") => d.progs.push(owned(line)),
            Some("map") => d.maps.push(owned(line)),
            Some("mapfd") => {
                let fd: i32 = w.next().unwrap().parse().unwrap();
                d.map_fds.insert(fd, w.next().unwrap().to_string());
            }
            Some("prog_load") => {
                let rec = LoadRec { fields: owned(line), ..Default::default() };
                d.loads.push((rec.fields["name"].clone(), rec));
            }
            Some("insn") => {
                let v: Vec<&str> = w.collect();
                let rec = &mut d.loads.last_mut().unwrap().1;
                rec.insns.push((
                    u8::from_str_radix(v[1], 16).unwrap(),
                    v[2].parse().unwrap(),
                    v[3].parse().unwrap(),
                    v[4].parse().unwrap(),
                    v[5].parse().unwrap(),
                    v.get(6).map(|s| s.to_string()),
                ));
            }
            Some("func_info") => {
                let v: Vec<u32> = w.take(2).map(|s| s.parse().unwrap()).collect();
                d.loads.last_mut().unwrap().1.func_info.push((v[0], v[1]));
            }
            Some("line_info") => {
                let v: Vec<u32> = w.map(|s| s.parse().unwrap()).collect();
                d.loads.last_mut().unwrap().1.line_info.push((v[0], v[1], v[2], v[3], v[4]));
            }
            _ => {}
        }
    }
    d
}

/// Programs, sections, types and instruction counts after `bpf_object__open()`.
#[test]
fn programs_match_libbpf_open() {
    for path in objects() {
        let name = base(&path);
        let obj = open(&name);
        let d = read_libbpf(&name);
        // libbpf lists .text subprograms among its programs too; bpf_object__for_each_program skips none
        let entries: Vec<&HashMap<String, String>> = d.progs.iter().filter(|p| p["sec"] != ".text").collect();
        assert_eq!(entries.len(), obj.programs.len(), "{name}: program count");
        for (lp, p) in entries.iter().zip(&obj.programs) {
            assert_eq!(lp["name"], p.name, "{name}: program order");
            assert_eq!(lp["sec"], p.section, "{name}/{}", p.name);
            let own = obj.functions[p.function].insns.len();
            assert_eq!(num(&lp["insns"]) as usize, own, "{name}/{}: instructions before linking", p.name);
            assert_eq!(lp["autoload"] == "1", p.autoload, "{name}/{}: autoload", p.name);
            let ty = num(&lp["type"]) as u32;
            // libbpf 1.1 predates some sections (tcx/): it leaves them BPF_PROG_TYPE_UNSPEC
            if ty != 0 {
                assert_eq!(ty, p.prog_type.as_u32(), "{name}/{}: type", p.name);
                assert_eq!(
                    num(&lp["expected_attach_type"]) as u32,
                    p.expected_attach_type_raw(),
                    "{name}/{}",
                    p.name
                );
            }
        }
    }
}

/// Map definitions: names, types, sizes, flags, BTF ids, order.
#[test]
fn maps_match_libbpf() {
    for path in objects() {
        let name = base(&path);
        let obj = open(&name);
        let d = read_libbpf(&name);
        assert_eq!(d.maps.len(), obj.maps.len(), "{name}: map count");
        for (lm, m) in d.maps.iter().zip(&obj.maps) {
            let what = format!("{name}/{}", m.name);
            assert_eq!(lm["name"], m.name, "{name}: map order");
            assert_eq!(num(&lm["type"]) as u32, m.map_type, "{what}");
            assert_eq!(num(&lm["key_size"]) as u32, m.key_size, "{what}");
            assert_eq!(num(&lm["value_size"]) as u32, m.value_size, "{what}");
            assert_eq!(num(&lm["max_entries"]) as u32, m.max_entries, "{what}");
            assert_eq!(num(&lm["flags"]) as u32, m.map_flags, "{what}");
            assert_eq!(num(&lm["btf_key"]) as u32, m.btf_key_type_id, "{what}");
            assert_eq!(num(&lm["btf_value"]) as u32, m.btf_value_type_id, "{what}");
        }
    }
}

fn program_by_kernel_name<'a>(obj: &'a Object, kname: &str) -> &'a Program {
    obj.programs
        .iter()
        .find(|p| {
            p.name.len() >= kname.len() && p.name.as_bytes()[..kname.len().min(15)] == *kname.as_bytes()
        })
        .unwrap_or_else(|| panic!("no program for {kname}"))
}

/// What libbpf handed to `BPF_PROG_LOAD`: the linked instructions, func_info, line_info, types,
/// flags and attach target. Relocated instructions differ only where libbpf wrote kernel values
/// (map fds, BTF ids, CO-RE results); those are checked against the relocation instead.
#[test]
fn linked_programs_match_libbpf_prog_load() {
    let mut compared = 0;
    for path in objects() {
        let name = base(&path);
        let obj = open(&name);
        let d = read_libbpf(&name);
        for (kname, rec) in &d.loads {
            let p = program_by_kernel_name(&obj, kname);
            let what = format!("{name}/{}", p.name);
            let f = &rec.fields;
            assert_eq!(num(&f["type"]) as u32, p.prog_type.as_u32(), "{what}: type");
            assert_eq!(num(&f["expected_attach_type"]) as u32, p.expected_attach_type_raw(), "{what}");
            assert_eq!(num(&f["flags"]) as u32, p.prog_flags, "{what}: prog_flags");
            let attach = p.attach_target.as_ref().map_or("-", |t| t.btf_name.as_str());
            assert_eq!(f["attach"], attach, "{what}: attach target");
            assert_eq!(rec.insns.len(), p.insns.len(), "{what}: linked instruction count");
            let mut skip_next = false;
            for (i, (li, mine)) in rec.insns.iter().zip(&p.insns).enumerate() {
                if skip_next {
                    skip_next = false;
                    continue;
                }
                let (code, dst, src, off, imm, kname) = li;
                assert_eq!((*code, *dst), (mine.code, mine.dst()), "{what}: insn {i}");
                let reloc = p
                    .relocations
                    .iter()
                    .filter(|r| r.insn == i)
                    .find(|r| !matches!(r.kind, RelocKind::Call { .. } | RelocKind::SubprogAddr { .. }));
                let Some(r) = reloc else {
                    assert_eq!((*src, *off, *imm), (mine.src(), mine.off, mine.imm), "{what}: insn {i}");
                    continue;
                };
                let next_imm = rec.insns.get(i + 1).map(|n| n.4);
                match &r.kind {
                    RelocKind::Map { map } => {
                        assert_eq!(*src, 1, "{what}: insn {i}: BPF_PSEUDO_MAP_FD");
                        assert_eq!(d.map_fds[imm], obj.maps[*map].name, "{what}: insn {i}: map");
                        skip_next = true;
                    }
                    RelocKind::MapValue { map, offset } => {
                        assert_eq!(*src, 2, "{what}: insn {i}: BPF_PSEUDO_MAP_VALUE");
                        assert_eq!(d.map_fds[imm], obj.maps[*map].name, "{what}: insn {i}: map");
                        assert_eq!(next_imm, Some(*offset as i32), "{what}: insn {i}: value offset");
                        skip_next = true;
                    }
                    RelocKind::Extern { ext } => {
                        let x = &obj.externs[*ext];
                        match x.kind {
                            ExternKind::Kconfig { data_off, .. } => {
                                assert_eq!(*src, 2, "{what}: insn {i}");
                                assert!(d.map_fds[imm].ends_with(".kconfig"), "{what}: insn {i}");
                                assert_eq!(
                                    next_imm,
                                    Some(data_off as i32),
                                    "{what}: insn {i}: kconfig offset"
                                );
                            }
                            ExternKind::Ksym { type_id, .. } if type_id != 0 && *src == 3 => {
                                assert_eq!(kname.as_deref(), Some(x.name.as_str()), "{what}: insn {i}: ksym");
                            }
                            ExternKind::Ksym { .. } => {} // an address, or an unresolved weak ksym
                        }
                        skip_next = true;
                    }
                    RelocKind::ExternCall { ext } => {
                        let x = &obj.externs[*ext];
                        if *src == 2 && *imm > 0 {
                            assert_eq!(kname.as_deref(), Some(x.name.as_str()), "{what}: insn {i}: kfunc");
                        } else {
                            assert!(x.weak, "{what}: insn {i}: only a weak kfunc may stay unresolved");
                        }
                    }
                    RelocKind::Core(_) => {} // resolved by libbpf against the running kernel
                    RelocKind::Call { .. } | RelocKind::SubprogAddr { .. } => unreachable!(),
                }
            }
            let fi: Vec<(u32, u32)> = p.func_info.iter().map(|f| (f.insn_off, f.type_id)).collect();
            assert_eq!(rec.func_info, fi, "{what}: func_info");
            let li: Vec<(u32, u32, u32, u32, u32)> = p
                .line_info
                .iter()
                .map(|l| (l.insn_off, l.file_name_off, l.line_off, l.line(), l.col()))
                .collect();
            assert_eq!(rec.line_info, li, "{what}: line_info");
            compared += 1;
        }
    }
    assert!(compared >= 30, "only {compared} programs compared");
}

struct ObjdumpFn {
    section: String,
    name: String,
    slots: usize,
    relocs: Vec<(usize, String, String)>, // (insn in function, type, symbol)
}

/// `llvm-objdump -d -r` output, split into functions; headers of other symbols (local labels of
/// inline assembly) continue the function they are in.
fn read_objdump(name: &str, functions: &[String]) -> Vec<ObjdumpFn> {
    let text = std::fs::read_to_string(progs_dir().join(format!("{name}.objdump.txt"))).unwrap();
    let mut out: Vec<ObjdumpFn> = Vec::new();
    let mut section = String::new();
    let mut start = 0usize;
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("Disassembly of section ") {
            section = s.trim_end_matches(':').to_string();
        } else if line.ends_with(">:") && !line.starts_with(char::is_whitespace) {
            let (off, rest) = line.split_once(' ').unwrap();
            let name = rest.trim_start_matches('<').trim_end_matches(">:").to_string();
            if !functions.contains(&name) {
                continue;
            }
            start = usize::from_str_radix(off, 16).unwrap() / 8;
            out.push(ObjdumpFn { section: section.clone(), name, slots: 0, relocs: vec![] });
        } else if let Some((idx, body)) = line.trim_start().split_once(":\t") {
            let Ok(idx) = idx.parse::<usize>() else { continue };
            let f = out.last_mut().unwrap();
            f.slots = idx - start + if body.ends_with(" ll") { 2 } else { 1 };
        } else if line.contains("R_BPF_") {
            let v: Vec<&str> = line.split_whitespace().collect();
            let off = usize::from_str_radix(v[0].trim_end_matches(':'), 16).unwrap();
            let f = out.last_mut().unwrap();
            f.relocs.push((off / 8 - start, v[1].to_string(), v.get(2).unwrap_or(&"").to_string()));
        }
    }
    out
}

/// Functions, their sections and sizes, and every relocation of an entry program, against
/// `llvm-objdump -d -r`.
#[test]
fn functions_and_relocations_match_llvm_objdump() {
    for path in objects() {
        let name = base(&path);
        let obj = open(&name);
        let names: Vec<String> = obj.functions.iter().map(|f| f.name.clone()).collect();
        let fns = read_objdump(&name, &names);
        assert_eq!(fns.len(), obj.functions.len(), "{name}: function count");
        for f in &fns {
            let mine = obj
                .functions
                .iter()
                .find(|m| m.name == f.name)
                .unwrap_or_else(|| panic!("{name}: {}", f.name));
            let raw_sec =
                if mine.section != f.section { format!("?{}", mine.section) } else { mine.section.clone() };
            assert_eq!(raw_sec, f.section, "{name}/{}: section", f.name);
            assert_eq!(mine.insns.len(), f.slots, "{name}/{}: size", f.name);
            let Some(p) = obj.program(&f.name) else { continue };
            for (insn, rtype, sym) in &f.relocs {
                let rs: Vec<&RelocKind> =
                    p.relocations.iter().filter(|r| r.insn == *insn).map(|r| &r.kind).collect();
                let ok = rs.iter().any(|k| match k {
                    RelocKind::Map { map } => obj.maps[*map].real_name == *sym,
                    RelocKind::MapValue { map, .. } => {
                        let m = &obj.maps[*map];
                        m.real_name == *sym
                            || obj.btf.as_ref().is_some_and(|b| !b.find_by_name(sym).is_empty())
                    }
                    RelocKind::Extern { ext } | RelocKind::ExternCall { ext } => {
                        obj.externs[*ext].name == *sym
                    }
                    RelocKind::Call { .. } | RelocKind::SubprogAddr { .. } => {
                        sym == ".text" || obj.functions.iter().any(|g| g.is_subprog && g.name == *sym)
                    }
                    RelocKind::Core(_) => false,
                });
                assert!(ok, "{name}/{}: insn {insn}: {rtype} {sym} not matched by {rs:?}", f.name);
            }
        }
    }
}

/// Decl tags against `bpftool btf dump`, and the kernel-selftest annotations they carry.
#[test]
fn decl_tags_match_bpftool() {
    for path in objects() {
        let name = base(&path);
        let obj = open(&name);
        let text = std::fs::read_to_string(progs_dir().join(format!("{name}.btf.txt"))).unwrap();
        let n = text.lines().filter(|l| l.contains("] DECL_TAG '")).count();
        assert_eq!(n, obj.decl_tags.len(), "{name}: decl tags");
    }
    let obj = open("annotated");
    let p = obj.program("and_negative").unwrap();
    let tags: Vec<(String, Option<u32>, String)> =
        p.comments.iter().map(|c| (c.key.clone(), c.counter, c.value.clone())).collect();
    assert!(
        tags.contains(&("test_description".into(), None, "invalid and of negative number".into())),
        "{tags:?}"
    );
    assert!(tags.contains(&("test_expect_failure".into(), None, String::new())), "{tags:?}");
    assert!(tags.contains(&("test_log_level".into(), None, "2".into())), "{tags:?}");
    assert!(
        tags.iter().any(|(k, c, v)| k == "test_expect_msg"
            && c.is_some()
            && v == "R0 max value is outside of the allowed memory range"),
        "{tags:?}"
    );
    let x: Vec<&str> = obj
        .program("ret_42")
        .unwrap()
        .comments
        .iter()
        .filter(|c| c.key == "test_expect_xlated")
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(x.len(), 2);
    assert!(x.contains(&"0: r0 = 42") && x.contains(&"1: exit"));
    let c = &obj.program("calls_helper").unwrap().comments;
    assert!(c.iter().any(|t| t.key == "test_prog_flags" && t.value == "BPF_F_TEST_STATE_FREQ"));
    assert!(c.iter().any(|t| t.key == "test_expect_not_msg" && t.value == "unreachable"));
}
