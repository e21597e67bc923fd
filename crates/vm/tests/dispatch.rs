//! The interpreter's handlers call each other in tail position, which only an optimising build
//! turns into jumps; they return to the driver loop every few hundred instructions, so that even
//! unoptimised, a long run needs little native stack.

use kfvm_isa::RawInsn;
use kfvm_vm::{HostFns, Interpreter, Program, VmError};

/// `r0 = 0; r1 = n; loop: r0 += r1; r1 -= 1; if r1 != 0 goto loop; exit`, plus a bpf-to-bpf call
/// around it so frames are pushed and popped mid-run.
fn looping(n: i32) -> Program {
    let insns = [
        RawInsn::new(0x85, 0, 1, 0, 1), // call +1
        RawInsn::new(0x95, 0, 0, 0, 0), // exit
        RawInsn::new(0xb7, 0, 0, 0, 0),
        RawInsn::new(0xb7, 1, 0, 0, n),
        RawInsn::new(0x0f, 0, 1, 0, 0),
        RawInsn::new(0x17, 1, 0, 0, 1),
        RawInsn::new(0x55, 1, 0, -3, 0),
        RawInsn::new(0x95, 0, 0, 0, 0),
    ];
    Program::load(&insns, &HostFns::new()).unwrap()
}

#[test]
fn a_long_run_fits_a_small_native_stack() {
    let worker = std::thread::Builder::new().stack_size(256 * 1024).spawn(|| {
        let prog = looping(100_000);
        let mut vm = Interpreter::new();
        let n = 100_000u64;
        assert_eq!(vm.run(&prog, &[], &[], std::ptr::null_mut()), Ok(n * (n + 1) / 2));
        // SAFETY: the program touches no memory.
        assert_eq!(unsafe { vm.run_verified(&prog, &[], &[], std::ptr::null_mut()) }, Ok(n * (n + 1) / 2));
    });
    worker.unwrap().join().unwrap();
}

#[test]
fn the_budget_is_exact_across_yields() {
    // call, two setup moves, 3 a round, two exits; a budget of n allows n of them.
    let prog = looping(1000);
    let total = 3 + 3 * 1000 + 2;
    let mut vm = Interpreter::new();
    for budget in [1, 2, 255, 256, 257, 511, 512, 513, 1024, total - 1, total, total + 1] {
        vm.set_budget(budget);
        let r = vm.run(&prog, &[], &[], std::ptr::null_mut());
        if budget >= total {
            assert_eq!(r, Ok(500_500), "budget {budget}");
        } else {
            // The instruction that would have been number `budget + 1` is not run: its slot is
            // reported.
            let Err(VmError::BudgetExhausted { pc, budget: b }) = r else { panic!("budget {budget}: {r:?}") };
            assert_eq!(b, budget);
            let executed = budget;
            // Slots run in order: call, then body from slot 2: 2 setup, then 3 a round, then exit x2.
            let expected_pc = match executed {
                0 => 0,
                1 => 2,
                2 => 3,
                e if e < 3 + 3 * 1000 => 4 + (e - 3) % 3,
                e if e == 3 + 3 * 1000 => 7,
                _ => 1,
            };
            assert_eq!(pc as u64, expected_pc, "budget {budget}");
        }
    }
}
