//! The path walk: `do_check()` and what it needs around it — the branch stack (`push_stack`,
//! `pop_stack`, `update_branch_counts`), register argument checks (`check_reg_arg`), `lddw`
//! (`check_ld_imm`), the exit of a path (`process_bpf_exit_full`, `check_return_code`,
//! `check_resource_leak`) and `do_check_common()`, which sets up the first state of a function.

use crate::env::*;
use crate::error::{Errno, Result, VerifyError};
use crate::state::*;
use crate::verbose;
use kfvm_isa::opcode::class;
use kfvm_isa::RawInsn;

/// What `check_reg_arg()` is asked to check.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RegArg {
    /// `SRC_OP`: the register is read.
    Src,
    /// `DST_OP`: written, and marked unknown.
    Dst,
    /// `DST_OP_NO_MARK`: written; the caller sets the value.
    DstNoMark,
}

/// `PROCESS_BPF_EXIT`: the path ended.
pub const PROCESS_BPF_EXIT: i32 = 1;

impl Env<'_> {
    /// Logs `msg` and returns the rejection (`verbose(env, "...\n"); return -E...;`).
    #[cold]
    pub fn reject(&mut self, errno: Errno, msg: impl Into<String>) -> VerifyError {
        let msg = msg.into();
        verbose!(self.log, "{msg}\n");
        VerifyError::reject(errno, Some(self.insn_idx as usize), msg)
    }

    /// A rejection whose message is already in the log.
    #[cold]
    pub fn rejected(&self, errno: Errno, msg: impl Into<String>) -> VerifyError {
        VerifyError::reject(errno, Some(self.insn_idx as usize), msg)
    }

    /// Mirrors `verifier_bug()`: the kernel's own consistency check failed; `-EFAULT`.
    #[cold]
    pub fn verifier_bug(&mut self, msg: impl Into<String>) -> VerifyError {
        let msg = format!("verifier bug: {}", msg.into());
        verbose!(self.log, "{msg}\n");
        VerifyError::reject(Errno::Fault, Some(self.insn_idx as usize), msg)
    }

    /// The current instruction.
    pub fn insn(&self) -> RawInsn {
        self.insns[self.insn_idx as usize]
    }

    /// `cur_regs(env)[regno]`.
    pub fn reg(&self, regno: usize) -> &RegState {
        &self.cur.cur().regs[regno]
    }

    /// `cur_regs(env)[regno]`.
    pub fn reg_mut(&mut self, regno: usize) -> &mut RegState {
        &mut self.cur.cur_mut().regs[regno]
    }

    /// Mirrors `__is_pointer_value()` with `env->allow_ptr_leaks` (`is_pointer_value()`).
    pub fn is_pointer_value(&self, regno: usize) -> bool {
        !self.allow_ptr_leaks && self.reg(regno).ty != SCALAR_VALUE
    }

    /// Mirrors `mark_reg_unknown()`.
    pub fn mark_reg_unknown(&mut self, regno: usize) {
        let cap = self.bpf_capable;
        self.reg_mut(regno).mark_unknown(cap);
    }

    /// Mirrors `mark_reg_not_init()`.
    pub fn mark_reg_not_init(&mut self, regno: usize) {
        let cap = self.bpf_capable;
        self.reg_mut(regno).mark_not_init(cap);
    }

    /// Mirrors `check_reg_arg()`.
    pub fn check_reg_arg(&mut self, regno: usize, t: RegArg) -> Result<()> {
        if regno >= MAX_BPF_REG {
            return Err(self.reject(Errno::Inval, format!("R{regno} is invalid")));
        }
        self.mark_reg_scratched(regno);
        if t == RegArg::Src {
            if self.reg(regno).ty == NOT_INIT {
                return Err(self.reject(Errno::Acces, format!("R{regno} !read_ok")));
            }
            return Ok(());
        }
        if regno == BPF_REG_FP {
            return Err(self.reject(Errno::Acces, "frame pointer is read only"));
        }
        if t == RegArg::Dst {
            self.mark_reg_unknown(regno);
        }
        Ok(())
    }

    /// Mirrors `push_jmp_history()`.
    pub fn push_jmp_history(&mut self, insn_flags: u32, linked_regs: u64) -> Result<()> {
        if let Some(i) = self.cur_hist_ent {
            if let Some(e) = self.cur.jmp_history.get_mut(i) {
                e.flags |= insn_flags;
                e.linked_regs = linked_regs;
                return Ok(());
            }
        }
        self.cur.jmp_history.push(JmpHistoryEntry {
            idx: self.insn_idx,
            prev_idx: self.prev_insn_idx as u32,
            flags: insn_flags,
            linked_regs,
        });
        self.cur_hist_ent = Some(self.cur.jmp_history.len() - 1);
        Ok(())
    }

    /// The queueing half of `push_async_cb()`: `st`, a fresh state that does not descend from
    /// the current one, to be explored from `insn_idx`.
    pub fn push_state(&mut self, st: VerifierState, insn_idx: u32, prev_insn_idx: i32) -> Result<()> {
        self.stack.push(StackElem { st, insn_idx, prev_insn_idx, log_pos: self.log.end_pos() });
        if self.stack.len() > BPF_COMPLEXITY_LIMIT_JMP_SEQ {
            let n = self.stack.len();
            return Err(self.reject(Errno::TooBig, format!("The sequence of {n} jumps is too complex.")));
        }
        Ok(())
    }

    /// Mirrors `push_stack()`: queues the current state, to continue at `insn_idx` later.
    /// Returns the index of the new element in [`Env::stack`].
    pub fn push_stack(&mut self, insn_idx: u32, prev_insn_idx: i32, speculative: bool) -> Result<usize> {
        let mut st = self.cur.clone();
        st.speculative |= speculative;
        self.stack.push(StackElem { st, insn_idx, prev_insn_idx, log_pos: self.log.end_pos() });
        if self.stack.len() > BPF_COMPLEXITY_LIMIT_JMP_SEQ {
            let n = self.stack.len();
            return Err(self.reject(Errno::TooBig, format!("The sequence of {n} jumps is too complex.")));
        }
        if let Some(p) = self.cur.parent {
            self.states[p].state.branches += 1;
        }
        Ok(self.stack.len() - 1)
    }

    /// Mirrors `pop_stack()`: makes the next queued branch current. `None` when there is none.
    pub fn pop_stack(&mut self, pop_log: bool) -> Option<(i32, u32)> {
        let head = self.stack.pop()?;
        self.cur = head.st;
        if pop_log {
            self.log.reset(head.log_pos);
        }
        Some((head.prev_insn_idx, head.insn_idx))
    }

    /// Mirrors `update_branch_counts()`: a path ended; its checkpoints with nothing left to
    /// explore are complete.
    pub fn update_branch_counts(&mut self, mut st: Option<StateId>, cur_done: bool) -> Result<()> {
        // The current state itself is not a checkpoint; its branch count is 1 and drops to 0.
        if cur_done {
            self.cur.branches = self.cur.branches.saturating_sub(1);
            if self.cur.branches != 0 {
                return Ok(());
            }
        }
        while let Some(id) = st {
            let br = {
                let s = &mut self.states[id].state;
                s.branches = s.branches.saturating_sub(1);
                s.branches
            };
            if br != 0 {
                break;
            }
            crate::prune::maybe_exit_scc(self, id)?;
            let parent = self.states[id].state.parent;
            crate::prune::maybe_free_verifier_state(self, id);
            st = parent;
        }
        Ok(())
    }

    /// Mirrors `check_ld_imm()`.
    pub fn check_ld_imm(&mut self, insn: RawInsn) -> Result<()> {
        if insn.code & 0x18 != 0x18 {
            return Err(self.reject(Errno::Inval, "invalid BPF_LD_IMM insn"));
        }
        if insn.off != 0 {
            return Err(self.reject(Errno::Inval, "BPF_LD_IMM64 uses reserved fields"));
        }
        let dst = insn.dst() as usize;
        self.check_reg_arg(dst, RegArg::Dst)?;
        let next = self.insns[self.insn_idx as usize + 1];
        if insn.src() == 0 {
            let imm = ((next.imm as u32 as u64) << 32) | insn.imm as u32 as u64;
            let r = self.reg_mut(dst);
            r.ty = SCALAR_VALUE;
            r.mark_known(imm);
            return Ok(());
        }
        self.reg_mut(dst).mark_known_zero();
        match insn.src() {
            3 => {
                // BPF_PSEUDO_BTF_ID: a typed ksym (check_pseudo_btf_id() at load time).
                let Some(var) = self.aux[self.insn_idx as usize].btf_var else {
                    return Err(VerifyError::Internal("a BPF_PSEUDO_BTF_ID lddw left unresolved".into()));
                };
                let _ = next;
                let r = self.reg_mut(dst);
                r.ty = var.reg_type;
                if base_type(var.reg_type) == PTR_TO_MEM {
                    r.mem_size = var.mem_size;
                } else {
                    r.btf = crate::env::BTF_VMLINUX;
                    r.btf_id = var.btf_id;
                }
                Ok(())
            }
            4 => {
                // BPF_PSEUDO_FUNC: a callback address.
                let target = (self.insn_idx as i64 + insn.imm as i64 + 1) as usize;
                let Some(subprogno) = self.find_subprog(target) else {
                    return Err(self.verifier_bug(format!("no subprog at insn {target}")));
                };
                if self.func_info_aux.is_empty() {
                    return Err(self.reject(Errno::Inval, "missing btf func_info"));
                }
                if self.func_info_aux[subprogno].linkage != 0 {
                    return Err(self.reject(Errno::Inval, "callback function not static"));
                }
                let r = self.reg_mut(dst);
                r.ty = PTR_TO_FUNC;
                r.subprogno = subprogno as u32;
                Ok(())
            }
            src => {
                let Some(map_index) = self.aux[self.insn_idx as usize].map_index else {
                    return Err(VerifyError::Internal("map lddw without a resolved map".into()));
                };
                let _ = next;
                let map_off = self.aux[self.insn_idx as usize].map_off as i32;
                let r = self.reg_mut(dst);
                r.map = map_index + 1;
                if src == 2 || src == 6 {
                    r.ty = PTR_TO_MAP_VALUE;
                    r.off = map_off;
                } else {
                    r.ty = CONST_PTR_TO_MAP;
                }
                Ok(())
            }
        }
    }

    /// Mirrors `check_reference_leak()`.
    pub fn check_reference_leak(&mut self, exception_exit: bool) -> Result<()> {
        if !exception_exit && self.cur.cur().frameno != 0 {
            return Ok(());
        }
        let mut lingering = false;
        let refs = self.cur.refs.clone();
        for r in refs.iter().filter(|r| r.ty == RefType::Ptr) {
            verbose!(self.log, "Unreleased reference id={} alloc_insn={}\n", r.id, r.insn_idx);
            lingering = true;
        }
        if lingering {
            self.hint = crate::kfunc::leak_hint(self);
            return Err(self.rejected(Errno::Inval, "Unreleased reference"));
        }
        Ok(())
    }

    /// Mirrors `check_resource_leak()`.
    pub fn check_resource_leak(
        &mut self,
        exception_exit: bool,
        check_lock: bool,
        prefix: &str,
    ) -> Result<()> {
        if check_lock && self.cur.active_locks != 0 {
            return Err(
                self.reject(Errno::Inval, format!("{prefix} cannot be used inside bpf_spin_lock-ed region"))
            );
        }
        if let Err(e) = self.check_reference_leak(exception_exit) {
            let msg = format!("{prefix} would lead to reference leak");
            verbose!(self.log, "{msg}\n");
            return Err(match e {
                VerifyError::Rejected(r) => VerifyError::reject(r.errno, r.insn, msg),
                e => e,
            });
        }
        if check_lock && self.cur.active_irq_id != 0 {
            return Err(self.reject(
                Errno::Inval,
                format!("{prefix} cannot be used inside bpf_local_irq_save-ed region"),
            ));
        }
        if check_lock && self.cur.active_rcu_locks != 0 {
            return Err(self.reject(
                Errno::Inval,
                format!("{prefix} cannot be used inside bpf_rcu_read_lock-ed region"),
            ));
        }
        if check_lock && self.cur.active_preempt_locks != 0 {
            return Err(self.reject(
                Errno::Inval,
                format!("{prefix} cannot be used inside bpf_preempt_disable-ed region"),
            ));
        }
        Ok(())
    }

    /// Mirrors `process_bpf_exit_full()`: returns [`PROCESS_BPF_EXIT`] when the path ends, 0 when
    /// a callee returned to its caller.
    pub fn process_bpf_exit_full(&mut self, do_print_state: &mut bool, exception_exit: bool) -> Result<i32> {
        let main = self.cur.curframe() == 0;
        self.check_resource_leak(exception_exit, main, "BPF_EXIT instruction in main prog")?;
        if exception_exit {
            return Ok(PROCESS_BPF_EXIT);
        }
        if !main {
            crate::liveness::bpf_update_live_stack(self)?;
            let mut idx = self.insn_idx;
            crate::call::prepare_func_exit(self, &mut idx)?;
            self.insn_idx = idx;
            *do_print_state = true;
            return Ok(0);
        }
        self.check_return_code(0, "R0")?;
        Ok(PROCESS_BPF_EXIT)
    }

    /// Mirrors `check_return_code()`.
    pub fn check_return_code(&mut self, regno: usize, reg_name: &str) -> Result<()> {
        let is_subprog = self.cur.frame[0].subprogno != 0;
        self.check_reg_arg(regno, RegArg::Src)?;
        if self.is_pointer_value(regno) {
            return Err(self.reject(Errno::Acces, format!("R{regno} leaks addr as return value")));
        }
        let f0 = &self.cur.frame[0];
        if f0.in_async_callback_fn {
            let range = f0.callback_ret_range;
            return self.enforce_retval(regno, reg_name, range, "At async callback return");
        }
        if is_subprog {
            let r = self.reg(regno);
            if r.ty != SCALAR_VALUE {
                let t = self.reg_type_name(r);
                return Err(self.reject(
                    Errno::Inval,
                    format!("At subprogram exit the register R{regno} is not a scalar value ({t})"),
                ));
            }
            return Ok(());
        }
        let range = match self.opts.prog_type {
            prog_type::CGROUP_SKB => RetvalRange { minval: 0, maxval: 1 },
            prog_type::RAW_TRACEPOINT if self.opts.attach_btf_id == 0 => return Ok(()),
            prog_type::RAW_TRACEPOINT => RetvalRange { minval: 0, maxval: 0 },
            prog_type::TRACING => match self.opts.expected_attach_type {
                crate::ctx::attach::TRACE_FENTRY | crate::ctx::attach::TRACE_FEXIT => {
                    RetvalRange { minval: 0, maxval: 0 }
                }
                crate::ctx::attach::TRACE_RAW_TP | crate::ctx::attach::MODIFY_RETURN => return Ok(()),
                crate::ctx::attach::TRACE_ITER => RetvalRange { minval: 0, maxval: 1 },
                _ => {
                    return Err(self.rejected(Errno::NotSupp, "unsupported attach type of a tracing program"))
                }
            },
            prog_type::LSM => return Err(VerifyError::Unsupported("return code of an LSM program".into())),
            _ => return Ok(()),
        };
        self.enforce_retval(regno, reg_name, range, "At program exit")
    }

    /// The `enforce_retval:` tail of `check_return_code()`.
    fn enforce_retval(
        &mut self,
        regno: usize,
        reg_name: &str,
        range: RetvalRange,
        exit_ctx: &str,
    ) -> Result<()> {
        let r = self.reg(regno).clone();
        if r.ty != SCALAR_VALUE {
            let t = self.reg_type_name(&r);
            return Err(self.reject(
                Errno::Inval,
                format!("{exit_ctx} the register R{regno} is not a known value ({t})"),
            ));
        }
        crate::precision::mark_chain_precision(self, regno as i32)?;
        let r = self.reg(regno).clone();
        if !retval_range_within(range, &r, false) {
            self.verbose_invalid_scalar(&r, range, exit_ctx, reg_name);
            return Err(self.rejected(Errno::Inval, format!("{exit_ctx} invalid return value")));
        }
        Ok(())
    }

    /// Mirrors `verbose_invalid_scalar()`.
    pub fn verbose_invalid_scalar(&mut self, reg: &RegState, range: RetvalRange, ctx: &str, reg_name: &str) {
        verbose!(self.log, "{ctx} the register {reg_name} has");
        let mut unknown = true;
        if reg.s.smin_value > i64::MIN {
            verbose!(self.log, " smin={}", reg.s.smin_value);
            unknown = false;
        }
        if reg.s.smax_value < i64::MAX {
            verbose!(self.log, " smax={}", reg.s.smax_value);
            unknown = false;
        }
        if unknown {
            verbose!(self.log, " unknown scalar value");
        }
        verbose!(self.log, " should have been in [{}, {}]\n", range.minval, range.maxval);
    }

    /// Mirrors `save_aux_ptr_type()`.
    pub fn save_aux_ptr_type(&mut self, ty: u32, allow_trust_mismatch: bool) -> Result<()> {
        let prev = self.aux[self.insn_idx as usize].ptr_type;
        if prev == NOT_INIT {
            self.aux[self.insn_idx as usize].ptr_type = ty;
            return Ok(());
        }
        let mismatch_ok = |t: u32| {
            !matches!(
                base_type(t),
                PTR_TO_CTX
                    | PTR_TO_SOCKET
                    | PTR_TO_SOCK_COMMON
                    | PTR_TO_TCP_SOCK
                    | PTR_TO_XDP_SOCK
                    | PTR_TO_BTF_ID
                    | PTR_TO_ARENA
            )
        };
        if ty != prev && (!mismatch_ok(ty) || !mismatch_ok(prev)) {
            let mem_or_btf = |t: u32| matches!(base_type(t), PTR_TO_MEM | PTR_TO_BTF_ID);
            if allow_trust_mismatch && mem_or_btf(ty) && mem_or_btf(prev) {
                let mut merged = if base_type(ty) == PTR_TO_MEM || base_type(prev) == PTR_TO_MEM {
                    PTR_TO_MEM
                } else {
                    PTR_TO_BTF_ID
                };
                if (ty | prev) & PTR_UNTRUSTED != 0 {
                    merged |= PTR_UNTRUSTED;
                }
                if (ty | prev) & MEM_RDONLY != 0 {
                    merged |= MEM_RDONLY;
                }
                self.aux[self.insn_idx as usize].ptr_type = merged;
            } else {
                return Err(self.reject(Errno::Inval, "same insn cannot be used with different pointers"));
            }
        }
        Ok(())
    }

    /// Mirrors `do_check_insn()`: checks the instruction at `insn_idx` and moves `insn_idx` on.
    /// Returns [`PROCESS_BPF_EXIT`] when the path ends.
    pub fn do_check_insn(&mut self, do_print_state: &mut bool) -> Result<i32> {
        let insn = self.insn();
        let cls = insn.code & 7;
        match cls {
            class::ALU | class::ALU64 => {
                crate::alu::check_alu_op(self, insn)?;
            }
            class::LDX => {
                let is_ldsx = insn.code & 0xe0 == 0x80;
                crate::mem::check_load_mem(self, insn, false, is_ldsx, true, "ldx")?;
            }
            class::STX => {
                if insn.code & 0xe0 == 0xc0 {
                    crate::mem::check_atomic(self, insn)?;
                    self.insn_idx += 1;
                    return Ok(0);
                }
                if insn.code & 0xe0 != 0x60 || insn.imm != 0 {
                    return Err(self.reject(Errno::Inval, "BPF_STX uses reserved fields"));
                }
                crate::mem::check_store_reg(self, insn, false)?;
            }
            class::ST => {
                if insn.code & 0xe0 != 0x60 || insn.src() != 0 {
                    return Err(self.reject(Errno::Inval, "BPF_ST uses reserved fields"));
                }
                let dst = insn.dst() as usize;
                self.check_reg_arg(dst, RegArg::Src)?;
                let dst_ty = self.reg(dst).ty;
                crate::mem::check_mem_access(
                    self,
                    self.insn_idx as usize,
                    dst,
                    insn.off as i32,
                    insn.code & 0x18,
                    crate::mem::Access::Write,
                    -1,
                    false,
                    false,
                )?;
                self.save_aux_ptr_type(dst_ty, false)?;
            }
            class::JMP | class::JMP32 => {
                let op = insn.code & 0xf0;
                self.jmps_processed += 1;
                if op == kfvm_isa::opcode::OP_CALL {
                    let src = insn.src();
                    if insn.code & 0x08 != 0
                        || (src != 2 && insn.off != 0)
                        || (src != 0 && src != 1 && src != 2)
                        || insn.dst() != 0
                        || cls == class::JMP32
                    {
                        return Err(self.reject(Errno::Inval, "BPF_CALL uses reserved fields"));
                    }
                    if self.cur.active_locks != 0
                        && ((src == 0 && insn.imm != 94 && insn.imm != 194)
                            || (src == 2
                                && (insn.off != 0 || !crate::kfunc::kfunc_spin_allowed(self.opts, insn.imm))))
                    {
                        return Err(
                            self.reject(Errno::Inval, "function calls are not allowed while holding a lock")
                        );
                    }
                    let mut idx = self.insn_idx;
                    match src {
                        1 => crate::call::check_func_call(self, insn, &mut idx)?,
                        2 => crate::kfunc::check_kfunc_call(self, insn, &mut idx)?,
                        _ => crate::call::check_helper_call(self, insn, &mut idx)?,
                    }
                    self.insn_idx = idx;
                    self.mark_reg_scratched(0);
                } else if op == kfvm_isa::opcode::OP_JA {
                    if insn.code & 0x08 != 0 {
                        if insn.src() != 0 || insn.imm != 0 || insn.off != 0 {
                            return Err(self.reject(Errno::Inval, "BPF_JA|BPF_X uses reserved fields"));
                        }
                        return Err(VerifyError::Unsupported("indirect jumps (gotox)".into()));
                    }
                    if insn.src() != 0
                        || insn.dst() != 0
                        || (cls == class::JMP && insn.imm != 0)
                        || (cls == class::JMP32 && insn.off != 0)
                    {
                        return Err(self.reject(Errno::Inval, "BPF_JA uses reserved fields"));
                    }
                    let off = if cls == class::JMP { insn.off as i32 } else { insn.imm };
                    self.insn_idx = (self.insn_idx as i64 + off as i64 + 1) as u32;
                    return Ok(0);
                } else if op == kfvm_isa::opcode::OP_EXIT {
                    if insn.code & 0x08 != 0
                        || insn.imm != 0
                        || insn.src() != 0
                        || insn.dst() != 0
                        || cls == class::JMP32
                    {
                        return Err(self.reject(Errno::Inval, "BPF_EXIT uses reserved fields"));
                    }
                    return self.process_bpf_exit_full(do_print_state, false);
                } else {
                    let mut idx = self.insn_idx;
                    crate::jmp::check_cond_jmp_op(self, insn, &mut idx)?;
                    self.insn_idx = idx;
                }
            }
            class::LD => {
                let mode = insn.code & 0xe0;
                if mode == 0x20 || mode == 0x40 {
                    crate::mem::check_ld_abs(self, insn)?;
                } else if mode == 0 {
                    self.check_ld_imm(insn)?;
                    self.insn_idx += 1;
                    self.aux[self.insn_idx as usize].seen = true;
                } else {
                    return Err(self.reject(Errno::Inval, "invalid BPF_LD mode"));
                }
            }
            _ => return Err(self.reject(Errno::Inval, format!("unknown insn class {cls}"))),
        }
        self.insn_idx += 1;
        Ok(0)
    }

    /// Mirrors `do_check()`: walks every path from the current state.
    pub fn do_check(&mut self) -> Result<()> {
        let pop_log = !self.log.level2();
        let insn_cnt = self.insns.len();
        let mut do_print_state = false;
        let mut prev_insn_idx: i32 = -1;
        loop {
            self.cur_hist_ent = None;
            self.prev_insn_idx = prev_insn_idx;
            if self.insn_idx as usize >= insn_cnt {
                let idx = self.insn_idx;
                return Err(self.reject(Errno::Fault, format!("invalid insn idx {idx} insn_cnt {insn_cnt}")));
            }
            self.insn_processed += 1;
            if self.insn_processed > BPF_COMPLEXITY_LIMIT_INSNS {
                let n = self.insn_processed;
                return Err(
                    self.reject(Errno::TooBig, format!("BPF program is too large. Processed {n} insn"))
                );
            }
            self.cur.last_insn_idx = self.prev_insn_idx;
            self.cur.insn_idx = self.insn_idx;
            let idx = self.insn_idx as usize;

            let mut pruned = false;
            if self.is_prune_point(idx) {
                let r = crate::prune::is_state_visited(self, idx)?;
                if r == 1 {
                    if self.log.level12() {
                        if do_print_state {
                            let spec = if self.cur.speculative { " (speculative execution)" } else { "" };
                            verbose!(
                                self.log,
                                "\nfrom {} to {}{spec}: safe\n",
                                self.prev_insn_idx,
                                self.insn_idx
                            );
                        } else {
                            verbose!(self.log, "{}: safe\n", self.insn_idx);
                        }
                    }
                    pruned = true;
                }
            }
            if !pruned {
                if self.is_jmp_point(idx) {
                    self.push_jmp_history(0, 0)?;
                }
                if self.log.level2() && do_print_state {
                    let spec = if self.cur.speculative { " (speculative execution)" } else { "" };
                    verbose!(self.log, "\nfrom {} to {}{spec}:", self.prev_insn_idx, self.insn_idx);
                    let f = self.cur.curframe();
                    self.print_verifier_state(None, f, true);
                    do_print_state = false;
                }
                if self.log.level12() {
                    if self.verifier_state_scratched() {
                        let f = self.cur.curframe();
                        self.print_insn_state(f);
                    }
                    self.log.verbose_linfo(idx, format_args!("; "));
                    self.prev_log_pos = self.log.end_pos();
                    verbose!(self.log, "{}: ", self.insn_idx);
                    self.verbose_insn(idx);
                    self.prev_insn_print_pos = self.log.end_pos() - self.prev_log_pos;
                    self.prev_log_pos = self.log.end_pos();
                }
                self.aux[idx].seen = true;
                prev_insn_idx = self.insn_idx as i32;

                crate::liveness::bpf_reset_stack_write_marks(self, idx as u32)?;
                let r = self.do_check_insn(&mut do_print_state);
                if r.is_ok() {
                    crate::liveness::bpf_commit_stack_write_marks(self)?;
                }
                if r? != PROCESS_BPF_EXIT {
                    continue;
                }
            }
            // process_bpf_exit:
            self.mark_verifier_state_scratched();
            let parent = self.cur.parent;
            self.update_branch_counts(parent, true)?;
            crate::liveness::bpf_update_live_stack(self)?;
            match self.pop_stack(pop_log) {
                None => break,
                Some((prev, next)) => {
                    prev_insn_idx = prev;
                    self.insn_idx = next;
                    do_print_state = true;
                }
            }
        }
        Ok(())
    }

    /// Mirrors `init_func_state()`.
    pub fn init_func_state(&mut self, callsite: i32, frameno: u32, subprogno: u32) -> FuncState {
        let mut f = FuncState::new(callsite, frameno, subprogno);
        f.callback_ret_range = RetvalRange { minval: 0, maxval: 0 };
        self.init_reg_state(&mut f);
        self.mark_verifier_state_scratched();
        f
    }

    /// Mirrors `init_reg_state()`.
    pub fn init_reg_state(&self, f: &mut FuncState) {
        for r in f.regs.iter_mut() {
            r.mark_not_init(self.bpf_capable);
        }
        let fp = &mut f.regs[BPF_REG_FP];
        fp.ty = PTR_TO_STACK;
        fp.mark_known_zero();
        fp.frameno = f.frameno;
    }

    /// Mirrors `do_check_common()`: the main program (`subprog` 0) from its context argument,
    /// or a global function from the arguments its BTF declares.
    pub fn do_check_common(&mut self, subprog: usize) -> Result<()> {
        let pop_log = !self.log.level2();
        self.log.reset_prev_linfo();
        let f0 = self.init_func_state(BPF_MAIN_FUNC, 0, subprog as u32);
        let mut st = VerifierState::new(f0);
        st.in_sleepable = self.opts.sleepable;
        st.first_insn_idx = self.subprogs[subprog].start as u32;
        st.last_insn_idx = -1;
        self.cur = st;
        let r = self.do_check_common_body(subprog);
        if r.is_ok() && pop_log {
            self.log.reset(0);
        }
        self.free_states();
        r
    }

    fn do_check_common_body(&mut self, subprog: usize) -> Result<()> {
        if subprog != 0 {
            let name = self.subprog_name(subprog);
            if self.log.level12() {
                verbose!(self.log, "Validating {name}() func#{subprog}...\n");
            }
            crate::btf_func::init_global_args(self, subprog)?;
        } else {
            if !self.func_info_aux.is_empty() {
                crate::btf_func::check_main_args(self)?;
            }
            let r1 = self.reg_mut(1);
            r1.ty = PTR_TO_CTX;
            r1.mark_known_zero();
        }
        self.do_check()
    }

    /// Mirrors `free_states()`: the explored states of one `do_check_common()` are not used by
    /// the next.
    pub fn free_states(&mut self) {
        self.stack.clear();
        for b in self.explored.iter_mut() {
            b.clear();
        }
        for v in self.scc_visits.iter_mut() {
            v.clear();
        }
    }

    /// Mirrors `do_check_subprogs()`: every global function a verified path calls is verified
    /// on its own, from its BTF arguments.
    pub fn do_check_subprogs(&mut self) -> Result<()> {
        if self.func_info_aux.is_empty() {
            return Ok(());
        }
        loop {
            let mut new_cnt = 0;
            for i in 1..self.subprog_cnt {
                if !self.subprog_is_global(i) {
                    continue;
                }
                let a = &self.func_info_aux[i];
                if !a.called || a.verified {
                    continue;
                }
                self.insn_idx = self.subprogs[i].start as u32;
                self.do_check_common(i)?;
                if self.log.level12() {
                    let name = self.subprog_name(i);
                    verbose!(self.log, "Func#{i} ('{name}') is safe for any args that match its prototype\n");
                }
                self.func_info_aux[i].verified = true;
                new_cnt += 1;
            }
            if new_cnt == 0 {
                return Ok(());
            }
        }
    }
}

/// Mirrors `retval_range_within()`.
pub fn retval_range_within(range: RetvalRange, reg: &RegState, return_32bit: bool) -> bool {
    if return_32bit {
        range.minval <= reg.s.s32_min_value && reg.s.s32_max_value <= range.maxval
    } else {
        range.minval as i64 <= reg.s.smin_value && reg.s.smax_value <= range.maxval as i64
    }
}
