//! XDP programs (tests/progs/xdp.bpf.c) on packets: the action and the packet out, in kfvm and,
//! as root, in the kernel (`bpftool prog run`, its BPF_PROG_TEST_RUN).

mod support;

use kfvm_kernel::KernelConfig;
use std::process::Command;

fn ipv4_packet(ttl: u8) -> Vec<u8> {
    let mut p = vec![0u8; 74];
    p[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xbb]); // dest
    p[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]); // source
    p[12..14].copy_from_slice(&[0x08, 0x00]);
    p[14] = 0x45;
    p[22] = ttl;
    p
}

fn arp_packet() -> Vec<u8> {
    let mut p = ipv4_packet(1);
    p[12..14].copy_from_slice(&[0x08, 0x06]);
    p
}

fn cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("xdp_bounce_ipv4", ipv4_packet(64)),
        ("xdp_bounce_ipv4", arp_packet()),
        ("xdp_bounce_ipv4", arp_packet()[..14].to_vec()),
        ("xdp_dynptr_ttl", ipv4_packet(64)),
        ("xdp_dynptr_ttl", ipv4_packet(0)),
        ("xdp_dynptr_ttl", ipv4_packet(7)[..40].to_vec()),
    ]
}

fn kfvm_results() -> Vec<(u64, Vec<u8>)> {
    let (kernel, rt, audit, _) = support::setup("xdp.bpf.o", &support::doc_model(), KernelConfig::small());
    let out = cases()
        .iter()
        .map(|(prog, pkt)| {
            let r = rt.test_run(prog, &[], Some(pkt), 1).unwrap();
            (r.retval, r.data_out.unwrap())
        })
        .collect();
    // 74 + 74 + 14 bytes counted into CPU 0's slot of the per-CPU array.
    let counted = rt.map("counters").unwrap().get(&0u32.to_ne_bytes()).unwrap();
    assert_eq!(u64::from_ne_bytes(counted[..8].try_into().unwrap()), 74 + 74 + 14);
    support::leak_audit(&kernel, rt, &audit);
    out
}

#[test]
fn xdp_programs_in_kfvm() {
    let r = kfvm_results();
    let mut bounced = ipv4_packet(64);
    bounced[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]);
    bounced[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xbb]);
    assert_eq!(r[0], (3, bounced), "XDP_TX with the MACs swapped");
    assert_eq!(r[1], (2, arp_packet()), "XDP_PASS");
    assert_eq!(r[2], (2, arp_packet()[..14].to_vec()), "XDP_PASS: just an Ethernet header");
    assert_eq!(r[3], (2, ipv4_packet(63)), "the TTL decremented through the dynptr");
    assert_eq!(r[4], (2, ipv4_packet(0)));
    assert_eq!(r[5].0, 1, "40 bytes: XDP_DROP");
}

#[test]
fn xdp_programs_agree_with_the_kernel() {
    if let Err(why) = kfvm_oracle::available() {
        eprintln!("skipped: {why}");
        return;
    }
    if Command::new("bpftool").arg("version").output().is_err() {
        eprintln!("skipped: no bpftool");
        return;
    }
    let pin = format!("/sys/fs/bpf/kfvm_xdp_test_{}", std::process::id());
    let obj = support::progs().join("xdp.bpf.o");
    let st = Command::new("bpftool").args(["prog", "loadall"]).arg(&obj).arg(&pin).status().unwrap();
    if !st.success() {
        eprintln!("skipped: bpftool prog loadall failed (no bpffs at /sys/fs/bpf?)");
        return;
    }
    let ours = kfvm_results();
    let dir = std::env::temp_dir().join(format!("kfvm_xdp_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bad = Vec::new();
    for (i, (prog, pkt)) in cases().iter().enumerate() {
        let (inp, outp) = (dir.join(format!("in{i}")), dir.join(format!("out{i}")));
        std::fs::write(&inp, pkt).unwrap();
        let o = Command::new("bpftool")
            .args(["prog", "run", "pinned"])
            .arg(format!("{pin}/{prog}"))
            .arg("data_in")
            .arg(&inp)
            .arg("data_out")
            .arg(&outp)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        let retval: u64 = text
            .split("Return value: ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("{prog}: no return value in {text:?}"));
        let out = std::fs::read(&outp).unwrap_or_default();
        if (retval, &out) != (ours[i].0, &ours[i].1) {
            bad.push(format!(
                "{prog} case {i}: kernel {retval} {out:02x?}, kfvm {} {:02x?}",
                ours[i].0, ours[i].1
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&pin);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(bad.is_empty(), "{bad:#?}");
}
