//! The numeric open-coded iterator (kernel/bpf/helpers.c, set `common_btf_ids`).

use crate::types::BpfIterNum;
use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// Starts iterating over `[start, end)`.
    #[kfunc(iter_new)]
    pub fn bpf_iter_num_new(it: *mut BpfIterNum, start: c_int, end: c_int) -> c_int;

    /// A pointer to the next number; NULL at the end.
    #[kfunc(iter_next, ret_null)]
    pub fn bpf_iter_num_next(it: *mut BpfIterNum) -> *mut c_int;

    /// Ends the iteration.
    #[kfunc(iter_destroy)]
    pub fn bpf_iter_num_destroy(it: *mut BpfIterNum);
}
