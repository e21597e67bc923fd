//! `__retval` annotations (tests/progs/retval.bpf.c): every annotated program returns its value
//! under kfvm's test run, and, where the kernel can be asked (root, bpf() allowed), under the
//! kernel's `BPF_PROG_TEST_RUN` too. A leak audit follows every program.

mod support;

use kfvm_kernel::KernelConfig;

fn annotated() -> Vec<(String, u64)> {
    let registry = kfvm_kernel::registry();
    let l = support::linked("retval.bpf.o", &registry);
    l.programs
        .iter()
        .filter_map(|p| {
            let v = p.comments.iter().find(|c| c.key == "test_retval")?;
            let s = v.value.trim();
            let n = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).ok()?,
                None => s.parse::<i64>().ok()? as u64,
            };
            Some((p.name.clone(), n as u32 as u64))
        })
        .collect()
}

#[test]
fn retval_annotations_hold_in_kfvm() {
    let progs = annotated();
    assert!(progs.len() >= 9, "{progs:?}");
    for (name, want) in progs {
        let (kernel, rt, audit, _) =
            support::setup("retval.bpf.o", &support::doc_model(), KernelConfig::small());
        let r = rt.test_run(&name, &[], None, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.retval as u32 as u64, want, "{name}");
        support::leak_audit(&kernel, rt, &audit);
    }
}

#[test]
fn retval_annotations_hold_in_the_kernel() {
    if let Err(why) = kfvm_oracle::available() {
        eprintln!("skipped: {why}");
        return;
    }
    let target = match kfvm_link::Target::running_kernel() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("skipped: no kernel BTF: {e}");
            return;
        }
    };
    let o = kfvm_object::Object::open(support::progs().join("retval.bpf.o")).unwrap();
    let l = kfvm_link::link(&o, &target).unwrap();
    let mut bad = Vec::new();
    for (name, want) in annotated() {
        let p = l.program(&name).unwrap();
        let loaded = kfvm_oracle::load_with(
            &p.insns,
            &kfvm_oracle::LoadOpts {
                prog_type: p.prog_type.as_u32(),
                flags: 1 << 4,
                log_level: 1,
                ..Default::default()
            },
        );
        let Some(fd) = loaded.fd else {
            // The oracle loads raw instructions: programs that need their BTF (callbacks need
            // func_info, bpf_obj_new its types) cannot be loaded this way.
            if loaded.log.contains("missing btf func_info") || loaded.log.contains("requires prog BTF") {
                eprintln!("{name}: skipped in the kernel: it needs its BTF, which the oracle does not pass");
                continue;
            }
            panic!("{name}: the kernel refused it: {}", loaded.log);
        };
        // The programs that look up a task take its pid from the context: this process's.
        let me = (std::process::id() as i32).to_ne_bytes();
        let (retval, _) = kfvm_oracle::test_run_syscall(&fd, &me).unwrap();
        if retval as u64 != want {
            bad.push(format!("{name}: {} (want {})", retval as i32, want as i32));
        }
    }
    assert!(bad.is_empty(), "the kernel disagrees: {bad:?}");
}

#[test]
fn retval_annotations_hold_on_a_snapshot_of_this_machine() {
    // The same context the kernel gets (this process's pid), against a snapshot of this machine.
    let spec = kfvm_kernel::ModelSpec::snapshot();
    let kernel = kfvm_kernel::Kernel::from_spec(&spec, KernelConfig::default()).unwrap();
    let audit = kernel.audit();
    let registry = kfvm_kernel::registry();
    let rt = kfvm_runtime::Runtime::load(
        &kernel,
        &registry,
        &support::linked("retval.bpf.o", &registry),
        &Default::default(),
    )
    .unwrap();
    let me = (std::process::id() as i32).to_ne_bytes();
    for (name, want) in annotated() {
        let r = rt.test_run(&name, &[], Some(&me), 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.retval as u32 as u64, want, "{name}");
    }
    support::leak_audit(&kernel, rt, &audit);
}

#[test]
fn dynptr_over_memory_in_kfvm() {
    let opts = kfvm_runtime::LoadOptions { no_verify: true, only: None };
    let (kernel, rt, audit, _) =
        support::setup_with("unverified.bpf.o", &support::doc_model(), KernelConfig::small(), &opts);
    assert_eq!(rt.test_run("dynptr_mem", &[], None, 1).unwrap().retval, 0x1234);
    support::leak_audit(&kernel, rt, &audit);
}
