//! The verifier's state: registers (`struct bpf_reg_state`), stack slots
//! (`struct bpf_stack_state`), frames (`struct bpf_func_state`), references
//! (`struct bpf_reference_state`) and the whole state of one path (`struct bpf_verifier_state`),
//! with the kernel's register-marking functions (`__mark_reg_known`, `__mark_reg_unknown`,
//! `mark_ptr_not_null_reg`, ...).
//!
//! Register types are the kernel's `enum bpf_reg_type` values: a base type in the low 8 bits and
//! `enum bpf_type_flag` modifiers above ([`PTR_MAYBE_NULL`], [`MEM_RDONLY`], [`PTR_TRUSTED`],
//! [`MEM_RCU`], [`MEM_ALLOC`], ...), so that `reg_type_str()` and the compatibility tables of
//! helper and kfunc arguments read as in the kernel. BTF-typed pointers carry a BTF object handle
//! ([`RegState::btf`], 0 for none) and a type id; referenced objects carry `ref_obj_id`.

use crate::scalar::Scalar;
use crate::tnum::Tnum;

/// `BPF_REG_SIZE`: bytes in a register and a stack slot.
pub const BPF_REG_SIZE: usize = 8;
/// `MAX_BPF_STACK`: bytes of stack per frame.
pub const MAX_BPF_STACK: i32 = 512;
/// `MAX_CALL_FRAMES`: nested bpf-to-bpf call frames, the main one included.
pub const MAX_CALL_FRAMES: usize = 8;
/// `MAX_BPF_REG`: R0..R10.
pub const MAX_BPF_REG: usize = 11;
/// `BPF_REG_FP`: the frame pointer.
pub const BPF_REG_FP: usize = 10;
/// `BPF_MAIN_FUNC`: the call site of the main function's frame.
pub const BPF_MAIN_FUNC: i32 = -1;
/// `BPF_ADD_CONST64`: the id flag of a scalar linked to another by a 64-bit `rX += const`.
pub const BPF_ADD_CONST64: u32 = 1 << 31;
/// `BPF_ADD_CONST32`: the id flag of a scalar linked to another by a 32-bit `wX += const`.
pub const BPF_ADD_CONST32: u32 = 1 << 30;
/// `BPF_ADD_CONST`: either flag.
pub const BPF_ADD_CONST: u32 = BPF_ADD_CONST64 | BPF_ADD_CONST32;

// `enum bpf_reg_type` base types.
/// `NOT_INIT`: nothing was written into the register.
pub const NOT_INIT: u32 = 0;
/// `SCALAR_VALUE`: not a pointer.
pub const SCALAR_VALUE: u32 = 1;
/// `PTR_TO_CTX`: the program's context.
pub const PTR_TO_CTX: u32 = 2;
/// `CONST_PTR_TO_MAP`: a `struct bpf_map`.
pub const CONST_PTR_TO_MAP: u32 = 3;
/// `PTR_TO_MAP_VALUE`: a map element's value.
pub const PTR_TO_MAP_VALUE: u32 = 4;
/// `PTR_TO_MAP_KEY`: a map element's key.
pub const PTR_TO_MAP_KEY: u32 = 5;
/// `PTR_TO_STACK`: the frame pointer plus an offset.
pub const PTR_TO_STACK: u32 = 6;
/// `PTR_TO_PACKET_META`: `data_meta`.
pub const PTR_TO_PACKET_META: u32 = 7;
/// `PTR_TO_PACKET`: `data`.
pub const PTR_TO_PACKET: u32 = 8;
/// `PTR_TO_PACKET_END`: `data_end`.
pub const PTR_TO_PACKET_END: u32 = 9;
/// `PTR_TO_FLOW_KEYS`.
pub const PTR_TO_FLOW_KEYS: u32 = 10;
/// `PTR_TO_SOCKET`.
pub const PTR_TO_SOCKET: u32 = 11;
/// `PTR_TO_SOCK_COMMON`.
pub const PTR_TO_SOCK_COMMON: u32 = 12;
/// `PTR_TO_TCP_SOCK`.
pub const PTR_TO_TCP_SOCK: u32 = 13;
/// `PTR_TO_TP_BUFFER`.
pub const PTR_TO_TP_BUFFER: u32 = 14;
/// `PTR_TO_XDP_SOCK`.
pub const PTR_TO_XDP_SOCK: u32 = 15;
/// `PTR_TO_BTF_ID`: a kernel object described by BTF ([`RegState::btf`], [`RegState::btf_id`]).
pub const PTR_TO_BTF_ID: u32 = 16;
/// `PTR_TO_MEM`: memory of [`RegState::mem_size`] bytes.
pub const PTR_TO_MEM: u32 = 17;
/// `PTR_TO_ARENA`.
pub const PTR_TO_ARENA: u32 = 18;
/// `PTR_TO_BUF`.
pub const PTR_TO_BUF: u32 = 19;
/// `PTR_TO_FUNC`: a subprogram ([`RegState::subprogno`]).
pub const PTR_TO_FUNC: u32 = 20;
/// `PTR_TO_INSN`.
pub const PTR_TO_INSN: u32 = 21;
/// `CONST_PTR_TO_DYNPTR`.
pub const CONST_PTR_TO_DYNPTR: u32 = 22;

// `enum bpf_type_flag`.
const BASE_BITS: u32 = 8;
/// `PTR_MAYBE_NULL`.
pub const PTR_MAYBE_NULL: u32 = 1 << BASE_BITS;
/// `MEM_RDONLY`.
pub const MEM_RDONLY: u32 = 1 << (1 + BASE_BITS);
/// `MEM_RINGBUF`.
pub const MEM_RINGBUF: u32 = 1 << (2 + BASE_BITS);
/// `MEM_USER`.
pub const MEM_USER: u32 = 1 << (3 + BASE_BITS);
/// `MEM_PERCPU`.
pub const MEM_PERCPU: u32 = 1 << (4 + BASE_BITS);
/// `OBJ_RELEASE` (argument types only).
pub const OBJ_RELEASE: u32 = 1 << (5 + BASE_BITS);
/// `PTR_UNTRUSTED`.
pub const PTR_UNTRUSTED: u32 = 1 << (6 + BASE_BITS);
/// `MEM_UNINIT` (argument types only).
pub const MEM_UNINIT: u32 = 1 << (7 + BASE_BITS);
/// `DYNPTR_TYPE_LOCAL`.
pub const DYNPTR_TYPE_LOCAL: u32 = 1 << (8 + BASE_BITS);
/// `DYNPTR_TYPE_RINGBUF`.
pub const DYNPTR_TYPE_RINGBUF: u32 = 1 << (9 + BASE_BITS);
/// `MEM_FIXED_SIZE` (argument types only).
pub const MEM_FIXED_SIZE: u32 = 1 << (10 + BASE_BITS);
/// `MEM_ALLOC`: an object from `bpf_obj_new`.
pub const MEM_ALLOC: u32 = 1 << (11 + BASE_BITS);
/// `PTR_TRUSTED`.
pub const PTR_TRUSTED: u32 = 1 << (12 + BASE_BITS);
/// `MEM_RCU`.
pub const MEM_RCU: u32 = 1 << (13 + BASE_BITS);
/// `NON_OWN_REF`.
pub const NON_OWN_REF: u32 = 1 << (14 + BASE_BITS);
/// `DYNPTR_TYPE_SKB`.
pub const DYNPTR_TYPE_SKB: u32 = 1 << (15 + BASE_BITS);
/// `DYNPTR_TYPE_XDP`.
pub const DYNPTR_TYPE_XDP: u32 = 1 << (16 + BASE_BITS);
/// `MEM_ALIGNED` (argument types only).
pub const MEM_ALIGNED: u32 = 1 << (17 + BASE_BITS);
/// `MEM_WRITE` (argument types only).
pub const MEM_WRITE: u32 = 1 << (18 + BASE_BITS);
/// `DYNPTR_TYPE_SKB_META`.
pub const DYNPTR_TYPE_SKB_META: u32 = 1 << (19 + BASE_BITS);
/// `DYNPTR_TYPE_FLAG_MASK`.
pub const DYNPTR_TYPE_FLAG_MASK: u32 =
    DYNPTR_TYPE_LOCAL | DYNPTR_TYPE_RINGBUF | DYNPTR_TYPE_SKB | DYNPTR_TYPE_XDP | DYNPTR_TYPE_SKB_META;

/// `base_type()`.
pub const fn base_type(t: u32) -> u32 {
    t & 0xff
}

/// `type_flag()`.
pub const fn type_flag(t: u32) -> u32 {
    t & !0xff
}

/// `type_may_be_null()`.
pub const fn type_may_be_null(t: u32) -> bool {
    t & PTR_MAYBE_NULL != 0
}

/// `type_is_pkt_pointer()`.
pub const fn type_is_pkt_pointer(t: u32) -> bool {
    let b = base_type(t);
    b == PTR_TO_PACKET || b == PTR_TO_PACKET_META
}

/// `type_is_sk_pointer()`.
pub const fn type_is_sk_pointer(t: u32) -> bool {
    matches!(t, PTR_TO_SOCKET | PTR_TO_SOCK_COMMON | PTR_TO_TCP_SOCK | PTR_TO_XDP_SOCK)
}

/// `type_is_non_owning_ref()`.
pub const fn type_is_non_owning_ref(t: u32) -> bool {
    type_is_ptr_alloc_obj(t) && t & NON_OWN_REF != 0
}

/// `type_is_ptr_alloc_obj()`.
pub const fn type_is_ptr_alloc_obj(t: u32) -> bool {
    base_type(t) == PTR_TO_BTF_ID && t & MEM_ALLOC != 0
}

/// `enum bpf_stack_slot_type`.
pub mod slot {
    /// `STACK_INVALID`: nothing useful written.
    pub const INVALID: u8 = 0;
    /// `STACK_SPILL`: a register spilled.
    pub const SPILL: u8 = 1;
    /// `STACK_MISC`: some data.
    pub const MISC: u8 = 2;
    /// `STACK_ZERO`: known zero.
    pub const ZERO: u8 = 3;
    /// `STACK_DYNPTR`.
    pub const DYNPTR: u8 = 4;
    /// `STACK_ITER`.
    pub const ITER: u8 = 5;
    /// `STACK_IRQ_FLAG`.
    pub const IRQ_FLAG: u8 = 6;
}

/// `enum bpf_dynptr_type`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum DynptrType {
    /// `BPF_DYNPTR_TYPE_INVALID`.
    #[default]
    Invalid,
    /// `BPF_DYNPTR_TYPE_LOCAL`.
    Local,
    /// `BPF_DYNPTR_TYPE_RINGBUF`.
    Ringbuf,
    /// `BPF_DYNPTR_TYPE_SKB`.
    Skb,
    /// `BPF_DYNPTR_TYPE_XDP`.
    Xdp,
    /// `BPF_DYNPTR_TYPE_SKB_META`.
    SkbMeta,
    /// `BPF_DYNPTR_TYPE_FILE`.
    File,
}

impl DynptrType {
    /// `dynptr_type_str()`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DynptrType::Invalid => "<invalid>",
            DynptrType::Local => "local",
            DynptrType::Ringbuf => "ringbuf",
            DynptrType::Skb => "skb",
            DynptrType::Xdp => "xdp",
            DynptrType::SkbMeta => "skb_meta",
            DynptrType::File => "file",
        }
    }
}

/// `enum bpf_iter_state`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum IterState {
    /// `BPF_ITER_STATE_INVALID`.
    #[default]
    Invalid,
    /// `BPF_ITER_STATE_ACTIVE`.
    Active,
    /// `BPF_ITER_STATE_DRAINED`.
    Drained,
}

/// `struct bpf_reg_state`. The union of the kernel's struct is spread out into its members;
/// the marking functions zero all of them where the kernel clears the union.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RegState {
    /// `type`: base type and flags.
    pub ty: u32,
    /// `off`: the fixed part of a pointer's offset; for a scalar linked by `rX += imm`
    /// (id flagged [`BPF_ADD_CONST`]), the constant.
    pub off: i32,
    /// `range`: bytes known readable past a packet pointer.
    pub range: i32,
    /// `map_ptr`: index of the map in [`crate::CheckOptions::maps`] plus one (0: none).
    pub map: u32,
    /// `map_uid`: distinguishes inner maps.
    pub map_uid: u32,
    /// `btf`: the BTF object of a `PTR_TO_BTF_ID` (0: none; see [`crate::env::BtfEnv`]).
    pub btf: u32,
    /// `btf_id`: the type of a `PTR_TO_BTF_ID`.
    pub btf_id: u32,
    /// `mem_size`: bytes of a `PTR_TO_MEM`.
    pub mem_size: u32,
    /// `dynptr_id`: the dynptr a slice came from.
    pub dynptr_id: u32,
    /// `dynptr.type` of a dynptr stack slot or `CONST_PTR_TO_DYNPTR`.
    pub dynptr_type: DynptrType,
    /// `dynptr.first_slot`.
    pub dynptr_first_slot: bool,
    /// `iter.state` of an iterator stack slot (`iter.btf`/`iter.btf_id` are `btf`/`btf_id`).
    pub iter_state: IterState,
    /// `iter.depth`.
    pub iter_depth: i32,
    /// `irq.kfunc_class`.
    pub irq_kfunc_class: u8,
    /// `subprogno` of a `PTR_TO_FUNC`.
    pub subprogno: u32,
    /// `var_off` and the bounds.
    pub s: Scalar,
    /// `id`, with [`BPF_ADD_CONST`].
    pub id: u32,
    /// `ref_obj_id`.
    pub ref_obj_id: u32,
    /// `frameno` of a `PTR_TO_STACK`.
    pub frameno: u32,
    /// `precise`.
    pub precise: bool,
}

impl Default for RegState {
    fn default() -> Self {
        RegState::not_init()
    }
}

impl RegState {
    /// A `NOT_INIT` register as `__mark_reg_not_init()` leaves it.
    pub fn not_init() -> RegState {
        RegState {
            ty: NOT_INIT,
            off: 0,
            range: 0,
            map: 0,
            map_uid: 0,
            btf: 0,
            btf_id: 0,
            mem_size: 0,
            dynptr_id: 0,
            dynptr_type: DynptrType::Invalid,
            dynptr_first_slot: false,
            iter_state: IterState::Invalid,
            iter_depth: 0,
            irq_kfunc_class: 0,
            subprogno: 0,
            s: Scalar::unknown(),
            id: 0,
            ref_obj_id: 0,
            frameno: 0,
            precise: false,
        }
    }

    /// Clears `off` and the union (the `memset` of `__mark_reg_known()` and friends).
    fn clear_union(&mut self) {
        self.off = 0;
        self.range = 0;
        self.map = 0;
        self.map_uid = 0;
        self.btf = 0;
        self.btf_id = 0;
        self.mem_size = 0;
        self.dynptr_id = 0;
        self.dynptr_type = DynptrType::Invalid;
        self.dynptr_first_slot = false;
        self.iter_state = IterState::Invalid;
        self.iter_depth = 0;
        self.irq_kfunc_class = 0;
        self.subprogno = 0;
    }

    /// Whether `off`, the union and the type are equal (`memcmp(.., offsetof(var_off))`).
    pub fn head_eq(&self, o: &RegState) -> bool {
        self.ty == o.ty
            && self.off == o.off
            && self.range == o.range
            && self.map == o.map
            && self.map_uid == o.map_uid
            && self.btf == o.btf
            && self.btf_id == o.btf_id
            && self.mem_size == o.mem_size
            && self.dynptr_id == o.dynptr_id
            && self.dynptr_type == o.dynptr_type
            && self.dynptr_first_slot == o.dynptr_first_slot
            && self.iter_state == o.iter_state
            && self.iter_depth == o.iter_depth
            && self.irq_kfunc_class == o.irq_kfunc_class
            && self.subprogno == o.subprogno
    }

    /// `memcmp(.., offsetof(id))`: type, union, `var_off` and bounds.
    pub fn upto_id_eq(&self, o: &RegState) -> bool {
        self.head_eq(o) && self.s == o.s
    }

    /// `memcmp(.., offsetof(frameno))`: also `id` and `ref_obj_id`.
    pub fn upto_frameno_eq(&self, o: &RegState) -> bool {
        self.upto_id_eq(o) && self.id == o.id && self.ref_obj_id == o.ref_obj_id
    }

    /// `var_off`.
    pub const fn var_off(&self) -> Tnum {
        self.s.var_off
    }

    /// Mirrors `__mark_reg_known()`: `off`, the union and the ids cleared, the value `imm`.
    pub fn mark_known(&mut self, imm: u64) {
        self.clear_union();
        self.id = 0;
        self.ref_obj_id = 0;
        self.s = Scalar::known(imm);
    }

    /// Mirrors `__mark_reg_known_zero()`.
    pub fn mark_known_zero(&mut self) {
        self.mark_known(0);
    }

    /// Mirrors `__mark_reg_const_zero()`.
    pub fn mark_const_zero(&mut self, bpf_capable: bool) {
        self.mark_known(0);
        self.ty = SCALAR_VALUE;
        self.precise = !bpf_capable;
    }

    /// Mirrors `__mark_reg_unknown_imprecise()`.
    pub fn mark_unknown_imprecise(&mut self) {
        self.clear_union();
        self.ty = SCALAR_VALUE;
        self.id = 0;
        self.ref_obj_id = 0;
        self.s = Scalar::unknown();
        self.frameno = 0;
        self.precise = false;
    }

    /// Mirrors `__mark_reg_unknown()`: unprivileged loaders get every scalar precise.
    pub fn mark_unknown(&mut self, bpf_capable: bool) {
        self.mark_unknown_imprecise();
        self.precise = !bpf_capable;
    }

    /// Mirrors `__mark_reg_not_init()`.
    pub fn mark_not_init(&mut self, bpf_capable: bool) {
        self.mark_unknown(bpf_capable);
        self.ty = NOT_INIT;
    }

    /// Whether a `SCALAR_VALUE` holds the known constant zero (`register_is_null()`).
    pub fn is_null(&self) -> bool {
        self.ty == SCALAR_VALUE && self.s.var_off.equals_const(0)
    }

    /// `is_reg_const()` on a scalar.
    pub fn is_const(&self, subreg32: bool) -> bool {
        self.ty == SCALAR_VALUE && self.s.is_reg_const(subreg32)
    }

    /// Mirrors `mark_ptr_not_null_reg()` for everything but map values (handled by the caller,
    /// which knows the map).
    pub fn clear_maybe_null(&mut self) {
        self.ty &= !PTR_MAYBE_NULL;
    }

    /// `tnum_is_const(reg->var_off) && reg->var_off.value == 0`: no variable offset.
    pub fn var_off_is_zero(&self) -> bool {
        self.s.var_off.equals_const(0)
    }
}

/// `struct bpf_stack_state`: one 8-byte stack slot.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct StackState {
    /// The register spilled here (or the dynptr/iterator state).
    pub spilled_ptr: RegState,
    /// The type of each byte; `slot_type[7]` is the lowest address of the slot.
    pub slot_type: [u8; BPF_REG_SIZE],
}

impl StackState {
    /// `is_spilled_reg()`.
    pub fn is_spilled_reg(&self) -> bool {
        self.slot_type[BPF_REG_SIZE - 1] == slot::SPILL
    }

    /// `is_spilled_scalar_reg()`.
    pub fn is_spilled_scalar_reg(&self) -> bool {
        self.is_spilled_reg() && self.spilled_ptr.ty == SCALAR_VALUE
    }

    /// `is_spilled_scalar_reg64()`.
    pub fn is_spilled_scalar_reg64(&self) -> bool {
        self.is_spilled_scalar_reg() && self.slot_type[0] == slot::SPILL
    }

    /// `is_stack_slot_special()`: a spilled register, dynptr, iterator or IRQ flag.
    pub fn is_special(&self) -> bool {
        matches!(self.slot_type[BPF_REG_SIZE - 1], slot::SPILL | slot::DYNPTR | slot::ITER | slot::IRQ_FLAG)
    }
}

/// `struct bpf_retval_range`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RetvalRange {
    /// `minval`.
    pub minval: i32,
    /// `maxval`.
    pub maxval: i32,
}

/// `struct bpf_func_state`: one call frame.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FuncState {
    /// R0..R10.
    pub regs: [RegState; MAX_BPF_REG],
    /// The call instruction that made this frame ([`BPF_MAIN_FUNC`] for the first).
    pub callsite: i32,
    /// Index in [`VerifierState::frame`].
    pub frameno: u32,
    /// The subprogram this frame runs.
    pub subprogno: u32,
    /// `async_entry_cnt`.
    pub async_entry_cnt: u32,
    /// `callback_ret_range`.
    pub callback_ret_range: RetvalRange,
    /// `in_callback_fn`.
    pub in_callback_fn: bool,
    /// `in_async_callback_fn`.
    pub in_async_callback_fn: bool,
    /// `in_exception_callback_fn`.
    pub in_exception_callback_fn: bool,
    /// `callback_depth`: iterations of a callback simulated so far.
    pub callback_depth: u32,
    /// The stack, 8-byte slot `i` being `fp-8*(i+1)`; `allocated_stack` is `stack.len() * 8`.
    pub stack: Vec<StackState>,
}

impl FuncState {
    /// A frame with every register `NOT_INIT`, for `init_func_state()`.
    pub fn new(callsite: i32, frameno: u32, subprogno: u32) -> FuncState {
        FuncState {
            regs: Default::default(),
            callsite,
            frameno,
            subprogno,
            async_entry_cnt: 0,
            callback_ret_range: RetvalRange::default(),
            in_callback_fn: false,
            in_async_callback_fn: false,
            in_exception_callback_fn: false,
            callback_depth: 0,
            stack: Vec::new(),
        }
    }

    /// `allocated_stack`.
    pub fn allocated_stack(&self) -> usize {
        self.stack.len() * BPF_REG_SIZE
    }

    /// Mirrors `grow_stack_state()`: room for `size` bytes (rounded up to whole slots).
    pub fn grow_stack(&mut self, size: usize) {
        let n = size.div_ceil(BPF_REG_SIZE);
        if n > self.stack.len() {
            self.stack.resize(n, StackState::default());
        }
    }
}

/// `enum ref_state_type`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefType {
    /// `REF_TYPE_PTR`.
    Ptr,
    /// `REF_TYPE_IRQ`.
    Irq,
    /// `REF_TYPE_LOCK`.
    Lock,
    /// `REF_TYPE_RES_LOCK`.
    ResLock,
    /// `REF_TYPE_RES_LOCK_IRQ`.
    ResLockIrq,
}

/// `struct bpf_reference_state`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RefState {
    /// `type`.
    pub ty: RefType,
    /// `id`.
    pub id: u32,
    /// `insn_idx` of the acquiring instruction.
    pub insn_idx: u32,
    /// `ptr` of a lock: the map (index + 1) or BTF object and the lock's offset, as one number.
    pub ptr: u64,
}

/// `INSN_F_*` flags of a jump history entry.
pub mod insn_f {
    /// `INSN_F_FRAMENO_MASK`: the frame of the stack slot accessed.
    pub const FRAMENO_MASK: u32 = 0x7;
    /// `INSN_F_SPI_MASK`.
    pub const SPI_MASK: u32 = 0x3f;
    /// `INSN_F_SPI_SHIFT`.
    pub const SPI_SHIFT: u32 = 3;
    /// `INSN_F_STACK_ACCESS`: the instruction read or wrote a stack slot.
    pub const STACK_ACCESS: u32 = 1 << 9;
    /// `INSN_F_DST_REG_STACK`.
    pub const DST_REG_STACK: u32 = 1 << 10;
    /// `INSN_F_SRC_REG_STACK`.
    pub const SRC_REG_STACK: u32 = 1 << 11;

    /// Mirrors `insn_stack_access_flags()`.
    pub const fn stack_access(frameno: u32, spi: u32) -> u32 {
        STACK_ACCESS | (spi << SPI_SHIFT) | frameno
    }
}

/// `struct bpf_jmp_history_entry`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct JmpHistoryEntry {
    /// `idx`.
    pub idx: u32,
    /// `prev_idx`.
    pub prev_idx: u32,
    /// `flags` ([`insn_f`]), with the frame in the low 3 bits and the slot in bits 3..9 as in
    /// the kernel's `insn_stack_access_flags()`.
    pub flags: u32,
    /// `linked_regs`: the packed set of registers linked at a conditional jump.
    pub linked_regs: u64,
}

/// Identifies an explored state in [`crate::env::Env`]'s state arena.
pub type StateId = usize;

/// `struct bpf_verifier_state`: the state of one path.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifierState {
    /// `frame[]`: the call frames, the current one last.
    pub frame: Vec<FuncState>,
    /// `parent`: the checkpoint this path continues from.
    pub parent: Option<StateId>,
    /// `branches`: paths still to explore from this state (checkpoints only).
    pub branches: u32,
    /// `insn_idx`.
    pub insn_idx: u32,
    /// `first_insn_idx`.
    pub first_insn_idx: u32,
    /// `last_insn_idx`.
    pub last_insn_idx: i32,
    /// `equal_state`: for a loop back-edge, the checkpoint found equal.
    pub equal_state: Option<StateId>,
    /// `refs[]`.
    pub refs: Vec<RefState>,
    /// `active_locks`.
    pub active_locks: u32,
    /// `active_preempt_locks`.
    pub active_preempt_locks: u32,
    /// `active_rcu_locks`.
    pub active_rcu_locks: u32,
    /// `active_irq_id`.
    pub active_irq_id: u32,
    /// `active_lock_id`.
    pub active_lock_id: u32,
    /// `active_lock_ptr`.
    pub active_lock_ptr: u64,
    /// `speculative`.
    pub speculative: bool,
    /// `in_sleepable`.
    pub in_sleepable: bool,
    /// `cleaned`: dead registers and slots already cleared.
    pub cleaned: bool,
    /// `jmp_history`.
    pub jmp_history: Vec<JmpHistoryEntry>,
    /// `dfs_depth`.
    pub dfs_depth: u32,
    /// `callback_unroll_depth`.
    pub callback_unroll_depth: u32,
    /// `may_goto_depth`.
    pub may_goto_depth: u32,
}

impl VerifierState {
    /// The state at the start of a function: one frame.
    pub fn new(frame0: FuncState) -> VerifierState {
        VerifierState {
            frame: vec![frame0],
            parent: None,
            branches: 1,
            insn_idx: 0,
            first_insn_idx: 0,
            last_insn_idx: -1,
            equal_state: None,
            refs: Vec::new(),
            active_locks: 0,
            active_preempt_locks: 0,
            active_rcu_locks: 0,
            active_irq_id: 0,
            active_lock_id: 0,
            active_lock_ptr: 0,
            speculative: false,
            in_sleepable: false,
            cleaned: false,
            jmp_history: Vec::new(),
            dfs_depth: 0,
            callback_unroll_depth: 0,
            may_goto_depth: 0,
        }
    }

    /// `curframe`.
    pub fn curframe(&self) -> usize {
        self.frame.len() - 1
    }

    /// The current frame.
    pub fn cur(&self) -> &FuncState {
        &self.frame[self.frame.len() - 1]
    }

    /// The current frame.
    pub fn cur_mut(&mut self) -> &mut FuncState {
        let n = self.frame.len() - 1;
        &mut self.frame[n]
    }

    /// Mirrors `frame_insn_idx()`: where frame `frame` is (the call site for caller frames).
    pub fn frame_insn_idx(&self, frame: usize) -> u32 {
        if frame == self.curframe() {
            self.insn_idx
        } else {
            self.frame[frame + 1].callsite as u32
        }
    }

    /// Calls `f` on every register and spilled register of every frame
    /// (`bpf_for_each_reg_in_vstate`), with the frame number.
    pub fn for_each_reg(&mut self, mut f: impl FnMut(usize, &mut RegState)) {
        for (fi, fr) in self.frame.iter_mut().enumerate() {
            for r in fr.regs.iter_mut() {
                f(fi, r);
            }
            for st in fr.stack.iter_mut() {
                if st.is_spilled_reg() {
                    f(fi, &mut st.spilled_ptr);
                }
            }
        }
    }
}
