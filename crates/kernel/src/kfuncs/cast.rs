//! Casts (kernel/bpf/helpers.c, set `common_btf_ids`).

use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

declare! {
    /// The kernel context behind a program's UAPI context (`__sk_buff` → `sk_buff`).
    #[kfunc(fastcall)]
    pub fn bpf_cast_to_kern_ctx(obj: *mut c_void) -> *mut c_void;

    /// `obj__ign` as an untrusted (read-only) pointer to the type `btf_id__k`.
    #[kfunc(fastcall)]
    pub fn bpf_rdonly_cast(obj__ign: *const c_void, btf_id__k: u32) -> *mut c_void;
}
