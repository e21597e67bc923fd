//! What a runtime builds on: memory the host resolves during a run ([`DynamicMemory`]), loads
//! that read 0 where the kernel's `BPF_PROBE_MEM` loads would fault, and callbacks a host
//! function runs ([`CallCtx::call_bpf`], as `bpf_loop` does).

use kfvm_isa::asm::assemble_raw;
use kfvm_isa::disasm::NoSymbols;
use kfvm_vm::{CallCtx, DynamicMemory, HostFns, Interpreter, Program, Region, RunMemory, VmError};

/// `bpf_loop(nr, callback_fn, ctx, flags)`: calls the callback with (i, ctx) until it returns
/// non-zero; the number of iterations.
extern "C" fn bpf_loop(ctx: &mut CallCtx, nr: u64, func: u64, cb_ctx: u64, _: u64, _: u64) -> u64 {
    for i in 0..nr {
        match ctx.call_bpf(func, [i, cb_ctx, 0, 0, 0]) {
            Ok(0) => {}
            Ok(_) => return i + 1,
            Err(_) => return 0,
        }
    }
    nr
}

fn load(src: &str) -> Program {
    let mut h = HostFns::new();
    h.helper(181, bpf_loop);
    Program::load(&assemble_raw(src, &NoSymbols).unwrap(), &h).unwrap()
}

const LOOP: &str = "
    *(u64 *)(r10 -8) = 0
    r1 = 10
    r2 = subprog[+8]
    r3 = r10
    r3 += -8
    r4 = 0
    call 181
    r1 = *(u64 *)(r10 -8)
    r0 += r1
    exit
    r3 = *(u64 *)(r2 +0)
    r3 += r1
    *(u64 *)(r2 +0) = r3
    *(u64 *)(r10 -8) = r3
    r0 = 0
    if r1 != 3 goto pc+1
    r0 = 1
    exit
";

#[test]
fn callbacks_run_in_a_frame_below_the_caller() {
    let p = load(LOOP);
    // 0+1+2+3 = 6 summed into the caller's slot, 4 iterations (the 4th returned 1).
    assert_eq!(Interpreter::new().run(&p, &[], &[], std::ptr::null_mut()), Ok(10));
    // SAFETY: the program only touches its own stack (checked run above).
    assert_eq!(unsafe { Interpreter::new().run_verified(&p, &[], &[], std::ptr::null_mut()) }, Ok(10));
}

#[test]
fn callbacks_count_against_the_budget() {
    let p = load(&LOOP.replace("r1 = 10\n", "r1 = 1000000\n").replace("if r1 != 3", "if r1 != -1"));
    let mut vm = Interpreter::new();
    vm.set_budget(5000);
    let e = vm.run(&p, &[], &[], std::ptr::null_mut()).unwrap_err();
    assert!(matches!(e, VmError::BudgetExhausted { budget: 5000, .. }), "{e}");
}

#[test]
fn a_callback_address_must_be_one() {
    let p = load("r1 = 1\nr2 = 0xffffffffa0000000 ll\nr3 = 0\nr4 = 0\ncall 181\nexit");
    let e = Interpreter::new().run(&p, &[], &[], std::ptr::null_mut()).unwrap_err();
    assert!(matches!(e, VmError::BadCallback { addr: 0xffff_ffff_a000_0000 }), "{e}");
}

#[test]
fn nested_callbacks_respect_the_frame_limit() {
    // The callback calls bpf_loop with itself: 8 frames at most.
    let p = load(
        "r1 = 1\nr2 = subprog[+5]\nr3 = 0\nr4 = 0\ncall 181\nexit\n\
         r1 = 1\nr2 = subprog[-2]\nr3 = 0\nr4 = 0\ncall 181\nr0 = 0\nexit",
    );
    let e = Interpreter::new().run(&p, &[], &[], std::ptr::null_mut()).unwrap_err();
    assert!(matches!(e, VmError::CallDepth { max: 8, .. }), "{e}");
}

/// Objects handed out as the run goes: a list of live ranges.
struct Objects(Vec<(u64, u64)>);

impl DynamicMemory for Objects {
    fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        !write && self.0.iter().any(|&(s, l)| addr >= s && addr - s < l && len <= l - (addr - s))
    }
}

#[test]
fn dynamic_memory_and_probe_loads() {
    let obj = [0x11u8; 16];
    let objs = Objects(vec![(obj.as_ptr() as u64, 16)]);
    let p = load("r0 = *(u64 *)(r1 +8)\nr2 = *(u64 *)(r2 +0)\nr0 += r2\nexit");
    let args = [obj.as_ptr() as u64, 64];
    let mut vm = Interpreter::new();
    let mem = RunMemory { regions: &[], dynamic: Some(&objs), probe_loads: false };
    let e = vm.run_in(&p, &args, &mem, std::ptr::null_mut()).unwrap_err();
    assert!(matches!(e, VmError::OutOfBounds { pc: 1, addr: 64, .. }), "{e}");
    let mem = RunMemory { probe_loads: true, ..mem };
    assert_eq!(vm.run_in(&p, &args, &mem, std::ptr::null_mut()), Ok(0x1111_1111_1111_1111));
    // Stores still fault, and dynamic memory says what is writable.
    let p = load("*(u64 *)(r1 +0) = 1\nr0 = 0\nexit");
    let e = vm.run_in(&p, &args, &mem, std::ptr::null_mut()).unwrap_err();
    assert!(matches!(e, VmError::OutOfBounds { kind: "write", .. }), "{e}");
    // Host functions see the same memory.
    let region = [Region::readonly(&obj[..4])];
    let mem = RunMemory { regions: &region, dynamic: Some(&objs), probe_loads: true };
    let mut h = HostFns::new();
    extern "C" fn can_read(ctx: &mut CallCtx, a: u64, l: u64, _: u64, _: u64, _: u64) -> u64 {
        ctx.can_access(a, l, false) as u64
    }
    h.helper(1, can_read);
    let p = Program::load(&assemble_raw("r2 = 16\ncall 1\nexit", &NoSymbols).unwrap(), &h).unwrap();
    assert_eq!(vm.run_in(&p, &args, &mem, std::ptr::null_mut()), Ok(1));
}

/// R1 points at a u64 in `buf`; the program adds the u64 R1 + 8 points at (outside `buf`, so a
/// faulting load in the kernel) and the one at R1, and sign-extends a byte of `buf`.
const PROBE: &str = "
    r2 = *(u64 *)(r1 +8)
    r3 = *(u64 *)(r1 +0)
    r4 = *(s8 *)(r1 +0)
    r0 = r2
    r0 += r3
    r0 += r4
    exit
";

#[test]
fn probe_mem_loads_read_zero_where_they_would_fault_in_verified_mode() {
    let buf = 0x80u64.to_ne_bytes();
    let region = Region { start: buf.as_ptr() as u64, len: 8, writable: false };
    let mut p = load(PROBE);
    // Unmarked, the first load is out of bounds in checked mode.
    assert!(matches!(
        Interpreter::new().run(&p, &[region.start], &[region], std::ptr::null_mut()),
        Err(VmError::OutOfBounds { pc: 0, .. })
    ));
    p.mark_probe_mem(&[0, 2]).unwrap();
    let want = Ok(0x80u64.wrapping_add(0x80u8 as i8 as i64 as u64));
    assert_eq!(Interpreter::new().run(&p, &[region.start], &[region], std::ptr::null_mut()), want);
    // SAFETY: the only load outside `region` is a probe load; the others read `buf`.
    let got =
        unsafe { Interpreter::new().run_verified(&p, &[region.start], &[region], std::ptr::null_mut()) };
    assert_eq!(got, want);
    // The marks are the executable copy's: the program as loaded is unchanged.
    assert_eq!(p.insns()[0].code, 0x79);
}

#[test]
fn only_loads_become_probe_loads() {
    let mut p = load(PROBE);
    assert!(matches!(p.mark_probe_mem(&[3]), Err(kfvm_vm::LoadError::NotALoad { pc: 3 })));
    assert!(matches!(p.mark_probe_mem(&[7]), Err(kfvm_vm::LoadError::NotALoad { pc: 7 })));
    assert!(matches!(p.mark_probe_mem(&[usize::MAX]), Err(kfvm_vm::LoadError::NotALoad { .. })));
}
