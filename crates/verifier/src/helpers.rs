//! Helper prototypes (`struct bpf_func_proto`) for the helpers kfvm's runtime provides, and which
//! program types may call them (the `get_func_proto` of each program type's `bpf_verifier_ops`).
//!
//! Argument and return types carry the kernel's names and modifiers; [`check_helper_call`]
//! (in the path walk) checks each argument against them.
//!
//! [`check_helper_call`]: https://elixir.bootlin.com/linux/v6.18/source/kernel/bpf/verifier.c

/// `enum bpf_arg_type`, with the type-flag modifiers that matter for helpers folded in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ArgType {
    /// `ARG_DONTCARE`: the argument is not used.
    DontCare,
    /// `ARG_CONST_MAP_PTR`: a map (`lddw rN, map`).
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: memory of the map's key size.
    PtrToMapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: memory of the map's value size.
    PtrToMapValue,
    /// `ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE`: memory of the map's value size that the
    /// helper fills (`bpf_map_pop_elem`, `bpf_map_peek_elem`).
    PtrToUninitMapValue,
    /// `ARG_PTR_TO_MEM | MEM_RDONLY`: readable memory, sized by the next argument.
    PtrToRdonlyMem {
        /// `PTR_MAYBE_NULL`: NULL is accepted (with a zero size).
        maybe_null: bool,
    },
    /// `ARG_PTR_TO_UNINIT_MEM` (`ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE`): memory the helper
    /// writes, sized by the next argument.
    PtrToUninitMem,
    /// `ARG_CONST_SIZE`: a size, > 0, bounded.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`: a size, >= 0, bounded.
    ConstSizeOrZero,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: an allocation size, known constant.
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_CTX`.
    PtrToCtx,
    /// `ARG_ANYTHING`: any initialised value.
    Anything,
    /// `ARG_PTR_TO_SPIN_LOCK`: a `struct bpf_spin_lock` in a map value or allocated object.
    PtrToSpinLock,
    /// `ARG_PTR_TO_TIMER`: the `struct bpf_timer` of a map value.
    PtrToTimer,
    /// `ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE`: memory reserved in a ring buffer, released.
    PtrToRingbufMemRelease,
    /// `ARG_PTR_TO_FUNC`: a callback (`lddw rN, subprog`).
    PtrToFunc,
    /// `ARG_PTR_TO_STACK_OR_NULL`: a stack pointer or NULL.
    PtrToStackOrNull,
    /// `ARG_KPTR_XCHG_DEST`: a `__kptr` field of a map value or allocated object.
    KptrXchgDest,
    /// `ARG_PTR_TO_BTF_ID_OR_NULL | OBJ_RELEASE` (with `BPF_PTR_POISON`): a referenced pointer of
    /// the kptr field's type, or NULL; the reference moves into the field.
    PtrToBtfIdOrNullRelease,
    /// `ARG_PTR_TO_BTF_ID` with `arg_btf_id` naming a struct of the kernel BTF.
    PtrToBtfId(&'static str),
    /// `ARG_PTR_TO_DYNPTR` with its modifiers (`MEM_UNINIT`, `MEM_RDONLY`, `OBJ_RELEASE`, a
    /// `DYNPTR_TYPE_*` flag): a `struct bpf_dynptr` on the stack (or a `CONST_PTR_TO_DYNPTR`).
    PtrToDynptr(u32),
}

/// `enum bpf_return_type`, with modifiers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RetType {
    /// `RET_INTEGER`: an unknown scalar.
    Integer,
    /// `RET_VOID`: R0 is left unreadable.
    Void,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`.
    PtrToMapValueOrNull,
    /// `RET_PTR_TO_RINGBUF_MEM_OR_NULL`: referenced memory of the requested size, or NULL.
    PtrToRingbufMemOrNull,
    /// `RET_PTR_TO_BTF_ID_TRUSTED`, with the BTF type's name.
    PtrToBtfIdTrusted(&'static str),
    /// `RET_PTR_TO_BTF_ID`, with the BTF type's name: a flagless (legacy) pointer.
    PtrToBtfId(&'static str),
    /// `RET_PTR_TO_BTF_ID_OR_NULL` of the kptr field's type (`BPF_PTR_POISON`).
    PtrToBtfIdOrNullFromKptr,
    /// `RET_PTR_TO_DYNPTR_MEM_OR_NULL`: memory of the requested size inside a dynptr, or NULL.
    PtrToDynptrMemOrNull,
}

/// `struct bpf_func_proto`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FuncProto {
    /// `enum bpf_func_id` value.
    pub id: i32,
    /// The helper's name (`bpf_map_lookup_elem`).
    pub name: &'static str,
    /// Only GPL-compatible programs may call it (`gpl_only`).
    pub gpl_only: bool,
    /// Whether it may be called with packet pointers as arguments (`pkt_access`).
    pub pkt_access: bool,
    /// Return type.
    pub ret: RetType,
    /// Argument types; `DontCare` past the last.
    pub args: [ArgType; 5],
    /// Whether the caller needs `CAP_PERFMON` (`bpf_token_capable(CAP_PERFMON)` in
    /// `bpf_base_func_proto`).
    pub needs_perfmon: bool,
}

use crate::state::{DYNPTR_TYPE_LOCAL, DYNPTR_TYPE_RINGBUF, MEM_RDONLY, MEM_UNINIT, MEM_WRITE, OBJ_RELEASE};
use ArgType::*;

const fn proto(id: i32, name: &'static str, gpl_only: bool, ret: RetType, args: [ArgType; 5]) -> FuncProto {
    FuncProto { id, name, gpl_only, pkt_access: false, ret, args, needs_perfmon: false }
}

const fn perfmon(p: FuncProto) -> FuncProto {
    FuncProto { needs_perfmon: true, ..p }
}

const fn pkt(p: FuncProto) -> FuncProto {
    FuncProto { pkt_access: true, ..p }
}

const D: ArgType = DontCare;

/// The helpers kfvm provides, as Linux 6.18 declares them.
pub static HELPERS: &[FuncProto] = &[
    pkt(proto(
        1,
        "bpf_map_lookup_elem",
        false,
        RetType::PtrToMapValueOrNull,
        [ConstMapPtr, PtrToMapKey, D, D, D],
    )),
    pkt(proto(
        2,
        "bpf_map_update_elem",
        false,
        RetType::Integer,
        [ConstMapPtr, PtrToMapKey, PtrToMapValue, Anything, D],
    )),
    pkt(proto(3, "bpf_map_delete_elem", false, RetType::Integer, [ConstMapPtr, PtrToMapKey, D, D, D])),
    proto(5, "bpf_ktime_get_ns", false, RetType::Integer, [D; 5]),
    pkt(proto(
        87,
        "bpf_map_push_elem",
        false,
        RetType::Integer,
        [ConstMapPtr, PtrToMapValue, Anything, D, D],
    )),
    proto(88, "bpf_map_pop_elem", false, RetType::Integer, [ConstMapPtr, PtrToUninitMapValue, D, D, D]),
    proto(89, "bpf_map_peek_elem", false, RetType::Integer, [ConstMapPtr, PtrToUninitMapValue, D, D, D]),
    perfmon(proto(
        6,
        "bpf_trace_printk",
        true,
        RetType::Integer,
        [PtrToRdonlyMem { maybe_null: false }, ConstSize, D, D, D],
    )),
    proto(7, "bpf_get_prandom_u32", false, RetType::Integer, [D; 5]),
    proto(8, "bpf_get_smp_processor_id", false, RetType::Integer, [D; 5]),
    proto(14, "bpf_get_current_pid_tgid", false, RetType::Integer, [D; 5]),
    proto(15, "bpf_get_current_uid_gid", false, RetType::Integer, [D; 5]),
    proto(16, "bpf_get_current_comm", false, RetType::Integer, [PtrToUninitMem, ConstSize, D, D, D]),
    proto(93, "bpf_spin_lock", false, RetType::Void, [PtrToSpinLock, D, D, D, D]),
    proto(94, "bpf_spin_unlock", false, RetType::Void, [PtrToSpinLock, D, D, D, D]),
    perfmon(proto(
        112,
        "bpf_probe_read_user",
        true,
        RetType::Integer,
        [PtrToUninitMem, ConstSizeOrZero, Anything, D, D],
    )),
    perfmon(proto(
        113,
        "bpf_probe_read_kernel",
        true,
        RetType::Integer,
        [PtrToUninitMem, ConstSizeOrZero, Anything, D, D],
    )),
    perfmon(proto(
        114,
        "bpf_probe_read_user_str",
        true,
        RetType::Integer,
        [PtrToUninitMem, ConstSizeOrZero, Anything, D, D],
    )),
    perfmon(proto(
        115,
        "bpf_probe_read_kernel_str",
        true,
        RetType::Integer,
        [PtrToUninitMem, ConstSizeOrZero, Anything, D, D],
    )),
    proto(125, "bpf_ktime_get_boot_ns", false, RetType::Integer, [D; 5]),
    proto(
        130,
        "bpf_ringbuf_output",
        false,
        RetType::Integer,
        [ConstMapPtr, PtrToRdonlyMem { maybe_null: false }, ConstSizeOrZero, Anything, D],
    ),
    proto(
        131,
        "bpf_ringbuf_reserve",
        false,
        RetType::PtrToRingbufMemOrNull,
        [ConstMapPtr, ConstAllocSizeOrZero, Anything, D, D],
    ),
    proto(132, "bpf_ringbuf_submit", false, RetType::Void, [PtrToRingbufMemRelease, Anything, D, D, D]),
    proto(133, "bpf_ringbuf_discard", false, RetType::Void, [PtrToRingbufMemRelease, Anything, D, D, D]),
    perfmon(proto(158, "bpf_get_current_task_btf", true, RetType::PtrToBtfIdTrusted("task_struct"), [D; 5])),
    perfmon(proto(
        175,
        "bpf_task_pt_regs",
        true,
        RetType::PtrToBtfId("pt_regs"),
        [PtrToBtfId("task_struct"), D, D, D, D],
    )),
    perfmon(proto(
        177,
        "bpf_trace_vprintk",
        true,
        RetType::Integer,
        [
            PtrToRdonlyMem { maybe_null: false },
            ConstSize,
            PtrToRdonlyMem { maybe_null: true },
            ConstSizeOrZero,
            D,
        ],
    )),
    proto(
        164,
        "bpf_for_each_map_elem",
        false,
        RetType::Integer,
        [ConstMapPtr, PtrToFunc, PtrToStackOrNull, Anything, D],
    ),
    proto(169, "bpf_timer_init", true, RetType::Integer, [PtrToTimer, ConstMapPtr, Anything, D, D]),
    proto(170, "bpf_timer_set_callback", true, RetType::Integer, [PtrToTimer, PtrToFunc, D, D, D]),
    proto(171, "bpf_timer_start", true, RetType::Integer, [PtrToTimer, Anything, Anything, D, D]),
    proto(172, "bpf_timer_cancel", true, RetType::Integer, [PtrToTimer, D, D, D, D]),
    proto(181, "bpf_loop", false, RetType::Integer, [Anything, PtrToFunc, PtrToStackOrNull, Anything, D]),
    proto(
        194,
        "bpf_kptr_xchg",
        false,
        RetType::PtrToBtfIdOrNullFromKptr,
        [KptrXchgDest, PtrToBtfIdOrNullRelease, D, D, D],
    ),
    proto(
        197,
        "bpf_dynptr_from_mem",
        false,
        RetType::Integer,
        [
            PtrToUninitMem,
            ConstSizeOrZero,
            Anything,
            PtrToDynptr(DYNPTR_TYPE_LOCAL | MEM_UNINIT | MEM_WRITE),
            D,
        ],
    ),
    proto(
        198,
        "bpf_ringbuf_reserve_dynptr",
        false,
        RetType::Integer,
        [ConstMapPtr, Anything, Anything, PtrToDynptr(DYNPTR_TYPE_RINGBUF | MEM_UNINIT | MEM_WRITE), D],
    ),
    proto(
        199,
        "bpf_ringbuf_submit_dynptr",
        false,
        RetType::Void,
        [PtrToDynptr(DYNPTR_TYPE_RINGBUF | OBJ_RELEASE), Anything, D, D, D],
    ),
    proto(
        200,
        "bpf_ringbuf_discard_dynptr",
        false,
        RetType::Void,
        [PtrToDynptr(DYNPTR_TYPE_RINGBUF | OBJ_RELEASE), Anything, D, D, D],
    ),
    proto(
        201,
        "bpf_dynptr_read",
        false,
        RetType::Integer,
        [PtrToUninitMem, ConstSizeOrZero, PtrToDynptr(MEM_RDONLY), Anything, Anything],
    ),
    proto(
        202,
        "bpf_dynptr_write",
        false,
        RetType::Integer,
        [PtrToDynptr(MEM_RDONLY), Anything, PtrToRdonlyMem { maybe_null: false }, ConstSizeOrZero, Anything],
    ),
    proto(
        203,
        "bpf_dynptr_data",
        false,
        RetType::PtrToDynptrMemOrNull,
        [PtrToDynptr(MEM_RDONLY), Anything, ConstAllocSizeOrZero, D, D],
    ),
];

/// The prototype of helper `id`, if kfvm provides it.
pub fn proto_of(id: i32) -> Option<&'static FuncProto> {
    HELPERS.iter().find(|p| p.id == id)
}

/// Program types by their `bpf_prog_type` value (the verifier's one list, from kfvm-uapi).
pub use crate::env::prog_type;

/// Whether a program of `prog_type` may call helper `id` (its `get_func_proto` returns a
/// prototype), given whether the loader has `CAP_PERFMON`.
///
/// In Linux 6.18 every helper of [`HELPERS`] is in `bpf_base_func_proto`, so a root loader may
/// call all of them from every program type; the live kernel confirms it for socket filter, XDP,
/// TC, kprobe, tracepoint and syscall programs (`call bpf_get_current_pid_tgid#14` in a socket
/// filter included). Without `CAP_PERFMON` the printing, probe-read and current-task helpers go.
pub fn allowed(_prog_type: u32, id: i32, perfmon: bool) -> bool {
    proto_of(id).is_some_and(|p| perfmon || !p.needs_perfmon)
}
