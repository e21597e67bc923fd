//! Every kind of hook (tests/progs/hooks.bpf.c on tests/progs/hooks.toml): raw tracepoints,
//! kprobes, fentry, events naming a hook, a ring buffer read by the host, global data.

mod support;

use kfvm_kernel::KernelConfig;

#[test]
fn hooks_fire_with_their_arguments() {
    // The kernel accepts every program here, and so does kfvm's verifier.
    let opts = kfvm_runtime::LoadOptions { no_verify: false, only: None };
    let (kernel, rt, audit, spec) =
        support::setup_with("hooks.bpf.o", "hooks.toml", KernelConfig::small(), &opts);
    let mut errors = Vec::new();
    rt.replay(&spec, |e| errors.push(e.to_string())).unwrap();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(
        rt.take_trace(),
        [
            "raw_tp task_newtask: pid 1, clone_flags 11",
            "kprobe wake_up_new_task: init, by 0",
            "raw_tp task_newtask: pid 7, clone_flags 11",
            "kprobe wake_up_new_task: shell, by 1",
            "raw_tp task_newtask: pid 8, clone_flags 11",
            "kprobe wake_up_new_task: ls, by 7",
            "my_event(4, 100): 118",
            "fentry do_exit(0) in ls on CPU 0",
        ]
    );
    let rb = rt.map("events").unwrap().ringbuf().unwrap();
    let mut recs = Vec::new();
    rb.consume(|r| recs.push(r.to_vec()));
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(i32::from_ne_bytes(r[0..4].try_into().unwrap()), 7);
    assert_eq!(i32::from_ne_bytes(r[4..8].try_into().unwrap()), 8);
    assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 1, "on CPU 1");
    assert_eq!(&r[12..15], b"ls\0");
    // Global data, readable from the host: forks = 3, custom_sum = 118.
    let bss = rt.map(".bss").unwrap().get(&0u32.to_ne_bytes()).unwrap();
    assert_eq!(u64::from_ne_bytes(bss[0..8].try_into().unwrap()), 3);
    assert_eq!(u64::from_ne_bytes(bss[8..16].try_into().unwrap()), 118);
    support::leak_audit(&kernel, rt, &audit);
}
