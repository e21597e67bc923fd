//! The verifier's environment (`struct bpf_verifier_env`): the program, what the loader asked
//! for ([`CheckOptions`]), the maps it uses ([`MapInfo`]), per-instruction data
//! (`struct bpf_insn_aux_data`), subprograms, the explored states and the counters behind the
//! closing statistics line.

use crate::cfg::SubprogInfo;
use crate::liveness::Liveness;
use crate::log::VerifierLog;
use crate::precision::BacktrackState;
use crate::state::{RegState, StateId, VerifierState};
use kfvm_isa::RawInsn;

/// `BPF_COMPLEXITY_LIMIT_INSNS`.
pub const BPF_COMPLEXITY_LIMIT_INSNS: u32 = 1_000_000;
/// `BPF_COMPLEXITY_LIMIT_JMP_SEQ`: most pending branches.
pub const BPF_COMPLEXITY_LIMIT_JMP_SEQ: usize = 8192;
/// `BPF_COMPLEXITY_LIMIT_STATES`: states per instruction for unprivileged loaders.
pub const BPF_COMPLEXITY_LIMIT_STATES: usize = 64;

/// `enum bpf_prog_type` values the verifier names, as `u32` ([`crate::CheckOptions::prog_type`]), from
/// [`kfvm_uapi::ProgType`].
pub mod prog_type {
    use kfvm_uapi::ProgType;
    /// `BPF_PROG_TYPE_SOCKET_FILTER`
    pub const SOCKET_FILTER: u32 = ProgType::SocketFilter.as_u32();
    /// `BPF_PROG_TYPE_KPROBE`
    pub const KPROBE: u32 = ProgType::Kprobe.as_u32();
    /// `BPF_PROG_TYPE_SCHED_CLS`
    pub const SCHED_CLS: u32 = ProgType::SchedCls.as_u32();
    /// `BPF_PROG_TYPE_SCHED_ACT`
    pub const SCHED_ACT: u32 = ProgType::SchedAct.as_u32();
    /// `BPF_PROG_TYPE_TRACEPOINT`
    pub const TRACEPOINT: u32 = ProgType::Tracepoint.as_u32();
    /// `BPF_PROG_TYPE_XDP`
    pub const XDP: u32 = ProgType::Xdp.as_u32();
    /// `BPF_PROG_TYPE_PERF_EVENT`
    pub const PERF_EVENT: u32 = ProgType::PerfEvent.as_u32();
    /// `BPF_PROG_TYPE_CGROUP_SKB`
    pub const CGROUP_SKB: u32 = ProgType::CgroupSkb.as_u32();
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`
    pub const RAW_TRACEPOINT: u32 = ProgType::RawTracepoint.as_u32();
    /// `BPF_PROG_TYPE_TRACING`
    pub const TRACING: u32 = ProgType::Tracing.as_u32();
    /// `BPF_PROG_TYPE_LSM`
    pub const LSM: u32 = ProgType::Lsm.as_u32();
    /// `BPF_PROG_TYPE_SYSCALL`
    pub const SYSCALL: u32 = ProgType::Syscall.as_u32();
}

/// `enum bpf_map_type` values the verifier names, as `u32` ([`MapInfo::map_type`]), from
/// [`kfvm_uapi::MapType`].
pub mod map_type {
    use kfvm_uapi::MapType;
    /// `BPF_MAP_TYPE_HASH`
    pub const HASH: u32 = MapType::Hash.as_u32();
    /// `BPF_MAP_TYPE_ARRAY`
    pub const ARRAY: u32 = MapType::Array.as_u32();
    /// `BPF_MAP_TYPE_PROG_ARRAY`
    pub const PROG_ARRAY: u32 = MapType::ProgArray.as_u32();
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`
    pub const PERF_EVENT_ARRAY: u32 = MapType::PerfEventArray.as_u32();
    /// `BPF_MAP_TYPE_PERCPU_HASH`
    pub const PERCPU_HASH: u32 = MapType::PercpuHash.as_u32();
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`
    pub const PERCPU_ARRAY: u32 = MapType::PercpuArray.as_u32();
    /// `BPF_MAP_TYPE_LRU_HASH`
    pub const LRU_HASH: u32 = MapType::LruHash.as_u32();
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`
    pub const ARRAY_OF_MAPS: u32 = MapType::ArrayOfMaps.as_u32();
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`
    pub const HASH_OF_MAPS: u32 = MapType::HashOfMaps.as_u32();
    /// `BPF_MAP_TYPE_QUEUE`
    pub const QUEUE: u32 = MapType::Queue.as_u32();
    /// `BPF_MAP_TYPE_STACK`
    pub const STACK: u32 = MapType::Stack.as_u32();
    /// `BPF_MAP_TYPE_RINGBUF`
    pub const RINGBUF: u32 = MapType::Ringbuf.as_u32();
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
    pub const LRU_PERCPU_HASH: u32 = MapType::LruPercpuHash.as_u32();
    /// `BPF_MAP_TYPE_BLOOM_FILTER`.
    pub const BLOOM_FILTER: u32 = MapType::BloomFilter.as_u32();
}

/// `BPF_F_RDONLY_PROG`: the program may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_WRONLY_PROG`: the program may only write the map.
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;

/// The special fields of a map value (`struct btf_record`), from the map's BTF.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfRecord {
    /// Offset of the `struct bpf_spin_lock`.
    pub spin_lock_off: Option<u32>,
    /// Offset of the `struct bpf_timer`.
    pub timer_off: Option<u32>,
    /// `__kptr` fields: offset, referenced (`__kptr` vs `__kptr_untrusted`), BTF object and type.
    pub kptrs: Vec<KptrField>,
}

/// A `__kptr` field of a map value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KptrField {
    /// Offset in the value.
    pub off: u32,
    /// `BPF_KPTR_REF` (else `BPF_KPTR_UNREF`, or `BPF_KPTR_PERCPU` with
    /// [`percpu`](Self::percpu)).
    pub referenced: bool,
    /// `BPF_KPTR_PERCPU` (`__percpu_kptr`): a per-CPU object the program allocated.
    pub percpu: bool,
    /// BTF object of the pointee.
    pub btf: u32,
    /// BTF type of the pointee.
    pub btf_id: u32,
}

impl BtfRecord {
    /// Every special field as `(offset, size)`, for `check_map_access()`.
    pub fn fields(&self) -> Vec<(u32, u32, &'static str)> {
        let mut v = Vec::new();
        if let Some(o) = self.spin_lock_off {
            v.push((o, 4, "bpf_spin_lock"));
        }
        if let Some(o) = self.timer_off {
            v.push((o, 16, "bpf_timer"));
        }
        for k in &self.kptrs {
            v.push((k.off, 8, if k.percpu { "percpu_kptr" } else { "kptr" }));
        }
        v
    }
}

/// What the verifier knows of a map (`struct bpf_map`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapInfo {
    /// `map_type`.
    pub map_type: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `name` (at most 15 bytes).
    pub name: String,
    /// Special fields of the value.
    pub record: BtfRecord,
    /// For a map of maps, the inner map's template (`inner_map_meta`).
    pub inner: Option<Box<MapInfo>>,
    /// The map was frozen (`bpf_map_is_rdonly()` with `BPF_F_RDONLY_PROG`).
    pub frozen: bool,
    /// The map was created with BTF for its key and value (`map->btf`); a non-empty
    /// [`record`](Self::record) implies it.
    pub has_btf: bool,
    /// The value of a frozen single-element array (`.rodata`, `.kconfig`): what
    /// `bpf_map_direct_read()` reads when [`frozen`](Self::frozen) and `BPF_F_RDONLY_PROG` make
    /// the map read-only. `None`: the contents are unknown to the verifier.
    pub frozen_value: Option<std::sync::Arc<[u8]>>,
}

impl MapInfo {
    /// A map without BTF.
    pub fn new(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapInfo {
        MapInfo { map_type, key_size, value_size, max_entries, ..Default::default() }
    }

    /// `map->btf != NULL`.
    pub fn btf(&self) -> bool {
        self.has_btf || self.record != BtfRecord::default()
    }
}

/// Names of BTF types, for the log (`ptr_task_struct`). The kfunc issue supplies the real one.
pub trait BtfEnv: core::fmt::Debug {
    /// The name of type `btf_id` in BTF object `btf`.
    fn type_name(&self, btf: u32, btf_id: u32) -> String;
}

/// What the caller of [`crate::bpf_check`] controls: the loader's `BPF_PROG_LOAD` attributes
/// and capabilities.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// `prog_type`.
    pub prog_type: u32,
    /// `expected_attach_type`.
    pub expected_attach_type: u32,
    /// `BPF_F_SLEEPABLE`.
    pub sleepable: bool,
    /// `BPF_F_TEST_STATE_FREQ`.
    pub test_state_freq: bool,
    /// The loader has `CAP_BPF`: bpf-to-bpf calls, kfuncs, loops, precision tracking.
    pub bpf_capable: bool,
    /// The loader has `CAP_PERFMON`: pointer leaks, uninitialised stack reads, no Spectre
    /// mitigations.
    pub perfmon: bool,
    /// Log level (see [`crate::log`]).
    pub log_level: u32,
    /// `log_size`: the log buffer's size in bytes (0: unlimited). A log that outgrows it is cut
    /// to its last bytes and the load fails with `ENOSPC`, as in the kernel.
    pub log_size: u32,
    /// The maps of `fd_array` / `BPF_PSEUDO_MAP_IDX` (and `BPF_PSEUDO_MAP_FD` N for map N).
    pub maps: Vec<MapInfo>,
    /// `nr_cpu_ids` of the machine (bounds `bpf_get_smp_processor_id()`).
    pub nr_cpu_ids: u32,
    /// The program's BTF and `func_info` (`prog_btf_fd`, `func_info`): needed for callbacks
    /// (`bpf_loop`) and global functions.
    pub prog_btf: Option<ProgBtf>,
    /// The kernel's BTF (`btf_vmlinux`): BTF object [`BTF_VMLINUX`] of [`RegState::btf`]
    /// (`crate::state::RegState`). Types of `PTR_TO_BTF_ID` registers, tracing contexts, kfunc
    /// prototypes. `None`: programs that need it are [`crate::VerifyError::Unsupported`].
    pub kernel_btf: Option<std::sync::Arc<kfvm_btf::Btf>>,
    /// `attach_btf_id`: for `tp_btf/`, `fentry/`, `fexit/`, `lsm/`, ... the id in
    /// [`kernel_btf`](Self::kernel_btf) of the function or `btf_trace_*` typedef attached to.
    pub attach_btf_id: u32,
    /// The kfuncs of the kernel, by BTF id in [`kernel_btf`](Self::kernel_btf), as the
    /// registry gives them for this program (its program type's hook, filters applied).
    pub kfuncs: std::sync::Arc<KfuncTable>,
    /// The loader has `CAP_SYS_BOOT` (`KF_DESTRUCTIVE` kfuncs).
    pub sys_boot: bool,
    /// kfvm's own rule: a call to a `KF_DEPRECATED` kfunc is refused instead of warned about.
    pub deny_deprecated: bool,
    /// The program's license is GPL-compatible (`prog->gpl_compatible`): loads through kernel
    /// BTF pointers and GPL-only helpers need it.
    pub gpl_compatible: bool,
    /// kfvm's own help: after the kernel's message of a rejection, one `hint: ...` line saying
    /// what to do ([`crate::Verdict::hints`]). Off by default so logs stay the kernel's.
    pub hints: bool,
    /// The program's `line_info` records, by instruction: the `; line @ file:N` lines of the
    /// log (`verbose_linfo()`) and hints naming source lines.
    pub line_info: Vec<LineInfo>,
}

/// One `struct bpf_line_info` record, resolved: where instruction `insn_off` comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineInfo {
    /// First instruction of the line.
    pub insn_off: u32,
    /// The source file (as the BTF names it).
    pub file: String,
    /// The line number.
    pub line: u32,
    /// The source line's text (`line_off`).
    pub source: String,
    /// `file_name_off`: records of the same file have the same offset (the kernel compares it).
    pub file_name_off: u32,
}

/// The BTF object number of the kernel's BTF in [`crate::state::RegState::btf`].
pub const BTF_VMLINUX: u32 = 1;
/// The BTF object number of the program's own BTF (`bpf_obj_new` local types).
pub const BTF_PROG: u32 = 2;

/// What the verifier knows of one kfunc (`struct bpf_kfunc_call_arg_meta` inputs:
/// `btf_kfunc_id_set_contains()` and `kfunc_flags`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KfuncDesc {
    /// The `FUNC`'s id in the kernel BTF.
    pub btf_id: u32,
    /// Its name.
    pub name: String,
    /// `KF_*` flags, the kernel's values (`include/linux/btf.h`).
    pub flags: u32,
    /// kfvm's `KF_DEPRECATED` (the kernel only documents it): calls are warned about in the
    /// log, or refused with [`CheckOptions::deny_deprecated`].
    pub deprecated: bool,
    /// In the common hook or this program type's hook, and not hidden by a filter: else
    /// `calling kernel function X is not allowed`.
    pub allowed: bool,
    /// For `KF_DEPRECATED`: the kfunc to use instead.
    pub replacement: Option<String>,
    /// For `KF_DEPRECATED`: the release that removes it.
    pub removal: Option<String>,
    /// The program types that may call it (for hints when [`allowed`](Self::allowed) is false).
    pub allowed_prog_types: Vec<String>,
}

/// The kfuncs a program may see, by BTF id.
#[derive(Clone, Debug, Default)]
pub struct KfuncTable {
    /// By BTF id.
    pub by_id: std::collections::BTreeMap<u32, KfuncDesc>,
}

impl KfuncTable {
    /// The kfunc with BTF id `id`.
    pub fn get(&self, id: u32) -> Option<&KfuncDesc> {
        self.by_id.get(&id)
    }

    /// Adds or replaces `k`.
    pub fn insert(&mut self, k: KfuncDesc) {
        self.by_id.insert(k.btf_id, k);
    }
}

/// The program's own BTF with its `func_info` records.
#[derive(Clone, Debug)]
pub struct ProgBtf {
    /// The BTF (`prog_btf_fd`).
    pub btf: std::sync::Arc<kfvm_btf::Btf>,
    /// `struct bpf_func_info` records: (`insn_off`, `type_id` of a `FUNC`), one per
    /// subprogram, in order.
    pub func_info: Vec<(u32, u32)>,
}

/// `struct bpf_func_info_aux` and the argument part of `struct bpf_subprog_info`.
#[derive(Clone, Debug, Default)]
pub struct FuncInfoAux {
    /// `linkage`: `BTF_FUNC_STATIC` (0), `BTF_FUNC_GLOBAL` (1), `BTF_FUNC_EXTERN` (2).
    pub linkage: u16,
    /// `unreliable`: the BTF does not match how the function is called.
    pub unreliable: bool,
    /// `called`: a global function some verified path calls.
    pub called: bool,
    /// `verified`.
    pub verified: bool,
    /// `args_cached`.
    pub args_cached: bool,
    /// `args`, from `btf_prepare_func_args()`.
    pub args: Vec<SubprogArg>,
    /// The error number of the last argument mismatch that is not `-EINVAL` (a
    /// `check_reg_type()` refusal of an `arg:trusted` argument is `-EACCES`), for the caller's
    /// `Caller passes invalid args` rejection.
    pub arg_errno: Option<crate::error::Errno>,
}

/// `struct bpf_subprog_arg_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubprogArg {
    /// `ARG_ANYTHING`: a scalar.
    Anything,
    /// `ARG_PTR_TO_CTX`.
    Ctx,
    /// `ARG_PTR_TO_MEM` of `mem_size` bytes (`PTR_MAYBE_NULL` unless `__arg_nonnull`).
    Mem {
        /// `mem_size`.
        size: u32,
        /// `PTR_MAYBE_NULL`.
        maybe_null: bool,
    },
    /// `ARG_PTR_TO_BTF_ID | PTR_TRUSTED` (`__arg_trusted`, `PTR_MAYBE_NULL` with
    /// `__arg_nullable`): a kernel object of type `btf_id` of the kernel BTF.
    TrustedBtfId {
        /// The kernel type.
        btf_id: u32,
        /// `PTR_MAYBE_NULL`.
        maybe_null: bool,
    },
}

/// `BTF_FUNC_GLOBAL`.
pub const BTF_FUNC_GLOBAL: u16 = 1;

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            prog_type: prog_type::SOCKET_FILTER,
            expected_attach_type: 0,
            sleepable: false,
            test_state_freq: false,
            bpf_capable: true,
            perfmon: true,
            log_level: 0,
            log_size: 0,
            maps: Vec::new(),
            nr_cpu_ids: 2,
            prog_btf: None,
            kernel_btf: None,
            attach_btf_id: 0,
            kfuncs: Default::default(),
            sys_boot: true,
            deny_deprecated: false,
            gpl_compatible: true,
            hints: false,
            line_info: Vec::new(),
        }
    }
}

/// `struct bpf_insn_aux_data`, the parts kfvm keeps.
#[derive(Clone, Debug, Default)]
pub struct InsnAux {
    /// `prune_point`.
    pub prune_point: bool,
    /// `jmp_point`.
    pub jmp_point: bool,
    /// `force_checkpoint`.
    pub force_checkpoint: bool,
    /// `calls_callback`.
    pub calls_callback: bool,
    /// `live_regs_before`: R0..R9.
    pub live_regs_before: u16,
    /// `scc`: the strongly connected component (0: none).
    pub scc: u32,
    /// `ptr_type` of a load or store (`save_aux_ptr_type`), `NOT_INIT` if unseen.
    pub ptr_type: u32,
    /// `seen`: the walk reached the instruction.
    pub seen: bool,
    /// `map_index` of a map `lddw`.
    pub map_index: Option<u32>,
    /// `map_off` of a map-value `lddw`.
    pub map_off: u32,
    /// `is_iter_next`.
    pub is_iter_next: bool,
    /// `loop_inline_state`: (`initialized`, `fit_for_inline`, `callback_subprogno`).
    pub loop_inline_state: (bool, bool, u32),
    /// `btf_var` of a `BPF_PSEUDO_BTF_ID` `lddw` (a typed ksym).
    pub btf_var: Option<crate::btf_access::BtfVar>,
    /// A load through a BTF pointer (or untrusted read-only memory) on some path: the kernel's
    /// `convert_ctx_accesses()` makes it a `BPF_PROBE_MEM` load, which reads 0 on a fault.
    pub probe_mem: bool,
}

/// `struct bpf_verifier_stack_elem`: a branch to explore later.
#[derive(Clone, Debug)]
pub struct StackElem {
    /// The state before `insn_idx`.
    pub st: VerifierState,
    /// Where to continue.
    pub insn_idx: u32,
    /// The instruction the branch was taken from.
    pub prev_insn_idx: i32,
    /// Length of the log when the branch was pushed.
    pub log_pos: usize,
}

/// `struct bpf_verifier_state_list`: a checkpoint.
#[derive(Clone, Debug)]
pub struct StateListEntry {
    /// The state.
    pub state: VerifierState,
    /// `miss_cnt`.
    pub miss_cnt: u32,
    /// `hit_cnt`.
    pub hit_cnt: u32,
    /// `in_free_list`.
    pub in_free_list: bool,
    /// The state was freed (`maybe_free_verifier_state`); kept so ids stay valid.
    pub freed: bool,
}

/// `struct bpf_scc_callchain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SccCallchain {
    /// `callsites`.
    pub callsites: [u32; crate::state::MAX_CALL_FRAMES - 1],
    /// `scc`.
    pub scc: u32,
}

/// `struct bpf_scc_visit`.
#[derive(Clone, Debug)]
pub struct SccVisit {
    /// `callchain`.
    pub callchain: SccCallchain,
    /// `entry_state`.
    pub entry_state: Option<StateId>,
    /// `backedges`, newest first.
    pub backedges: Vec<VerifierState>,
}

/// `struct bpf_verifier_env`.
#[derive(Debug)]
pub struct Env<'a> {
    /// The program (with `lddw` immediates of maps replaced by fake addresses for the log).
    pub insns: Vec<RawInsn>,
    /// The loader's options.
    pub opts: &'a CheckOptions,
    /// Names of BTF types.
    pub btf: Option<&'a dyn BtfEnv>,
    /// Per-instruction data.
    pub aux: Vec<InsnAux>,
    /// Subprograms, with a sentinel whose `start` is the program length.
    pub subprogs: Vec<SubprogInfo>,
    /// `prog->aux->func_info_aux`, one per subprogram; empty without `func_info`.
    pub func_info_aux: Vec<FuncInfoAux>,
    /// Instructions in depth-first post-order, per subprogram (`cfg.insn_postorder`).
    pub postorder: Vec<usize>,
    /// The log.
    pub log: VerifierLog,
    /// `cur_state`.
    pub cur: VerifierState,
    /// `head`: branches still to explore, the next one last.
    pub stack: Vec<StackElem>,
    /// Checkpoints (arena; never shrinks).
    pub states: Vec<StateListEntry>,
    /// `explored_states` buckets: checkpoints in each, oldest first.
    pub explored: Vec<Vec<StateId>>,
    /// `insn_idx`.
    pub insn_idx: u32,
    /// `prev_insn_idx`.
    pub prev_insn_idx: i32,
    /// `insn_processed`.
    pub insn_processed: u32,
    /// `prev_insn_processed`.
    pub prev_insn_processed: u32,
    /// `jmps_processed`.
    pub jmps_processed: u32,
    /// `prev_jmps_processed`.
    pub prev_jmps_processed: u32,
    /// `total_states`.
    pub total_states: u32,
    /// `peak_states`.
    pub peak_states: u32,
    /// `max_states_per_insn`.
    pub max_states_per_insn: u32,
    /// `explored_states_size`.
    pub explored_states_size: u32,
    /// `free_list_size`.
    pub free_list_size: u32,
    /// `num_backedges`.
    pub num_backedges: u32,
    /// `id_gen`.
    pub id_gen: u32,
    /// `scratched_regs`.
    pub scratched_regs: u32,
    /// `scratched_stack_slots`.
    pub scratched_stack_slots: u64,
    /// `prev_log_pos`.
    pub prev_log_pos: usize,
    /// `prev_insn_print_pos`.
    pub prev_insn_print_pos: usize,
    /// `bt`.
    pub bt: BacktrackState,
    /// The stack liveness analysis (`env->liveness`).
    pub liveness: Liveness,
    /// `cur_hist_ent`: the history entry of the current instruction, if recorded.
    pub cur_hist_ent: Option<usize>,
    /// `bpf_capable`.
    pub bpf_capable: bool,
    /// `allow_ptr_leaks`.
    pub allow_ptr_leaks: bool,
    /// `allow_uninit_stack`.
    pub allow_uninit_stack: bool,
    /// `bypass_spec_v1`.
    pub bypass_spec_v1: bool,
    /// `bypass_spec_v4`.
    pub bypass_spec_v4: bool,
    /// `seen_direct_write`.
    pub seen_direct_write: bool,
    /// `scc_info`: visits per SCC.
    pub scc_visits: Vec<Vec<SccVisit>>,
    /// `scc_cnt`.
    pub scc_cnt: u32,
    /// `subprog_cnt` excluding the sentinel.
    pub subprog_cnt: usize,
    /// `test_state_freq`.
    pub test_state_freq: bool,
    /// `fake_reg[0]`, used for constant operands.
    pub fake_reg: RegState,
    /// `nr_cpu_ids`.
    pub nr_cpu_ids: u32,
    /// What a program attached through BTF is attached to (`bpf_check_attach_target()`).
    pub attach: crate::ctx::AttachTarget,
    /// kfvm's warnings (deprecated kfuncs), by instruction: `(insn_idx, text)`.
    pub warnings: Vec<(usize, String)>,
    /// kfvm's hint for the rejection being reported (see [`CheckOptions::hints`]).
    pub hint: Option<String>,
}

impl Env<'_> {
    /// The map of a register (`reg->map_ptr`).
    pub fn map(&self, idx: u32) -> &MapInfo {
        &self.opts.maps[(idx - 1) as usize]
    }

    /// `subprog_info[i].start`.
    pub fn subprog_start(&self, i: usize) -> usize {
        self.subprogs[i].start
    }

    /// Mirrors `bpf_find_containing_subprog()`: the subprogram holding instruction `off`.
    pub fn find_containing_subprog(&self, off: usize) -> usize {
        let mut i = 0;
        while i + 1 < self.subprog_cnt && self.subprogs[i + 1].start <= off {
            i += 1;
        }
        i
    }

    /// Mirrors `find_subprog()`: the subprogram starting at `off`.
    pub fn find_subprog(&self, off: usize) -> Option<usize> {
        self.subprogs[..self.subprog_cnt].iter().position(|s| s.start == off)
    }

    /// `mark_reg_scratched()`.
    pub fn mark_reg_scratched(&mut self, regno: usize) {
        self.scratched_regs |= 1 << regno;
    }

    /// `mark_stack_slot_scratched()`.
    pub fn mark_stack_slot_scratched(&mut self, spi: usize) {
        if spi < 64 {
            self.scratched_stack_slots |= 1 << spi;
        }
    }

    /// `mark_verifier_state_scratched()`.
    pub fn mark_verifier_state_scratched(&mut self) {
        self.scratched_regs = !0;
        self.scratched_stack_slots = !0;
    }

    /// `mark_verifier_state_clean()`.
    pub fn mark_verifier_state_clean(&mut self) {
        self.scratched_regs = 0;
        self.scratched_stack_slots = 0;
    }

    /// `verifier_state_scratched()`.
    pub fn verifier_state_scratched(&self) -> bool {
        self.scratched_regs != 0 || self.scratched_stack_slots != 0
    }

    /// `is_prune_point()`.
    pub fn is_prune_point(&self, idx: usize) -> bool {
        self.aux[idx].prune_point
    }

    /// `is_jmp_point()`.
    pub fn is_jmp_point(&self, idx: usize) -> bool {
        self.aux[idx].jmp_point
    }

    /// `bpf_calls_callback()`.
    pub fn calls_callback(&self, idx: usize) -> bool {
        self.aux[idx].calls_callback
    }

    /// A new id (`++env->id_gen`).
    pub fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }
}
