//! The verifier: Linux 6.18's static analysis of BPF programs (`bpf_check` in
//! kernel/bpf/verifier.c), deciding like the kernel and saying so with the kernel's messages.
//!
//! # Passes, in the kernel's order
//!
//! 1. [`btf_func::check_btf_func_early`] (`func_info` records), [`cfg::add_subprog_and_kfunc`]:
//!    subprogram boundaries from bpf-to-bpf calls and callback addresses; kfunc call sites.
//! 2. [`cfg::check_subprogs`]: jumps stay inside their subprogram; no fall-through between
//!    subprograms; [`btf_func::check_btf_info`] (`func_info` against the subprograms, or
//!    `check_abnormal_return` without it).
//! 3. [`resolve_pseudo_ldimm64`]: `lddw` forms and the opcode table.
//! 4. [`cfg::check_cfg`]: reachability, jumps into `lddw`, loops for unprivileged loaders, prune
//!    points.
//! 5. `compute_postorder`, `check_attach_btf_id` (the program type and flags), [`prune::compute_scc`]
//!    (loops), [`liveness::compute_live_registers`].
//! 6. `do_check_main` ([`check`]): the path-exploring walk with state pruning ([`prune`]),
//!    precision tracking ([`precision`]) and stack liveness ([`liveness`]); `do_check_subprogs`
//!    (each called global function on its own, from its BTF arguments); then
//!    `check_max_stack_depth`.
//!
//! # What the walk checks
//!
//! - ALU: reserved fields, division by a zero constant, shift ranges, scalar bounds through
//!   [`scalar`], linked registers, pointer arithmetic and its prohibitions ([`alu`]);
//! - loads, stores and atomics on the stack (spills, fills, uninitialised reads), the context of
//!   socket filter, TC, XDP, syscall, kprobe, tracepoint, raw tracepoint, `tp_btf/`, `fentry/`,
//!   `fexit/` and cgroup-skb programs ([`ctx`]), map keys and values (with variable offsets),
//!   packets (with `data_end` range tracking), sized memory ([`mem`]), BTF-typed kernel objects
//!   with the trust of walked pointers ([`btf_access`]; such loads are listed in
//!   [`Verdict::probe_mem_insns`]), `__kptr`, `__kptr_untrusted` and `__percpu_kptr` fields of
//!   map values (loads, stores, `bpf_kptr_xchg`) and of objects of `bpf_obj_new`
//!   (`bpf_kptr_xchg`; direct accesses refused);
//! - conditional jumps: branch direction, refinement, linked-register sync, NULL checks through
//!   ids, packet pointer comparisons, `may_goto` ([`jmp`]);
//! - `lddw` of constants, maps, map values and typed ksyms (`BPF_PSEUDO_BTF_ID`);
//! - helper calls for [`helpers::HELPERS`] (argument types, memory arguments, sizes, map
//!   compatibility, reference tracking for the ring buffer, spin locks, `bpf_loop` with its
//!   callback visited until the states converge) and bpf-to-bpf calls to static and global
//!   subprograms ([`call`], [`btf_func`]);
//! - kfunc calls ([`kfunc`]): visibility, arguments, references, RCU/preempt/IRQ regions;
//!   open-coded iterators ([`iter`]: `STACK_ITER` slots, the fork at every `iter_next()` call
//!   and the convergence of iterator loops in [`prune::is_state_visited`]); dynptrs ([`dynptr`]:
//!   `STACK_DYNPTR` slots, packet, local and ring buffer dynptrs, their slices); objects the
//!   program allocates from its own BTF ([`obj`]: `bpf_obj_new_impl`, `bpf_obj_drop_impl`, the
//!   per-CPU ones, and the legacy `KF_KPTR_GET`);
//! - exits: return values, unreleased references, locks held;
//! - the 1M-instruction and 8192-branch limits, infinite loops, bounded loops.
//!
//! # Not yet checked (reported as [`VerifyError::Unsupported`])
//!
//! the graph API (`bpf_list_*`, `bpf_rbtree_*`, `bpf_refcount_acquire_impl`), kfuncs with
//! callbacks, iterators of kernel objects (none in the model), callbacks of helpers outside
//! [`helpers::HELPERS`] (timers, `for_each_map_elem`), the `arg:trusted`/`untrusted`/`arena`
//! tags of global functions, `__uptr` fields (task storage maps), arenas, indirect jumps, maps of maps, LSM programs, `iter/` programs, sleepable
//! `fentry/` and `fmod_ret/` (the error-injection list is not modelled), Spectre sanitation for
//! loaders without `CAP_PERFMON` (only its bounds checks are done), line info in the log.
//!
//! # Errors
//!
//! [`VerifyError::Rejected`] is the kernel's verdict and message; [`VerifyError::Unsupported`]
//! means kfvm cannot decide yet; [`VerifyError::Internal`] is a kfvm bug. The log
//! ([`log::VerifierLog`]) is written in the kernel's format.

#![deny(missing_docs)]

pub mod alu;
pub mod btf_access;
pub mod btf_func;
pub mod call;
pub mod cfg;
pub mod check;
pub mod ctx;
pub mod dynptr;
pub mod env;
pub mod error;
pub mod helpers;
pub mod iter;
pub mod jmp;
pub mod kfunc;
pub mod liveness;
pub mod log;
pub mod mem;
pub mod obj;
pub mod precision;
pub mod print;
pub mod prune;
pub mod scalar;
pub mod state;
pub mod step;
pub mod tnum;

pub use env::{BtfEnv, CheckOptions, KfuncDesc, KfuncTable, MapInfo, BTF_PROG, BTF_VMLINUX};
pub use error::{Errno, Rejection, Result, VerifyError};
use kfvm_isa::RawInsn;
use log::VerifierLog;

/// Whether an opcode is one the kernel's interpreter table knows (`bpf_opcode_in_insntable`):
/// every form of kfvm's opcode table except the conformance suite's `callx`.
pub fn bpf_opcode_in_insntable(code: u8) -> bool {
    kfvm_isa::opcode::forms_of(code).any(|f| f.group != kfvm_isa::opcode::Group::Callx)
}

/// Mirrors the structural checks of `resolve_pseudo_ldimm64()`: `BPF_LDX` modes, the second slot
/// of every `lddw`, the `lddw` pseudo sources, and unknown opcodes. (Map and BTF-id resolution is
/// the loader's.)
pub fn resolve_pseudo_ldimm64(insns: &[RawInsn], log: &mut VerifierLog) -> Result<()> {
    let fail = |log: &mut VerifierLog, i: usize, msg: String| {
        verbose!(log, "{msg}\n");
        Err(VerifyError::reject(Errno::Inval, Some(i), msg))
    };
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        if insn.code & 7 == kfvm_isa::opcode::class::LDX
            && (!matches!(insn.code & 0xe0, 0x60 | 0x80) || insn.imm != 0)
        {
            return fail(log, i, "BPF_LDX uses reserved fields".into());
        }
        if insn.code == 0x18 {
            let next = insns.get(i + 1);
            if next.is_none_or(|n| n.code != 0 || n.regs != 0 || n.off != 0) {
                return fail(log, i, "invalid bpf_ld_imm64 insn".into());
            }
            let ok = match insn.src() {
                0..=4 => insn.src() != 1 || next.is_some_and(|n| n.imm == 0),
                5 => next.is_some_and(|n| n.imm == 0),
                6 => true,
                _ => false,
            };
            if !ok {
                return fail(log, i, "unrecognized bpf_ld_imm64 insn".into());
            }
            i += 2;
            continue;
        }
        if !bpf_opcode_in_insntable(insn.code) {
            return fail(log, i, format!("unknown opcode {:02x}", insn.code));
        }
        i += 1;
    }
    Ok(())
}

/// The figures of the closing statistics line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `insn_processed`.
    pub insn_processed: u32,
    /// `max_states_per_insn`.
    pub max_states_per_insn: u32,
    /// `total_states`.
    pub total_states: u32,
    /// `peak_states`.
    pub peak_states: u32,
    /// Stack depth of each subprogram.
    pub stack_depth: Vec<u32>,
}

/// The outcome of [`bpf_check_full`].
#[derive(Debug)]
pub struct Verdict {
    /// Accepted, rejected, or kfvm cannot tell.
    pub result: Result<()>,
    /// The log, as `BPF_PROG_LOAD` would fill `log_buf`.
    pub log: String,
    /// The statistics.
    pub stats: Stats,
    /// Loads the kernel would turn into `BPF_PROBE_MEM` loads (`convert_ctx_accesses()`):
    /// instruction indexes of loads through BTF pointers and untrusted read-only memory, which
    /// must read 0 instead of faulting when run. Filled for accepted programs.
    pub probe_mem_insns: Vec<usize>,
    /// kfvm's warnings (not the kernel's): calls of deprecated kfuncs, one line each, also in
    /// the log at every level above 0.
    pub warnings: Vec<String>,
    /// kfvm's hints for a rejection (not the kernel's): what to do, one line each. In the log
    /// right after the kernel's message when [`CheckOptions::hints`] is on.
    pub hints: Vec<String>,
}

/// Verifies `insns`, returning the verdict and the log.
pub fn bpf_check(insns: &[RawInsn], opts: &CheckOptions) -> (Result<()>, String) {
    let v = bpf_check_full(insns, opts, None);
    (v.result, v.log)
}

/// Verifies `insns` with the BTF names of `btf` (for the log), returning everything.
pub fn bpf_check_full(insns: &[RawInsn], opts: &CheckOptions, btf: Option<&dyn BtfEnv>) -> Verdict {
    let mut log = VerifierLog::with_size(opts.log_level, opts.log_size);
    log.set_line_info(&opts.line_info, insns.len());
    let mut stats = Stats::default();
    let mut probe_mem_insns = Vec::new();
    let mut notes = Notes::default();
    let mut result = run_passes(insns, opts, btf, &mut log, &mut stats, &mut probe_mem_insns, &mut notes);
    let warnings: Vec<String> = notes.warnings.into_iter().map(|(_, w)| w).collect();
    let hints: Vec<String> = match (&result, notes.hint) {
        (Err(VerifyError::Rejected(_)), Some(h)) => vec![h],
        _ => Vec::new(),
    };
    if log.needed() {
        if opts.hints {
            for h in &hints {
                log.push_str(&format!("hint: {h}\n"));
            }
        }
        for w in &warnings {
            log.push_str(&format!("warning: {w}\n"));
        }
        if log.level() & log::LOG_STATS != 0 {
            log.push_str("verification time 0 usec\n");
            let d: Vec<String> = stats.stack_depth.iter().map(|d| d.to_string()).collect();
            let d = if d.is_empty() { "0".to_string() } else { d.join("+") };
            log.push_str(&format!("stack depth {d}\n"));
        }
        log.push_str(&format!(
            "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} mark_read 0\n",
            stats.insn_processed,
            env::BPF_COMPLEXITY_LIMIT_INSNS,
            stats.max_states_per_insn,
            stats.total_states,
            stats.peak_states
        ));
    }
    // bpf_vlog_finalize(): a log that did not fit fails the load, whatever the verdict.
    if log.truncated() {
        match &mut result {
            Ok(()) => {
                result =
                    Err(VerifyError::reject(Errno::NoSpc, None, "the verifier log did not fit its buffer"))
            }
            Err(VerifyError::Rejected(r)) => r.errno = Errno::NoSpc,
            Err(_) => {}
        }
    }
    if result.is_err() {
        probe_mem_insns.clear();
    }
    Verdict { result, log: log.into_string(), stats, probe_mem_insns, warnings, hints }
}

/// What the walk says besides the verdict: kfvm's warnings and hint.
#[derive(Debug, Default)]
struct Notes {
    warnings: Vec<(usize, String)>,
    hint: Option<String>,
}

/// A kernel-looking address for map `idx` (the log prints the resolved `lddw`).
fn fake_map_addr(idx: u32) -> u64 {
    0xffff_8881_0000_0000 + (idx as u64 + 1) * 0x1_0000
}

/// Mirrors `check_map_prog_compatibility()` for the map properties kfvm models: spin locks in
/// socket filters and (non-BTF) tracing programs, and the map types sleepable programs may use.
/// `Err`: the errno and the message.
fn check_map_prog_compatibility(map: &MapInfo, opts: &CheckOptions) -> Result<(), (Errno, &'static str)> {
    use kfvm_uapi::MapType;
    // is_tracing_prog_type()
    let tracing = {
        use env::prog_type as pt;
        let raw_tp_w = kfvm_uapi::ProgType::RawTracepointWritable.as_u32();
        matches!(opts.prog_type, pt::KPROBE | pt::TRACEPOINT | pt::PERF_EVENT | pt::RAW_TRACEPOINT)
            || opts.prog_type == raw_tp_w
    };
    if map.record.spin_lock_off.is_some() {
        if opts.prog_type == env::prog_type::SOCKET_FILTER {
            return Err((Errno::Inval, "socket filter progs cannot use bpf_spin_lock yet"));
        }
        if tracing {
            return Err((Errno::Inval, "tracing progs cannot use bpf_spin_lock yet"));
        }
    }
    if map.map_type == MapType::StructOps.as_u32() {
        return Err((Errno::Inval, "bpf_struct_ops map cannot be used in prog"));
    }
    if opts.sleepable {
        let ok = [
            MapType::Hash,
            MapType::LruHash,
            MapType::Array,
            MapType::PercpuHash,
            MapType::PercpuArray,
            MapType::LruPercpuHash,
            MapType::ArrayOfMaps,
            MapType::HashOfMaps,
            MapType::Ringbuf,
            MapType::UserRingbuf,
            MapType::InodeStorage,
            MapType::SkStorage,
            MapType::TaskStorage,
            MapType::CgrpStorage,
            MapType::Queue,
            MapType::Stack,
            MapType::Arena,
        ]
        .iter()
        .any(|t| t.as_u32() == map.map_type);
        if !ok {
            return Err((
                Errno::Inval,
                "Sleepable programs can only use array, hash, ringbuf and local storage maps",
            ));
        }
    }
    Ok(())
}

/// Mirrors the map part of `resolve_pseudo_ldimm64()`: which map each `lddw` names.
fn resolve_maps(
    insns: &mut [RawInsn],
    aux: &mut [env::InsnAux],
    opts: &CheckOptions,
    log: &mut VerifierLog,
) -> Result<()> {
    let mut used = vec![false; opts.maps.len()];
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        if insn.code == 0x18 && insn.src() == 3 {
            // check_pseudo_btf_id(): a typed ksym of vmlinux (a module's BTF fd is not modelled).
            let Some(btf) = opts.kernel_btf.as_deref() else {
                return Err(VerifyError::Unsupported("typed ksyms need the kernel BTF".into()));
            };
            if insns[i + 1].imm != 0 {
                return Err(VerifyError::Unsupported(
                    "typed ksyms of kernel modules (btf_fd in lddw)".into(),
                ));
            }
            match btf_access::check_pseudo_btf_id(btf, insn.imm as u32) {
                Ok(var) => aux[i].btf_var = Some(var),
                Err((errno, msg)) => {
                    verbose!(log, "{msg}\n");
                    return Err(VerifyError::reject(errno, Some(i), msg));
                }
            }
        }
        if insn.code == 0x18 && matches!(insn.src(), 1 | 2 | 5 | 6) {
            let idx = insn.imm;
            if idx < 0 || idx as usize >= opts.maps.len() {
                let msg = format!("fd {idx} is not pointing to valid bpf_map");
                verbose!(log, "{msg}\n");
                return Err(VerifyError::reject(Errno::Inval, Some(i), msg));
            }
            let map = &opts.maps[idx as usize];
            // __add_used_map(): each map is checked against the program once, when first named.
            if !used[idx as usize] {
                used[idx as usize] = true;
                if let Err((errno, msg)) = check_map_prog_compatibility(map, opts) {
                    verbose!(log, "{msg}\n");
                    return Err(VerifyError::reject(errno, Some(i), msg));
                }
            }
            let mut addr = fake_map_addr(idx as u32);
            if matches!(insn.src(), 2 | 6) {
                let off = insns[i + 1].imm as u32;
                if map.map_type != env::map_type::ARRAY {
                    let msg = "no direct value access support for this map type".to_string();
                    verbose!(log, "{msg}\n");
                    return Err(VerifyError::reject(Errno::Inval, Some(i), msg));
                }
                if map.max_entries != 1 || off >= map.value_size {
                    let msg = format!(
                        "invalid access to map value pointer, value_size={} off={off}",
                        map.value_size
                    );
                    verbose!(log, "{msg}\n");
                    return Err(VerifyError::reject(Errno::Inval, Some(i), msg));
                }
                addr += off as u64;
                aux[i].map_off = off;
            }
            aux[i].map_index = Some(idx as u32);
            insns[i].imm = addr as u32 as i32;
            insns[i + 1].imm = (addr >> 32) as u32 as i32;
        }
        if insn.code == 0x18 {
            i += 1;
        }
        i += 1;
    }
    Ok(())
}

fn run_passes(
    insns: &[RawInsn],
    opts: &CheckOptions,
    btf: Option<&dyn BtfEnv>,
    log: &mut VerifierLog,
    stats: &mut Stats,
    probe_mem_insns: &mut Vec<usize>,
    notes: &mut Notes,
) -> Result<()> {
    if insns.is_empty() {
        return Err(VerifyError::reject(Errno::Inval, None, "program has no instructions"));
    }
    btf_func::check_btf_func_early(opts, log)?;
    let (mut subprogs, _kfunc_calls) = cfg::add_subprog_and_kfunc(insns, opts, log)?;
    cfg::check_subprogs(insns, &mut subprogs, log)?;
    let func_info_aux = btf_func::check_btf_info(opts, &subprogs, log)?;
    resolve_pseudo_ldimm64(insns, log)?;
    let mut patched = insns.to_vec();
    let mut aux = vec![env::InsnAux::default(); insns.len()];
    resolve_maps(&mut patched, &mut aux, opts, log)?;
    let cfg_info = cfg::check_cfg(insns, opts.bpf_capable, log)?;
    for (i, a) in aux.iter_mut().enumerate() {
        a.prune_point = cfg_info.prune_point[i];
        a.jmp_point = cfg_info.jmp_point[i];
        a.force_checkpoint = cfg_info.force_checkpoint[i];
        a.calls_callback = cfg_info.calls_callback[i];
    }
    iter::mark_iter_next_checkpoints(insns, opts, &mut aux);
    let taken_log = std::mem::take(log);
    let mut env = new_env(patched, aux, subprogs, opts, btf, taken_log);
    env.func_info_aux = func_info_aux;
    let r = run_walk(&mut env);
    notes.warnings = std::mem::take(&mut env.warnings);
    notes.hint = env.hint.take();
    stats.insn_processed = env.insn_processed;
    stats.max_states_per_insn = env.max_states_per_insn;
    stats.total_states = env.total_states;
    stats.peak_states = env.peak_states;
    stats.stack_depth = env.subprogs[..env.subprog_cnt].iter().map(|s| s.stack_depth).collect();
    *probe_mem_insns = env.aux.iter().enumerate().filter(|(_, a)| a.probe_mem).map(|(i, _)| i).collect();
    *log = std::mem::take(&mut env.log);
    r
}

/// The verifier's environment for `insns` (already patched), before `do_check`.
pub(crate) fn new_env<'a>(
    patched: Vec<RawInsn>,
    aux: Vec<env::InsnAux>,
    mut subprogs: Vec<cfg::SubprogInfo>,
    opts: &'a CheckOptions,
    btf: Option<&'a dyn BtfEnv>,
    taken_log: VerifierLog,
) -> env::Env<'a> {
    let subprog_cnt = subprogs.len();
    subprogs.push(cfg::SubprogInfo { start: patched.len(), ..Default::default() });
    let n = patched.len();
    env::Env {
        insns: patched,
        opts,
        btf,
        aux,
        subprogs,
        func_info_aux: Vec::new(),
        postorder: Vec::new(),
        log: taken_log,
        cur: state::VerifierState::new(state::FuncState::new(-1, 0, 0)),
        stack: Vec::new(),
        states: Vec::new(),
        explored: vec![Vec::new(); n],
        insn_idx: 0,
        prev_insn_idx: -1,
        insn_processed: 0,
        prev_insn_processed: 0,
        jmps_processed: 0,
        prev_jmps_processed: 0,
        total_states: 0,
        peak_states: 0,
        max_states_per_insn: 0,
        explored_states_size: 0,
        free_list_size: 0,
        num_backedges: 0,
        id_gen: 0,
        scratched_regs: 0,
        scratched_stack_slots: 0,
        prev_log_pos: 0,
        prev_insn_print_pos: 0,
        bt: Default::default(),
        liveness: Default::default(),
        cur_hist_ent: None,
        bpf_capable: opts.bpf_capable,
        allow_ptr_leaks: opts.perfmon,
        allow_uninit_stack: opts.perfmon,
        bypass_spec_v1: opts.perfmon,
        bypass_spec_v4: opts.perfmon,
        seen_direct_write: false,
        scc_visits: Vec::new(),
        scc_cnt: 0,
        subprog_cnt,
        test_state_freq: opts.test_state_freq && opts.bpf_capable,
        fake_reg: state::RegState::not_init(),
        nr_cpu_ids: opts.nr_cpu_ids,
        attach: Default::default(),
        warnings: Vec::new(),
        hint: None,
    }
}

/// The passes from `compute_postorder()` on.
fn run_walk(env: &mut env::Env<'_>) -> Result<()> {
    liveness::compute_postorder(env);
    check_attach_btf_id(env)?;
    prune::compute_scc(env);
    liveness::compute_live_registers(env);
    env.insn_idx = 0;
    env.do_check_common(0)?;
    env.do_check_subprogs()?;
    call::check_max_stack_depth(env)?;
    kfunc::fixup_kfunc_calls(env)?;
    misc_fixups_stack_depth(env);
    Ok(())
}

/// The stack `do_misc_fixups()` adds after a successful check, which the statistics line
/// (`stack depth N`) shows: a subprogram with a `may_goto` gets 16 bytes for the timed
/// `may_goto` counter and start time (x86-64 JITs support timed `may_goto`).
fn misc_fixups_stack_depth(env: &mut env::Env<'_>) {
    // optimize_bpf_loop(): an inlined bpf_loop() spills R6-R8 below the subprogram's stack.
    for i in 0..env.subprog_cnt {
        let (start, end) = (env.subprogs[i].start, env.subprogs[i + 1].start);
        let inlined = (start..end).any(|j| {
            let insn = env.insns[j];
            insn.code == 0x85 && insn.src() == 0 && insn.imm == 181 && env.aux[j].loop_inline_state.1
        });
        if inlined {
            let d = env.subprogs[i].stack_depth;
            env.subprogs[i].stack_depth += 24 + (d.next_multiple_of(8) - d);
        }
    }
    for i in 0..env.subprog_cnt {
        let start = env.subprogs[i].start;
        let end = env.subprogs[i + 1].start;
        if env.insns[start..end].iter().any(|insn| insn.code == 0xe5) {
            env.subprogs[i].stack_depth += 16;
        }
    }
}

/// Mirrors `check_attach_btf_id()` for the program types kfvm knows.
fn check_attach_btf_id(env: &mut env::Env<'_>) -> Result<()> {
    use env::prog_type;
    let t = env.opts.prog_type;
    if t == prog_type::SYSCALL {
        if env.opts.sleepable {
            return Ok(());
        }
        return Err(env.reject(Errno::Inval, "Syscall programs can only be sleepable"));
    }
    // can_be_sleepable()
    let sleepable_type = match t {
        prog_type::TRACING => matches!(
            env.opts.expected_attach_type,
            ctx::attach::TRACE_FENTRY
                | ctx::attach::TRACE_FEXIT
                | ctx::attach::MODIFY_RETURN
                | ctx::attach::TRACE_ITER
        ),
        _ => matches!(t, prog_type::LSM | prog_type::KPROBE),
    };
    if env.opts.sleepable && !sleepable_type {
        return Err(env.reject(
            Errno::Inval,
            "Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable",
        ));
    }
    if t == prog_type::LSM {
        return Err(VerifyError::Unsupported("LSM programs".into()));
    }
    if t == prog_type::TRACING {
        return ctx::bpf_check_attach_target(env);
    }
    Ok(())
}
