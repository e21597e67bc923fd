//! Bad input gets libbpf's error, never a panic: objects libbpf refuses (a mismatched kfunc
//! prototype, a missing strong ksym, ambiguous CO-RE candidates, unusable Kconfig), corrupted
//! objects, and random CO-RE records and instructions fed to the relocation steps directly.

use std::sync::Arc;

use kfvm_btf::{Btf, CoreReloKind, Kind};
use kfvm_isa::RawInsn;
use kfvm_kernel::registry;
use kfvm_link::relo_core::{self, CandCache, CoreReloRec, Log};
use kfvm_link::{link, Errno, ExternValue, LinkErrorKind, Target, POISON_CALL_KFUNC_BASE};
use kfvm_object::Object;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn obj(name: &str) -> Object {
    Object::open(format!("{DIR}/tests/progs/{name}")).unwrap()
}

fn kinds_target() -> Target {
    let btf = Btf::from_vec(std::fs::read(format!("{DIR}/tests/data/kinds_target.btf")).unwrap()).unwrap();
    Target::new(Arc::new(btf))
}

fn host() -> Target {
    Target::from_registry(&registry()).unwrap().with_kconfig("CONFIG_BPF_SYSCALL=y\n")
}

#[test]
fn refused_like_libbpf() {
    let reg = registry();
    let proto = reg.kfunc("bpf_task_acquire").unwrap().proto_id();
    let cases: [(&str, Target, LinkErrorKind, Errno, String); 8] = [
        (
            "bad_proto",
            host(),
            LinkErrorKind::Extern,
            Errno::Inval,
            format!(
                "extern (func ksym) 'bpf_task_acquire': func_proto [5] incompatible with vmlinux [{proto}]"
            ),
        ),
        (
            "bad_missing",
            host(),
            LinkErrorKind::Extern,
            Errno::Inval,
            "extern (func ksym) 'bpf_kfvm_no_such_kfunc': not found in kernel or module BTFs".into(),
        ),
        (
            "bad_ambig_offset",
            kinds_target(),
            LinkErrorKind::Core,
            Errno::Inval,
            "prog 'bad': relo #0: field offset ambiguity: 0 != 64".into(),
        ),
        (
            "bad_ambig_value",
            kinds_target(),
            LinkErrorKind::Core,
            Errno::Inval,
            "prog 'bad': relo #0: relocation decision ambiguity: success 1 != success 4".into(),
        ),
        (
            "bad_kconfig_type",
            host(),
            LinkErrorKind::Extern,
            Errno::Inval,
            "extern (kcfg) 'CONFIG_BPF_SYSCALL': value 'y' implies bool, tristate, or char type".into(),
        ),
        (
            "bad_kconfig_strong",
            host(),
            LinkErrorKind::Extern,
            Errno::Srch,
            "extern 'CONFIG_KFVM_MISSING' (strong): not resolved".into(),
        ),
        (
            "bad_virtual",
            host(),
            LinkErrorKind::Extern,
            Errno::Inval,
            "extern (kcfg) 'LINUX_KFVM_UNKNOWN': unrecognized virtual extern".into(),
        ),
        (
            "bad_var",
            host(),
            LinkErrorKind::Extern,
            Errno::Inval,
            "extern (var ksym) 'bpf_prog_active': not found in kernel BTF".into(),
        ),
    ];
    for (name, target, kind, errno, msg) in cases {
        let e = link(&obj(&format!("{name}.bpf.o")), &target).expect_err(name);
        assert_eq!((e.kind, e.errno, e.message.as_str()), (kind, errno, msg.as_str()), "{name}");
        assert_eq!(e.to_string(), msg);
    }
}

#[test]
fn weak_misses_are_poisoned() {
    let l = link(&obj("weak_proto.bpf.o"), &host()).unwrap();
    let p = l.program("bad").unwrap();
    let o = obj("weak_proto.bpf.o");
    let (ext, _) = o.extern_by_name("bpf_rcu_read_lock").unwrap();
    assert_eq!(l.externs[ext].value, ExternValue::Unresolved);
    let c = p.kfunc_calls.iter().find(|c| c.name == "bpf_rcu_read_lock").unwrap();
    assert_eq!(c.btf_id, None);
    let i = p.insns[c.insn];
    assert_eq!((i.code, i.regs, i.off, i.imm), (0x85, 0, 0, POISON_CALL_KFUNC_BASE + ext as i32));
    // bpf_ksym_exists(): the address load of the unresolved kfunc is 0
    let k = p.ksym_loads.iter().find(|k| k.name == "bpf_rcu_read_lock").unwrap();
    assert_eq!(
        (k.btf_id, p.insns[k.insn].imm, p.insns[k.insn + 1].imm, p.insns[k.insn].src()),
        (None, 0, 0, 0)
    );

    // externs.bpf.o: a missing weak kfunc, a flavored name, typed and typeless weak ksyms
    let l = link(&obj("externs.bpf.o"), &host()).unwrap();
    let by = |n: &str| l.externs.iter().find(|x| x.name == n).unwrap().value.clone();
    assert_eq!(by("bpf_kfvm_no_such_kfunc"), ExternValue::Unresolved);
    let acquire = registry().kfunc("bpf_task_acquire").unwrap().btf_id();
    assert_eq!(by("bpf_task_acquire___v2"), ExternValue::Kfunc { btf_id: acquire, btf_fd_idx: 0 });
    assert_eq!(by("bpf_prog_active"), ExternValue::Unresolved);
    assert_eq!(by("bpf_prog_fops"), ExternValue::Unresolved);
    let ExternValue::Kconfig { bytes, .. } = by("CONFIG_BPF_SYSCALL") else { panic!() };
    assert_eq!(bytes, [1]);
    let ExternValue::Kconfig { bytes, .. } = by("LINUX_KERNEL_VERSION") else { panic!() };
    assert_eq!(bytes, kfvm_link::MODEL_KERNEL_VERSION.to_le_bytes());
    let ExternValue::Kconfig { bytes, .. } = by("CONFIG_HZ") else { panic!() };
    assert_eq!(bytes, [0; 4], "weak and unset: zero");
    // a typeless ksym the target knows the address of
    let l =
        link(&obj("externs.bpf.o"), &host().with_ksym_addr("bpf_prog_fops", 0xffff_ffff_8100_0000)).unwrap();
    let p = l.program("ksyms").unwrap();
    let k = p.ksym_loads.iter().find(|k| k.name == "bpf_prog_fops").unwrap();
    assert_eq!((p.insns[k.insn].imm as u32, p.insns[k.insn + 1].imm as u32), (0x8100_0000, 0xffff_ffff));
}

#[test]
fn kconfig_values() {
    let t = host()
        .with_kconfig(
            "CONFIG_HZ=0x100\nCONFIG_BPF_JIT=m\nCONFIG_HZ_STR=\"a long string\"\nCONFIG_KFVM_CHAR=y\n",
        )
        .with_kernel_version(kfvm_link::kernel_version(5, 15, 300));
    let l = link(&obj("externs.bpf.o"), &t).unwrap();
    let by = |n: &str| match &l.externs.iter().find(|x| x.name == n).unwrap().value {
        ExternValue::Kconfig { bytes, .. } => bytes.clone(),
        v => panic!("{n}: {v:?}"),
    };
    assert_eq!(by("CONFIG_HZ"), 256u32.to_le_bytes());
    assert_eq!(by("CONFIG_BPF_JIT"), 2u32.to_le_bytes(), "TRI_MODULE");
    assert_eq!(by("CONFIG_HZ_STR"), b"a long \0", "truncated to 7 bytes and NUL");
    assert_eq!(by("CONFIG_KFVM_CHAR"), b"y");
    assert_eq!(by("LINUX_KERNEL_VERSION"), ((5u32 << 16) + (15 << 8) + 255).to_le_bytes());
    assert!(l.log.lines.iter().any(|(w, s)| *w && s.contains("truncated to 7 bytes")));
    // the .kconfig map carries the bytes
    let m = l.maps.iter().find(|m| m.source == kfvm_object::MapSource::Kconfig).unwrap();
    assert_eq!(m.data.as_ref().unwrap().len(), m.value_size as usize);

    for (cfg, msg) in [
        ("CONFIG_HZ=12abc\n", "extern (kcfg) 'CONFIG_HZ': value '12abc' isn't a valid integer"),
        ("CONFIG_HZ\n", "failed to parse 'CONFIG_HZ\n': no separator"),
        ("CONFIG_HZ=\n", "failed to parse 'CONFIG_HZ=': no value"),
        ("CONFIG_HZ_STR=\"x\n", "extern (kcfg) 'CONFIG_HZ_STR': invalid string config '\"x'"),
        ("CONFIG_BPF_SYSCALL=2\n", "extern (kcfg) 'CONFIG_BPF_SYSCALL': value '2' implies integer type"),
        ("CONFIG_KFVM_CHAR=300\n", "extern (kcfg) 'CONFIG_KFVM_CHAR': value '300' doesn't fit in 1 bytes"),
        ("CONFIG_HZ=\"s\"\n", "extern (kcfg) 'CONFIG_HZ': value '\"s\"' implies char array type"),
    ] {
        let e = link(&obj("externs.bpf.o"), &Target::from_registry(&registry()).unwrap().with_kconfig(cfg))
            .expect_err(cfg);
        assert_eq!(e.message, msg);
    }
    let e = link(&obj("externs.bpf.o"), &host().with_kernel_version(0)).unwrap_err();
    assert_eq!(e.message, "extern (kcfg) 'LINUX_KERNEL_VERSION': failed to get kernel version");
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn progs() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(format!("{DIR}/tests/progs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    v.sort();
    v
}

/// Every byte offset of the BTF magic (`9f eb 01 00`): the `.BTF` and `.BTF.ext` sections.
fn btf_sections(bytes: &[u8]) -> Vec<usize> {
    bytes.windows(4).enumerate().filter(|(_, w)| *w == [0x9f, 0xeb, 1, 0]).map(|(i, _)| i).collect()
}

#[test]
fn corrupted_objects_never_panic() {
    let targets = [host(), kinds_target()];
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let (mut linked, mut refused, mut unreadable) = (0, 0, 0);
    for path in progs() {
        let orig = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let spots = btf_sections(&orig);
        for _ in 0..150 {
            let mut b = orig.clone();
            for _ in 0..1 + rng.below(4) {
                // mostly inside .BTF/.BTF.ext (CO-RE records, types, strings), sometimes anywhere
                let at = match spots.get(rng.below(spots.len() as u64 + 1) as usize) {
                    Some(&s) => (s + rng.below(2048) as usize).min(b.len() - 1),
                    None => rng.below(b.len() as u64) as usize,
                };
                b[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    2 => b[at] ^ (1 << rng.below(8)),
                    _ => rng.next() as u8,
                };
            }
            let Ok(o) = Object::parse(&b, &name) else {
                unreadable += 1;
                continue;
            };
            for t in &targets {
                match link(&o, t) {
                    Ok(l) => {
                        linked += 1;
                        for p in &l.programs {
                            let _ = l.listing(p);
                        }
                    }
                    Err(e) => {
                        assert!(!e.message.is_empty());
                        refused += 1;
                    }
                }
            }
        }
    }
    eprintln!("corrupted objects: {linked} linked, {refused} refused, {unreadable} unreadable");
    assert!(linked > 100 && refused > 20, "{linked} linked, {refused} refused");
}

#[test]
fn random_records_and_instructions_never_panic() {
    let o = obj("kinds.bpf.o");
    let local = Btf::parse(&o.btf.as_ref().unwrap().to_bytes()).unwrap();
    let host_btf = registry().parsed_btf().unwrap();
    let kinds = Btf::from_vec(std::fs::read(format!("{DIR}/tests/data/kinds_target.btf")).unwrap()).unwrap();
    let kt = local.find_by_name_kind("kt", Kind::Struct).unwrap().id();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let accesses = [
        "0", "0:0", "0:1", "0:7:1", "0:8:2:0", "0:8:9", "0:13:3", "0:10:1", "1:0", "0:99", ":0", "0::1", "",
        "x", "0:-1", "3",
    ];
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let kind = CoreReloKind::from_raw(rng.below(13) as u32).unwrap();
        let type_id = if rng.below(3) == 0 { rng.below(local.type_count() as u64 + 3) as u32 } else { kt };
        let acc = if rng.below(4) == 0 {
            (0..1 + rng.below(5)).map(|_| rng.below(16).to_string()).collect::<Vec<_>>().join(":")
        } else {
            accesses[rng.below(accesses.len() as u64) as usize].to_string()
        };
        let r = CoreReloRec { insn_idx: 0, type_id, access: &acc, kind };
        let target = if rng.below(2) == 0 { &host_btf } else { &kinds };
        let mut log = Log::default();
        let mut cache = CandCache::new();
        match relo_core::resolve_relo("p", &r, 0, &local, &[target], &mut cache, &mut log) {
            Ok(res) => {
                ok += 1;
                let mut insns: Vec<RawInsn> = (0..3)
                    .map(|_| RawInsn {
                        code: rng.next() as u8,
                        regs: rng.next() as u8,
                        off: rng.next() as i16,
                        imm: rng.next() as i32,
                    })
                    .collect();
                if rng.below(2) == 0 {
                    insns[0].code = [0x18, 0x61, 0x79, 0x63, 0x62, 0x07, 0xb7, 0x85][rng.below(8) as usize];
                }
                let at = rng.below(4) as usize;
                let _ = relo_core::patch_insn("p", &mut insns, at, 0, &res.res, &mut log);
            }
            Err(e) => {
                assert!(!e.message.is_empty());
                err += 1;
            }
        }
    }
    assert!(ok > 1000 && err > 1000, "{ok} resolved, {err} refused");
}
