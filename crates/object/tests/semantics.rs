//! What the loader reads out of the corpus beyond what the other tools print: special fields of
//! map values, externs, initial map slots, CO-RE records through subprogram appending, the
//! section table, errors.

use std::path::Path;

use kfvm_btf::Kind;

use kfvm_object::section::{find_sec_def, SECTION_DEFS};
use kfvm_object::{
    AttachType, ExternKind, FieldKind, InitSlot, KconfigType, KptrKind, MapSource, Object, ProgType,
    RelocKind,
};

fn open(name: &str) -> Object {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/progs/{name}.bpf.o"));
    Object::open(p).unwrap()
}

#[test]
fn kptr_and_graph_fields() {
    let obj = open("kptr");
    let (_, m) = obj.map("tasks").unwrap();
    let fields = m.fields.as_ref().unwrap();
    let kinds: Vec<(u32, &FieldKind)> = fields.iter().map(|f| (f.offset, &f.kind)).collect();
    let btf = obj.btf.as_ref().unwrap();
    let task = btf.find_by_name_kind("task_struct", Kind::Struct).unwrap().id();
    let node = btf.find_by_name_kind("node_data", Kind::Struct).unwrap().id();
    assert_eq!(kinds[0], (8, &FieldKind::Kptr { kind: KptrKind::Ref, type_id: task }));
    assert_eq!(kinds[1], (16, &FieldKind::Kptr { kind: KptrKind::Unref, type_id: task }));
    assert_eq!(kinds[2], (24, &FieldKind::SpinLock));
    assert_eq!(kinds[3], (32, &FieldKind::Timer));
    assert_eq!(kinds[4], (48, &FieldKind::ListHead { value_type_id: node, node_name: "node".into() }));
    assert_eq!(kinds[5], (64, &FieldKind::RbRoot { value_type_id: node, node_name: "rb".into() }));
    // an array of two kptrs is flattened
    assert_eq!(kinds[6], (80, &FieldKind::Kptr { kind: KptrKind::Ref, type_id: node }));
    assert_eq!(kinds[7], (88, &FieldKind::Kptr { kind: KptrKind::Ref, type_id: node }));
    assert_eq!(fields.len(), 8);
    // the pre-6.3 kptr_ref tag: Linux 6.18 refuses the value type
    let (_, legacy) = obj.map("legacy").unwrap();
    let err = legacy.fields.as_ref().unwrap_err();
    assert_eq!(err.errno, 22);
    assert!(err.message.contains("kptr_ref"), "{err:?}");
    // a value that *is* a struct bpf_spin_lock has no lock field: the kernel looks at members
    let obj = open("net");
    let (_, locks) = obj.map("locks").unwrap();
    assert!(locks.fields.as_ref().unwrap().is_empty());
    assert!(obj.map("by_addr").unwrap().1.fields.as_ref().unwrap().is_empty());
}

#[test]
fn externs_sorted_and_unresolved() {
    let obj = open("kptr");
    let names: Vec<(&str, bool, bool)> = obj
        .externs
        .iter()
        .map(|x| (x.name.as_str(), x.weak, matches!(x.kind, ExternKind::Ksym { func: true, .. })))
        .collect();
    assert_eq!(
        names,
        [
            ("bpf_kfvm_does_not_exist", true, true),
            ("bpf_rcu_read_lock", false, true),
            ("bpf_rcu_read_unlock", false, true),
            ("bpf_task_acquire", false, true),
            ("bpf_task_from_pid", true, true),
            ("bpf_task_release", false, true),
        ]
    );
    let obj = open("globals");
    let kc: Vec<(&str, KconfigType, u32, u32)> = obj
        .externs
        .iter()
        .filter_map(|x| match x.kind {
            ExternKind::Kconfig { ty, size, data_off, .. } => Some((x.name.as_str(), ty, size, data_off)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kc,
        [
            ("CONFIG_BPF_JIT", KconfigType::Tristate, 4, 0),
            ("LINUX_KERNEL_VERSION", KconfigType::Int, 4, 4),
            ("CONFIG_BPF_SYSCALL", KconfigType::Bool, 1, 8),
            ("CONFIG_HZ_STR", KconfigType::CharArray, 8, 9),
        ]
    );
    let (_, active) = obj.extern_by_name("bpf_prog_active").unwrap();
    assert!(matches!(active.kind, ExternKind::Ksym { func: false, type_id } if type_id != 0));
    let (_, fops) = obj.extern_by_name("bpf_prog_fops").unwrap();
    assert!(matches!(fops.kind, ExternKind::Ksym { func: false, type_id: 0 }) && fops.weak);
    let (_, kconfig) = obj.map(".kconfig").unwrap();
    assert_eq!((kconfig.source, kconfig.value_size), (MapSource::Kconfig, 17));
    assert_eq!(obj.kern_version, 0x060c00);
    assert_eq!(obj.license, "GPL");
}

#[test]
fn init_slots() {
    let obj = open("net");
    let (_, outer) = obj.map("outer").unwrap();
    let a = obj.map("inner_a").unwrap().0;
    let b = obj.map("inner_b").unwrap().0;
    assert_eq!(outer.init_slots, [Some(InitSlot::Map(a)), None, Some(InitSlot::Map(b))]);
    let inner = outer.inner.as_ref().unwrap();
    assert_eq!((inner.name.as_str(), inner.map_type, inner.max_entries), ("outer.inner", 2, 4));
    let (_, jump) = obj.map("jump").unwrap();
    let tail = obj.programs.iter().position(|p| p.name == "tail_a").unwrap();
    assert_eq!(jump.init_slots, [None, Some(InitSlot::Program(tail))]);
}

#[test]
fn core_relocations_follow_appended_subprograms() {
    let obj = open("core");
    let exec = obj.program("on_exec").unwrap();
    let fork = obj.program("on_fork").unwrap();
    let core_at = |p: &kfvm_object::Program| -> Vec<(usize, String)> {
        p.relocations
            .iter()
            .filter_map(|r| match &r.kind {
                RelocKind::Core(c) => Some((r.insn, format!("{}:{}", c.kind.as_str(), c.access))),
                _ => None,
            })
            .collect()
    };
    let parent_tgid = obj.functions.iter().position(|f| f.name == "parent_tgid").unwrap();
    let at_exec = exec.subprogs.iter().find(|s| s.function == parent_tgid).unwrap().insn_off;
    let at_fork = fork.subprogs.iter().find(|s| s.function == parent_tgid).unwrap().insn_off;
    assert_ne!(at_exec, at_fork, "the subprogram lands at different offsets");
    let rel = |v: Vec<(usize, String)>, base: usize, len: usize| -> Vec<(usize, String)> {
        v.into_iter().filter(|(i, _)| *i >= base && *i < base + len).map(|(i, s)| (i - base, s)).collect()
    };
    let len = obj.functions[parent_tgid].insns.len();
    let in_exec = rel(core_at(exec), at_exec, len);
    assert!(!in_exec.is_empty());
    assert_eq!(in_exec, rel(core_at(fork), at_fork, len), "same CO-RE records, shifted");
    // the entry program's own records: field exists, type exists, type size, enum value
    let kinds: Vec<String> =
        core_at(exec).into_iter().filter(|(i, _)| *i < at_exec).map(|(_, s)| s).collect();
    for k in ["field_exists", "type_exists", "type_size", "enumval_value", "byte_off"] {
        assert!(kinds.iter().any(|s| s.starts_with(k)), "{k} missing from {kinds:?}");
    }
}

#[test]
fn section_table() {
    let cases: &[(&str, ProgType, Option<AttachType>, bool)] = &[
        ("tp_btf/sched_switch", ProgType::Tracing, Some(AttachType::TraceRawTp), false),
        ("fentry/do_unlinkat", ProgType::Tracing, Some(AttachType::TraceFentry), false),
        ("fentry.s/do_unlinkat", ProgType::Tracing, Some(AttachType::TraceFentry), true),
        ("fexit/x", ProgType::Tracing, Some(AttachType::TraceFexit), false),
        ("fmod_ret/x", ProgType::Tracing, Some(AttachType::ModifyReturn), false),
        ("lsm/file_open", ProgType::Lsm, Some(AttachType::LsmMac), false),
        ("lsm.s/file_open", ProgType::Lsm, Some(AttachType::LsmMac), true),
        ("raw_tp/sys_enter", ProgType::RawTracepoint, None, false),
        ("tp/syscalls/sys_enter_openat", ProgType::Tracepoint, None, false),
        ("kprobe/do_sys_open", ProgType::Kprobe, None, false),
        ("kretprobe/do_sys_open", ProgType::Kprobe, None, false),
        ("uprobe/bin:func", ProgType::Kprobe, None, false),
        ("xdp", ProgType::Xdp, Some(AttachType::Xdp), false),
        ("tc", ProgType::SchedCls, None, false),
        ("tcx/ingress", ProgType::SchedCls, Some(AttachType::TcxIngress), false),
        ("tcx/egress", ProgType::SchedCls, Some(AttachType::TcxEgress), false),
        ("classifier", ProgType::SchedCls, None, false),
        ("syscall", ProgType::Syscall, None, true),
        ("struct_ops/x", ProgType::StructOps, None, false),
        ("iter/task", ProgType::Tracing, Some(AttachType::TraceIter), false),
        ("iter.s/task", ProgType::Tracing, Some(AttachType::TraceIter), true),
        ("cgroup/connect4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Connect), false),
        ("cgroup_skb/egress", ProgType::CgroupSkb, Some(AttachType::CgroupInetEgress), false),
        ("socket", ProgType::SocketFilter, None, false),
        ("sk_skb/stream_parser", ProgType::SkSkb, Some(AttachType::SkSkbStreamParser), false),
        ("perf_event", ProgType::PerfEvent, None, false),
    ];
    for (sec, ty, at, sl) in cases {
        let d = find_sec_def(sec).unwrap_or_else(|| panic!("{sec}"));
        assert_eq!((d.prog_type, d.expected_attach_type, d.sleepable()), (*ty, *at, *sl), "{sec}");
    }
    // "type+" needs an exact name or a '/': no "kprobes" or "xdpfoo"
    assert!(find_sec_def("kprobex/foo").is_none());
    assert!(find_sec_def("xdp_foo").is_none());
    assert!(find_sec_def("tp_btf").is_some());
    // the kernel numbers
    assert_eq!(ProgType::Syscall.as_u32(), 31);
    assert_eq!(AttachType::TraceUprobeSession.as_u32(), 57);
    assert_eq!(AttachType::from_u32(46), Some(AttachType::TcxIngress));
    assert!(SECTION_DEFS.len() > 100);
    // attach targets of the corpus
    let obj = open("tracing");
    let t =
        |n: &str| obj.program(n).unwrap().attach_target.as_ref().map(|t| (t.btf_name.clone(), t.btf_typedef));
    assert_eq!(t("on_switch"), Some(("btf_trace_sched_switch".into(), true)));
    assert_eq!(t("lsm_open"), Some(("bpf_lsm_file_open".into(), false)));
    assert_eq!(t("dump_task"), Some(("bpf_iter_task".into(), false)));
    assert_eq!(t("enter_unlinkat"), Some(("do_unlinkat".into(), false)));
    assert_eq!(t("kp_openat"), None);
    let g = open("globals");
    assert!(!g.program("not_autoloaded").unwrap().autoload);
    assert_eq!(g.program("not_autoloaded").unwrap().section, "raw_tp/sys_exit");
}

#[test]
fn objdump_interleaves_source_lines() {
    let obj = open("globals");
    let text = kfvm_object::objdump::objdump(&obj, Some("run_syscall")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("prog 'run_syscall': section 'syscall', type syscall"), "{}", lines[0]);
    assert_eq!(lines[1], "; int run_syscall(struct args *a) @ globals.bpf.c:48");
    assert_eq!(lines[2], "0: (bf) r6 = r1");
    assert!(text.contains("map[globals.bss][0]+0"), "{text}");
    assert!(text.contains("\nadd_global:\n"), "{text}");
    assert!(text.contains("call bpf_loop#181"), "{text}");
    let obj = open("kptr");
    let text = kfvm_object::objdump::objdump(&obj, None).unwrap();
    assert!(text.contains("call bpf_task_acquire#"), "{text}");
    assert!(kfvm_object::objdump::objdump(&obj, Some("nope")).is_err());
}

#[test]
fn btf_fixups_happen_in_place() {
    for name in ["globals", "kptr", "net", "core", "tracing", "annotated"] {
        let obj = open(name);
        let btf = obj.btf.as_ref().unwrap();
        assert_eq!(kfvm_btf::Btf::parse(&btf.to_bytes()).unwrap().raw_data(), btf.raw_data(), "{name}");
        // every DATASEC sorted by offset; sized from the ELF, but for libbpf's own sections
        for t in btf.types().filter(|t| t.kind() == Kind::Datasec) {
            let offs: Vec<u32> = t.datasec_vars().map(|v| v.offset).collect();
            assert!(offs.windows(2).all(|w| w[0] <= w[1]), "{name}: {} {offs:?}", t.name());
            assert!(matches!(t.name(), ".kconfig" | ".ksyms") || t.size() > Some(0), "{name}: {}", t.name());
        }
        // line info strings (offsets into .BTF's strings) still name files
        let ext = obj.btf_ext.as_ref().unwrap();
        assert!(ext.line_info.iter().flat_map(|s| &s.records).all(|l| l.file_name(btf).ends_with(".c")));
    }
    // .maps offsets were filled in from the symbol table
    let obj = open("net");
    let btf = obj.btf.as_ref().unwrap();
    let maps = btf.find_by_name_kind(".maps", Kind::Datasec).unwrap();
    let offs: Vec<u32> = maps.datasec_vars().map(|v| v.offset).collect();
    assert!(offs.windows(2).all(|w| w[0] < w[1]) && offs[0] == 0 && offs.len() == 9, "{offs:?}");
}
