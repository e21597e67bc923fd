//! The numeric open-coded iterator (kernel/bpf/helpers.c, set `common_btf_ids`).
//!
//! `struct bpf_iter_num` holds the kernel's `struct bpf_iter_num_kern { int cur; int end; }`.

use crate::run::bad_arg;
use crate::types::BpfIterNum;
use kfvm_kfunc::types::*;
use kfvm_kfunc::{kfunc, CallCtx};

/// `BPF_MAX_LOOPS`.
const BPF_MAX_LOOPS: i64 = 8 * 1024 * 1024;

/// The iterator's `{cur, end}`, after checking the run may write it.
fn state<'a>(ctx: &mut CallCtx, name: &str, it: *mut BpfIterNum) -> Option<&'a mut [i32; 2]> {
    let a = it as u64;
    if a % 4 != 0 || !ctx.can_access(a, 8, true) {
        bad_arg::<()>(ctx, name, 0, "an iterator slot", a);
        return None;
    }
    // SAFETY: 8 writable, 4-aligned bytes of the run's memory (its stack: only this run uses it).
    Some(unsafe { &mut *(a as *mut [i32; 2]) })
}

/// Starts iterating over `[start, end)`: 0, `-EINVAL` if `start > end`, `-E2BIG` for more than
/// `BPF_MAX_LOOPS` numbers.
#[kfunc(iter_new)]
pub fn bpf_iter_num_new(ctx: &mut CallCtx, it: *mut BpfIterNum, start: c_int, end: c_int) -> c_int {
    let Some(s) = state(ctx, "bpf_iter_num_new", it) else { return 0 };
    if start > end {
        *s = [0, 0];
        return -22;
    }
    if end as i64 - start as i64 > BPF_MAX_LOOPS {
        *s = [0, 0];
        return -7;
    }
    // next() increments first.
    *s = [start.wrapping_sub(1), end];
    0
}

/// A pointer to the next number; NULL at the end.
#[kfunc(iter_next, ret_null)]
pub fn bpf_iter_num_next(ctx: &mut CallCtx, it: *mut BpfIterNum) -> *mut c_int {
    let Some(s) = state(ctx, "bpf_iter_num_next", it) else { return core::ptr::null_mut() };
    if s[0] as i64 + 1 >= s[1] as i64 {
        *s = [0, 0];
        return core::ptr::null_mut();
    }
    s[0] += 1;
    &mut s[0]
}

/// Ends the iteration.
#[kfunc(iter_destroy)]
pub fn bpf_iter_num_destroy(ctx: &mut CallCtx, it: *mut BpfIterNum) {
    if let Some(s) = state(ctx, "bpf_iter_num_destroy", it) {
        s[1] = 0;
    }
}
