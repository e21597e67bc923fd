//! Programs compiled against this machine's real `vmlinux.h` (kfvm-kernel's
//! `tests/progs/core_kfuncs.bpf.c`, accepted by the live 6.18 kernel) link against the built-in
//! kernel model: every `__ksym` resolves, with the registry's kfunc ids in the calls, every CO-RE
//! relocation finds its target in the model's smaller types (none poisoned), and every kfunc is
//! one the program's type may call.

use kfvm_kernel::registry;
use kfvm_link::{link, ExternValue, Target};
use kfvm_object::Object;

const CORE_KFUNCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../kernel/tests/progs/core_kfuncs.bpf.o");

#[test]
fn vmlinux_h_programs_link_against_the_model() {
    let reg = registry();
    let target = Target::from_registry(&reg).unwrap();
    let obj = Object::open(CORE_KFUNCS).unwrap();
    let linked = link(&obj, &target).unwrap();

    assert_eq!(linked.externs.len(), 22);
    for x in &linked.externs {
        let ExternValue::Kfunc { btf_id, btf_fd_idx: 0 } = x.value else {
            panic!("{} not resolved to a kfunc: {:?}", x.name, x.value)
        };
        let k = reg.kfunc(&x.name).unwrap();
        assert_eq!(btf_id, k.btf_id(), "{}", x.name);
        assert!(k.is_kfunc());
    }

    let mut calls = 0;
    let mut relos = 0;
    for p in &linked.programs {
        let info = p.prog_info();
        for c in &p.kfunc_calls {
            let k = reg.kfunc(&c.name).unwrap();
            assert_eq!(c.btf_id, Some(k.btf_id()));
            let insn = p.insns[c.insn];
            assert_eq!((insn.code, insn.src(), insn.imm, insn.off), (0x85, 2, k.btf_id() as i32, 0));
            assert!(reg.entry(k.btf_id()).is_some());
            assert!(
                reg.is_allowed(&c.name, &info),
                "{}: {} not allowed for {}",
                p.name,
                c.name,
                info.prog_type
            );
            calls += 1;
        }
        for r in &p.core_relos {
            assert!(!r.poisoned, "{}: insn {}: {} poisoned against the model", p.name, r.insn, r.local);
            assert!(r.target.is_some(), "{}: {} found no target", p.name, r.local);
            relos += 1;
        }
        assert!(kfvm_isa::decode_program(&p.insns).is_ok(), "{}: linked code does not decode", p.name);
    }
    assert!(calls >= 22, "{calls} kfunc calls");
    assert!(relos >= 25, "{relos} CO-RE relocations");

    // the fields the programs read, by their model names
    let mut paths: Vec<&str> = linked
        .programs
        .iter()
        .flat_map(|p| p.core_relos.iter())
        .filter_map(|r| r.target.as_deref())
        .collect();
    paths.sort();
    paths.dedup();
    for want in [
        "struct task_struct.pid",
        "struct task_struct.real_parent",
        "struct css_set.dfl_cgrp",
        "struct cgroup.kn",
        "struct kernfs_node.id",
        "struct cred.euid.val",
        "struct task_struct.cpus_ptr",
    ] {
        assert!(paths.iter().any(|p| p.contains(want)), "no relocation to {want}: {paths:#?}");
    }
}

#[test]
fn linked_listing_names_kfuncs_and_maps() {
    let reg = registry();
    let target = Target::from_registry(&reg).unwrap();
    let obj = Object::open(CORE_KFUNCS).unwrap();
    let linked = link(&obj, &target).unwrap();
    let text = linked.dump(None).unwrap();
    let acquire = reg.kfunc("bpf_task_acquire").unwrap().btf_id();
    assert!(text.contains(&format!("call bpf_task_acquire#{acquire}")), "{text}");
    assert!(text.contains("map[core_kfu.bss][0]+"), "{text}");
    assert!(text.contains("; CO-RE <byte_off> ["), "{text}");
    assert!(linked.dump(Some("nope")).is_err());
}

/// The essential-name index finds exactly the candidates libbpf's scan finds, in the same order.
#[test]
fn indexed_candidate_search_equals_the_scan() {
    use kfvm_link::relo_core::{find_cands, find_cands_indexed, CandIndex};
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut targets = vec![
        std::sync::Arc::new(registry().parsed_btf().unwrap()),
        std::sync::Arc::new(
            kfvm_btf::Btf::from_vec(std::fs::read(format!("{dir}/tests/data/kinds_target.btf")).unwrap())
                .unwrap(),
        ),
    ];
    if let Ok(t) = Target::running_kernel() {
        targets.push(t.btf().clone());
    }
    let mut compared = 0;
    for obj in [CORE_KFUNCS, &format!("{dir}/tests/progs/kinds.bpf.o")] {
        let obj = Object::open(obj).unwrap();
        let local = obj.parsed_btf().unwrap().unwrap();
        // the roots of the object's CO-RE records, and every named local type for small targets
        let mut roots: Vec<u32> = obj
            .programs
            .iter()
            .flat_map(|p| p.relocations.iter())
            .filter_map(|r| match &r.kind {
                kfvm_object::RelocKind::Core(c) => Some(c.type_id),
                _ => None,
            })
            .collect();
        roots.sort();
        roots.dedup();
        for t in &targets {
            let ix = CandIndex::new(t);
            let ids: Vec<u32> =
                if t.type_count() < 10_000 { (1..local.type_count()).collect() } else { roots.clone() };
            for id in ids {
                let scan = find_cands(&local, id, &[t]);
                assert_eq!(scan, find_cands_indexed(&local, id, &[t], &ix), "local type {id}");
                compared += scan.map_or(0, |c| c.len());
            }
        }
    }
    assert!(compared > 50, "{compared}");
}
