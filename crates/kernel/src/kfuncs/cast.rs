//! Casts (kernel/bpf/helpers.c, set `common_btf_ids`).
//!
//! Both are identities at run time: kfvm's program contexts are what the program's kernel
//! context would be, and a read-only cast only changes what the verifier lets the program do
//! with the pointer (its loads become `BPF_PROBE_MEM` loads, which read 0 outside live objects).

use kfvm_kfunc::kfunc;
use kfvm_kfunc::types::*;

/// The kernel context behind a program's UAPI context (`__sk_buff` → `sk_buff`).
#[kfunc(fastcall)]
pub fn bpf_cast_to_kern_ctx(obj: *mut c_void) -> *mut c_void {
    obj
}

/// `obj__ign` as an untrusted (read-only) pointer to the type `btf_id__k`.
#[kfunc(fastcall)]
pub fn bpf_rdonly_cast(obj__ign: *const c_void, btf_id__k: u32) -> *mut c_void {
    let _ = btf_id__k;
    obj__ign as *mut c_void
}
