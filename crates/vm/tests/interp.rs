//! Interpreter behaviour the kernel cannot show through `BPF_PROG_TEST_RUN`: the checked mode's
//! refusals, the instruction budget, call depth, `may_goto`'s count, host calls.

use kfvm_isa::asm::assemble_raw;
use kfvm_isa::disasm::NoSymbols;
use kfvm_vm::{CallCtx, HostFns, Interpreter, LoadError, Program, Region, VmError, MAY_GOTO_LOOPS};

fn load(src: &str) -> Program {
    Program::load(&assemble_raw(src, &NoSymbols).unwrap(), &host()).unwrap()
}

extern "C" fn add3(_: &mut CallCtx, a: u64, b: u64, c: u64, _: u64, _: u64) -> u64 {
    a + b + c
}

extern "C" fn fails(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    ctx.fail("no such object");
    0
}

extern "C" fn probe(ctx: &mut CallCtx, addr: u64, len: u64, _: u64, _: u64, _: u64) -> u64 {
    ctx.can_access(addr, len, false) as u64
}

fn host() -> HostFns {
    let mut h = HostFns::new();
    h.helper(1, add3).helper(2, fails).kfunc(65886, add3).helper(3, probe);
    h
}

fn run(src: &str, mem: &mut [u8]) -> Result<u64, VmError> {
    let p = load(src);
    let r = Region::writable(mem);
    Interpreter::new().run(&p, &[r.start, r.len], &[r], std::ptr::null_mut())
}

#[test]
fn out_of_bounds_is_refused_with_the_address() {
    let mut mem = [0u8; 8];
    let e = run("r0 = *(u64 *)(r1 +1)\nexit", &mut mem).unwrap_err();
    assert!(matches!(e, VmError::OutOfBounds { pc: 0, kind: "read", size: 8, .. }), "{e}");
    let e = run("*(u32 *)(r10 +0) = 1\nr0 = 0\nexit", &mut mem).unwrap_err();
    assert!(matches!(e, VmError::OutOfBounds { pc: 0, kind: "write", size: 4, .. }), "{e}");
    assert_eq!(run("r0 = *(u64 *)(r1 +0)\nexit", &mut mem), Ok(0));
}

#[test]
fn read_only_regions_refuse_stores() {
    let mem = [7u8; 8];
    let p = load("*(u8 *)(r1 +0) = 1\nr0 = 0\nexit");
    let r = Region::readonly(&mem);
    let e = Interpreter::new().run(&p, &[r.start], &[r], std::ptr::null_mut()).unwrap_err();
    assert!(matches!(e, VmError::OutOfBounds { kind: "write", .. }), "{e}");
}

#[test]
fn misaligned_atomics_are_refused() {
    let e = run("r2 = 1\nlock *(u64 *)(r10 -12) += r2\nr0 = 0\nexit", &mut []).unwrap_err();
    assert!(matches!(e, VmError::MisalignedAtomic { pc: 1, size: 8, .. }), "{e}");
}

#[test]
fn runaway_programs_exhaust_the_budget() {
    let p = load("r0 = 0\nr0 += 1\ngoto pc-2\nexit");
    let mut vm = Interpreter::new();
    vm.set_budget(1000);
    let e = vm.run(&p, &[], &[], std::ptr::null_mut()).unwrap_err();
    assert_eq!(e, VmError::BudgetExhausted { pc: 2, budget: 1000 });
    assert_eq!(e.to_string(), "insn 2: instruction budget of 1000 exhausted");
    // A budget of exactly the instructions a run needs is enough.
    let p = load("r0 = 1\nr0 += 1\nexit");
    vm.set_budget(3);
    assert_eq!(vm.run(&p, &[], &[], std::ptr::null_mut()), Ok(2));
    vm.set_budget(2);
    assert!(vm.run(&p, &[], &[], std::ptr::null_mut()).is_err());
}

#[test]
fn recursion_stops_at_the_frame_limit() {
    let e = run("call pc-1\nexit", &mut []).unwrap_err();
    assert_eq!(e, VmError::CallDepth { pc: 0, max: 8 });
}

#[test]
fn may_goto_jumps_after_its_loop_budget() {
    let r = run("r0 = 0\nr0 += 1\nmay_goto pc+1\ngoto pc-3\nexit", &mut []).unwrap();
    assert_eq!(r, MAY_GOTO_LOOPS + 1);
}

#[test]
fn host_calls_take_r1_to_r5() {
    assert_eq!(run("r1 = 1\nr2 = 2\nr3 = 3\ncall 1\nexit", &mut []), Ok(6));
    assert_eq!(run("r1 = 1\nr2 = 2\nr3 = 39\ncall bpf_task_acquire#65886\nexit", &mut []), Ok(42));
    let e = run("call 2\nexit", &mut []).unwrap_err();
    assert_eq!(e.to_string(), "insn 0: host function failed: no such object");
    // The host sees the same memory the checked interpreter does.
    assert_eq!(run("r2 = 8\ncall 3\nexit", &mut [0; 8]), Ok(1));
    assert_eq!(run("r2 = 9\ncall 3\nexit", &mut [0; 8]), Ok(0));
}

#[test]
fn load_refuses_what_cannot_run() {
    let h = host();
    let asm = |s| assemble_raw(s, &NoSymbols).unwrap();
    let e = Program::load(&asm("goto pc+5\nexit"), &h).unwrap_err();
    assert_eq!(e, LoadError::JumpOutOfRange { pc: 0, target: 6 });
    let e = Program::load(&asm("call 99\nexit"), &h).unwrap_err();
    assert_eq!(e, LoadError::UnknownHelper { pc: 0, id: 99 });
    let e = Program::load(&asm("r0 = r6\nexit"), &h).unwrap_err();
    assert_eq!(e.to_string(), "insn 0: R6 !read_ok");
    // After a call R1-R5 are gone, as in the kernel.
    let e = Program::load(&asm("r1 = 1\ncall 1\nr0 = r1\nexit"), &h).unwrap_err();
    assert_eq!(e.to_string(), "insn 2: R1 !read_ok");
    // R10 is read only, whatever writes it.
    for src in ["r10 = 0\nr0 = 0\nexit", "r0 = 0\nr10 = *(u64 *)(r10 -8)\nexit", "r10 += 8\nr0 = 0\nexit"] {
        let e = Program::load(&asm(src), &h).unwrap_err();
        assert!(matches!(e, LoadError::FramePointerWrite { .. }), "{src}: {e}");
        assert!(e.to_string().ends_with("frame pointer is read only"), "{e}");
    }
    // Jumping into the middle of a lddw.
    let e = Program::load(&asm("goto pc+1\nr0 = 0x1 ll\nexit"), &h).unwrap_err();
    assert!(matches!(e, LoadError::JumpOutOfRange { .. }), "{e}");
}

#[test]
fn falling_off_the_end_stops_the_run() {
    let e = run("r0 = 0\nif r0 == 0 goto pc+1\nexit\nr0 = 1", &mut []).unwrap_err();
    assert_eq!(e, VmError::FellOffEnd { pc: 4 });
}
