//! One instruction of the path walk on a given register file, through the verifier's own code.
//!
//! [`step_insn`] runs `do_check_insn()` for one instruction of a program on a state built from
//! the registers it is given (frame 0, empty stack), then reports where the path goes on, with
//! which registers, and which states the instruction queued for later (a conditional jump's
//! other branch, `maybe_fork_scalars()`'s second value). Everything the walk does to registers
//! applies: scalar ids on moves (`assign_scalar_id_before_mov()`), linked-register deltas
//! (`rX += const`), `sync_linked_regs()` after a refinement (restricted, as in the kernel, to
//! the registers live before the jump), `maybe_fork_scalars()`, helper-call clobbers.
//!
//! It exists for differential tests that replay a kernel's log instruction by instruction
//! (`tests/scalar_support`): the kernel's printed state before an instruction goes in, kfvm's
//! state after it comes out and is compared with the kernel's next print.

use crate::env::InsnAux;
use crate::error::Result;
use crate::log::VerifierLog;
use crate::state::{FuncState, RegState, VerifierState, PTR_TO_CTX, PTR_TO_STACK};
use crate::CheckOptions;
use kfvm_isa::RawInsn;

/// Where a path goes after one instruction.
#[derive(Clone, Debug)]
pub struct StepResult {
    /// The path continues at this instruction with these registers; `None` when it ended
    /// (`exit` of the main program).
    pub next: Option<(usize, Vec<RegState>)>,
    /// States queued for later, in push order: (instruction, registers).
    pub pushed: Vec<(usize, Vec<RegState>)>,
    /// The id generator after the step (ids given out are above the one passed in).
    pub id_gen: u32,
}

/// `R1=ctx()`: the context pointer as the program receives it.
pub fn ctx_reg() -> RegState {
    let mut r = RegState::not_init();
    r.ty = PTR_TO_CTX;
    r.mark_known_zero();
    r
}

/// `R10=fp0`: frame 0's frame pointer.
pub fn fp_reg() -> RegState {
    let mut r = RegState::not_init();
    r.ty = PTR_TO_STACK;
    r.mark_known_zero();
    r
}

/// The kernel's text of one register of frame 0 (`print_reg_state()`: `scalar(id=2+7,...)`,
/// `ctx()`, `fp0`), without the precision mark.
pub fn reg_text(opts: &CheckOptions, reg: &RegState) -> String {
    let env = crate::new_env(
        vec![RawInsn::default()],
        vec![InsnAux::default()],
        Vec::new(),
        opts,
        None,
        VerifierLog::new(0),
    );
    let mut r = reg.clone();
    r.precise = false;
    let mut out = String::new();
    env.fmt_reg_state(&mut out, 0, &r);
    out
}

/// Runs instruction `idx` of `insns` on `regs` (R0..R10 of frame 0; `id_gen`: the highest id
/// in use; `live_before`: the registers live before the instruction, bit n for Rn, as the
/// `Live regs before insn:` listing shows them).
pub fn step_insn(
    insns: &[RawInsn],
    idx: usize,
    regs: &[RegState],
    id_gen: u32,
    live_before: u16,
    opts: &CheckOptions,
) -> Result<StepResult> {
    let mut aux = vec![InsnAux::default(); insns.len()];
    aux[idx].live_regs_before = live_before;
    let subprogs = vec![crate::cfg::SubprogInfo { start: 0, ..Default::default() }];
    let mut env = crate::new_env(insns.to_vec(), aux, subprogs, opts, None, VerifierLog::new(0));
    let mut f0 = FuncState::new(crate::state::BPF_MAIN_FUNC, 0, 0);
    for (d, s) in f0.regs.iter_mut().zip(regs) {
        *d = s.clone();
    }
    let mut st = VerifierState::new(f0);
    st.first_insn_idx = 0;
    st.last_insn_idx = -1;
    st.insn_idx = idx as u32;
    env.cur = st;
    env.id_gen = id_gen;
    env.insn_idx = idx as u32;
    env.prev_insn_idx = -1;
    let mut do_print_state = false;
    let r = env.do_check_insn(&mut do_print_state)?;
    let regs_of = |st: &VerifierState| st.frame[0].regs.to_vec();
    let next = if r == crate::check::PROCESS_BPF_EXIT {
        None
    } else {
        Some((env.insn_idx as usize, regs_of(&env.cur)))
    };
    let pushed = env.stack.iter().map(|e| (e.insn_idx as usize, regs_of(&e.st))).collect();
    Ok(StepResult { next, pushed, id_gen: env.id_gen })
}
