//! `kfvm_runtime::verify::check_options`: what the verifier is told about a linked program, on
//! objects of the C verifier corpus (crates/kfvm/tests/verifier).

use kfvm_kfunc::KfFlags;
use kfvm_runtime::verify::{check_options, Caps, VerifyEnv};
use kfvm_verifier::{BTF_PROG, BTF_VMLINUX};
use std::path::PathBuf;

fn linked(file: &str, registry: &kfvm_kfunc::KfuncRegistry) -> kfvm_link::LinkedObject {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kfvm/tests/verifier").join(file);
    let o = kfvm_object::Object::open(&path).unwrap();
    kfvm_link::link(&o, &kfvm_link::Target::from_registry(registry).unwrap()).unwrap()
}

fn env(registry: &kfvm_kfunc::KfuncRegistry) -> VerifyEnv<'_> {
    VerifyEnv {
        registry,
        nr_cpu_ids: 4,
        caps: Caps::default(),
        log_level: 0,
        deny_deprecated: false,
        hints: false,
    }
}

#[test]
fn maps_carry_their_btf_record() {
    let reg = kfvm_kernel::registry();
    let obj = linked("spin_lock.bpf.o", &reg);
    let o = check_options(&obj, &obj.programs[0], &env(&reg)).unwrap();
    let locks = o.maps.iter().find(|m| m.name == "locks").unwrap();
    assert!(locks.has_btf);
    assert_eq!(locks.record.spin_lock_off, Some(0));
    assert_eq!((locks.key_size, locks.value_size, locks.max_entries), (4, 16, 1));
    assert_eq!(o.nr_cpu_ids, 4);
    assert!(o.prog_btf.as_ref().is_some_and(|b| !b.func_info.is_empty()));
    assert!(o.kernel_btf.is_some());
}

#[test]
fn kptr_fields_point_into_the_kernel_btf_or_the_programs() {
    let reg = kfvm_kernel::registry();
    let obj = linked("kptr_map.bpf.o", &reg);
    let o = check_options(&obj, &obj.programs[0], &env(&reg)).unwrap();
    let kptrs: Vec<_> = o.maps.iter().flat_map(|m| m.record.kptrs.iter()).collect();
    assert!(!kptrs.is_empty());
    let task = reg.type_id("task_struct").unwrap();
    assert!(kptrs.iter().any(|k| k.btf == BTF_VMLINUX && k.btf_id == task && k.referenced), "{kptrs:?}");
    for k in &kptrs {
        let btf = if k.btf == BTF_PROG { obj.btf.as_deref().unwrap() } else { &*obj.target_btf };
        assert_eq!(btf.get(k.btf_id).unwrap().kind(), kfvm_btf::Kind::Struct, "{k:?}");
    }
}

#[test]
fn rodata_is_frozen_with_its_contents() {
    let reg = kfvm_kernel::registry();
    let obj = linked("global_data.bpf.o", &reg);
    let o = check_options(&obj, &obj.programs[0], &env(&reg)).unwrap();
    let ro = o.maps.iter().find(|m| m.name.ends_with(".rodata")).unwrap();
    assert!(ro.frozen);
    assert_eq!(ro.map_flags & kfvm_verifier::env::BPF_F_RDONLY_PROG, kfvm_verifier::env::BPF_F_RDONLY_PROG);
    // const volatile u32 debug_level = 0; const volatile u64 limit = 16;
    assert_eq!(ro.frozen_value.as_deref().map(|v| v[8]), Some(16));
    let data = o.maps.iter().find(|m| m.name.ends_with(".data")).unwrap();
    assert!(!data.frozen && data.frozen_value.is_none());
}

#[test]
fn tracing_programs_get_their_attach_btf_id() {
    let reg = kfvm_kernel::registry();
    let obj = linked("tracing_task.bpf.o", &reg);
    let p = obj.program("newtask_fields").unwrap();
    let o = check_options(&obj, p, &env(&reg)).unwrap();
    assert_eq!(o.attach_btf_id, reg.typedef_id("btf_trace_task_newtask").unwrap());
    let p = obj.program("kprobe_exit").unwrap();
    assert_eq!(check_options(&obj, p, &env(&reg)).unwrap().attach_btf_id, 0);
}

#[test]
fn kfunc_table_says_what_the_program_may_call() {
    let reg = kfvm_kernel::registry();
    let obj = linked("tracing_task.bpf.o", &reg);
    let tracing = check_options(&obj, obj.program("newtask_fields").unwrap(), &env(&reg)).unwrap();
    let kprobe = check_options(&obj, obj.program("kprobe_exit").unwrap(), &env(&reg)).unwrap();
    let id = reg.kfunc("bpf_task_acquire").unwrap().btf_id();
    let t = tracing.kfuncs.get(id).unwrap();
    assert!(t.allowed);
    assert_eq!(t.name, "bpf_task_acquire");
    assert_eq!(KfFlags::from_bits_truncate(t.flags), KfFlags::ACQUIRE | KfFlags::RET_NULL | KfFlags::RCU);
    assert!(!kprobe.kfuncs.get(id).unwrap().allowed, "not callable from kprobes in 6.18");
    assert_eq!(tracing.kfuncs.by_id.len(), reg.kfuncs().filter(|k| k.is_kfunc()).count());
    let dep: Vec<_> = tracing.kfuncs.by_id.values().filter(|k| k.deprecated).collect();
    assert!(!dep.is_empty() && dep.iter().all(|k| k.replacement.is_some()), "{dep:?}");
}

#[test]
fn capabilities_reach_the_options() {
    let reg = kfvm_kernel::registry();
    let obj = linked("maps_btf.bpf.o", &reg);
    let mut e = env(&reg);
    e.caps.set("sys_boot", false).unwrap();
    e.caps.set("CAP_PERFMON", false).unwrap();
    e.deny_deprecated = true;
    let o = check_options(&obj, &obj.programs[0], &e).unwrap();
    assert!(!o.sys_boot && o.deny_deprecated);
    assert!(o.perfmon, "CAP_SYS_ADMIN implies perfmon_capable()");
    e.caps.set("sys_admin", false).unwrap();
    let o = check_options(&obj, &obj.programs[0], &e).unwrap();
    assert!(!o.perfmon && o.bpf_capable);
    assert!(e.caps.set("net_admin", true).unwrap_err().contains("unknown capability `net_admin`"));
}
