//! `bpf_trace_printk` formats, through a program: what the kernel prints and what it refuses.

use kfvm_isa::RawInsn;
use kfvm_runtime::printk;
use kfvm_vm::{CallCtx, HostFns, Interpreter, Program, Region};
use std::sync::Mutex;

static OUT: Mutex<Vec<Result<String, i64>>> = Mutex::new(Vec::new());

extern "C" fn fmt3(ctx: &mut CallCtx, fmt: u64, size: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    let r = printk::format(ctx, fmt, size, &[a1, a2, a3], printk::MAX_TRACE_PRINTK_VARARGS);
    OUT.lock().unwrap().push(r);
    0
}

/// `bpf_trace_printk(fmt, sizeof(fmt), args...)` in a run that may read `mem`.
fn format(fmt: &str, args: [u64; 3], mem: &[&[u8]]) -> Result<String, i64> {
    let mut h = HostFns::new();
    h.helper(6, fmt3);
    let p = Program::load(&[RawInsn::new(0x85, 0, 0, 0, 6), RawInsn::new(0x95, 0, 0, 0, 0)], &h).unwrap();
    let f = fmt.as_bytes();
    let mut regions = vec![Region::readonly(f)];
    regions.extend(mem.iter().map(|m| Region::readonly(m)));
    let _ = Interpreter::new().run(
        &p,
        &[f.as_ptr() as u64, f.len() as u64, args[0], args[1], args[2]],
        &regions,
        std::ptr::null_mut(),
    );
    OUT.lock().unwrap().pop().unwrap()
}

#[test]
fn formats() {
    let s = b"nginx\0";
    let sp = s.as_ptr() as u64;
    let ip = [10u8, 0, 0, 1];
    let ipp = ip.as_ptr() as u64;
    let cases: &[(&str, [u64; 3], Result<&str, i64>)] = &[
        ("plain\0", [0; 3], Ok("plain")),
        ("%d %u %x\0", [(-5i64) as u64, 0xffff_ffff_ffff_fffe, 255], Ok("-5 4294967294 ff")),
        ("%ld %llu %lx\0", [(-5i64) as u64, u64::MAX, 1 << 40], Ok("-5 18446744073709551615 10000000000")),
        ("%5d|%-4d|%05d\0", [42, 7, 3], Ok("   42|7   |00003")),
        ("%s!\0", [sp, 0, 0], Ok("nginx!")),
        ("%c%c 100%%\0", [b'o' as u64, b'k' as u64, 0], Ok("ok 100%")),
        ("%pI4\0", [ipp, 0, 0], Ok("10.0.0.1")),
        ("%s\0", [0x10, 0, 0], Ok("(efault)")),
        ("%d %d %d %d\0", [1, 2, 3], Err(-22)),
        ("%q\0", [1, 0, 0], Err(-22)),
        ("no terminator", [0; 3], Err(-22)),
        ("bell\x07\0", [0; 3], Err(-22)),
    ];
    for (fmt, args, want) in cases {
        let got = format(fmt, *args, &[s, &ip]);
        assert_eq!(got.as_deref().map_err(|e| *e), *want, "{fmt:?}");
    }
}
