//! Argument annotations: suffixes of a kfunc's BTF parameter names (`btf_param_match_suffix()`
//! in kernel/bpf/btf.c) and the two exact names `rdonly_buf_size` / `rdwr_buf_size`
//! (`is_kfunc_arg_scalar_with_name()` in kernel/bpf/verifier.c).
//!
//! The kernel tests each suffix with its own predicate (`is_kfunc_arg_mem_size()`,
//! `is_kfunc_arg_constant()`, ...), so a name is checked against every suffix independently;
//! [`param_annotations`] does the same and returns the set.

use std::fmt;

bitflags::bitflags! {
    /// The annotations a parameter name carries.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
    pub struct ArgAnnots: u32 {
        /// `__sz`: size of the preceding pointer argument (KF_ARG_PTR_TO_MEM_SIZE).
        const SZ = 1 << 0;
        /// `__szk`: like `__sz`, but a known constant.
        const SZK = 1 << 1;
        /// `__k`: a known constant scalar (type id for `bpf_obj_new_impl`, `bpf_rdonly_cast`).
        const K = 1 << 2;
        /// `__uninit`: an uninitialized stack dynptr the kfunc initializes.
        const UNINIT = 1 << 3;
        /// `__opt`: the buffer of a `__sz`/`__szk` pair may be NULL.
        const OPT = 1 << 4;
        /// `__nullable`: NULL is accepted.
        const NULLABLE = 1 << 5;
        /// `__str`: constant NUL-terminated string in a read-only map.
        const STR = 1 << 6;
        /// `__ign`: not checked at all.
        const IGN = 1 << 7;
        /// `__alloc`: an allocated object (`bpf_obj_new`).
        const ALLOC = 1 << 8;
        /// `__refcounted_kptr`: owning or non-owning reference to a refcounted local object.
        const REFCOUNTED_KPTR = 1 << 9;
        /// `__map`: a map pointer.
        const MAP = 1 << 10;
        /// `__irq_flag`: IRQ flag slot on the stack.
        const IRQ_FLAG = 1 << 11;
        /// `__prog`: hidden argument the verifier fills with `prog->aux`.
        const PROG = 1 << 12;
        /// `__iter`: an iterator passed to a non-iterator kfunc.
        const ITER = 1 << 13;
        /// Exact name `rdonly_buf_size`: constant size of the returned read-only memory.
        const RDONLY_BUF_SIZE = 1 << 14;
        /// Exact name `rdwr_buf_size`: constant size of the returned writable memory.
        const RDWR_BUF_SIZE = 1 << 15;
    }
}

/// The suffixes of Linux 6.18, with what each marks.
pub const ARG_SUFFIXES: [(&str, ArgAnnots); 14] = [
    ("__sz", ArgAnnots::SZ),
    ("__szk", ArgAnnots::SZK),
    ("__k", ArgAnnots::K),
    ("__uninit", ArgAnnots::UNINIT),
    ("__opt", ArgAnnots::OPT),
    ("__nullable", ArgAnnots::NULLABLE),
    ("__str", ArgAnnots::STR),
    ("__ign", ArgAnnots::IGN),
    ("__alloc", ArgAnnots::ALLOC),
    ("__refcounted_kptr", ArgAnnots::REFCOUNTED_KPTR),
    ("__map", ArgAnnots::MAP),
    ("__irq_flag", ArgAnnots::IRQ_FLAG),
    ("__prog", ArgAnnots::PROG),
    ("__iter", ArgAnnots::ITER),
];

/// The exact parameter names of Linux 6.18 (`is_kfunc_arg_scalar_with_name()`).
pub const ARG_EXACT_NAMES: [(&str, ArgAnnots); 2] =
    [("rdonly_buf_size", ArgAnnots::RDONLY_BUF_SIZE), ("rdwr_buf_size", ArgAnnots::RDWR_BUF_SIZE)];

/// `btf_param_match_suffix()`: `name` is longer than `suffix` and ends with it (so a parameter
/// named just `__sz` carries no annotation, and an unnamed one never does).
pub fn btf_param_match_suffix(name: &str, suffix: &str) -> bool {
    !name.is_empty() && name.len() > suffix.len() && name.ends_with(suffix)
}

/// `is_kfunc_arg_scalar_with_name()`: the name is exactly `target`.
pub fn is_kfunc_arg_scalar_with_name(name: &str, target: &str) -> bool {
    !name.is_empty() && name == target
}

/// Every annotation the parameter name `name` carries.
pub fn param_annotations(name: &str) -> ArgAnnots {
    let mut out = ArgAnnots::empty();
    for (suffix, a) in ARG_SUFFIXES {
        if btf_param_match_suffix(name, suffix) {
            out |= a;
        }
    }
    for (exact, a) in ARG_EXACT_NAMES {
        if is_kfunc_arg_scalar_with_name(name, exact) {
            out |= a;
        }
    }
    out
}

/// `is_kfunc_arg_mem_size()` / `is_kfunc_arg_const_mem_size()` as the verifier applies them: the
/// parameter *after* `i` carries `__sz` or `__szk`, making `i` the pointer of a (pointer, size)
/// pair. Returns the size parameter's annotations.
pub fn mem_size_pair(param_names: &[&str], i: usize) -> Option<ArgAnnots> {
    let next = param_annotations(param_names.get(i + 1)?);
    next.intersects(ArgAnnots::SZ | ArgAnnots::SZK).then_some(next & (ArgAnnots::SZ | ArgAnnots::SZK))
}

/// The suffixes (and exact names) set, e.g. `__sz` or `__opt|__szk`.
impl fmt::Display for ArgAnnots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, a) in ARG_SUFFIXES.iter().chain(ARG_EXACT_NAMES.iter()) {
            if self.contains(*a) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_suffix() {
        assert_eq!(param_annotations("src__sz"), ArgAnnots::SZ);
        assert_eq!(param_annotations("buffer__szk"), ArgAnnots::SZK);
        assert_eq!(param_annotations("local_type_id__k"), ArgAnnots::K);
        assert_eq!(param_annotations("btf_id__k"), ArgAnnots::K);
        assert_eq!(param_annotations("ptr__uninit"), ArgAnnots::UNINIT);
        assert_eq!(param_annotations("buffer__opt"), ArgAnnots::OPT);
        assert_eq!(param_annotations("buffer__nullable"), ArgAnnots::NULLABLE);
        assert_eq!(param_annotations("name__str"), ArgAnnots::STR);
        assert_eq!(param_annotations("meta__ign"), ArgAnnots::IGN);
        assert_eq!(param_annotations("p__alloc"), ArgAnnots::ALLOC);
        assert_eq!(param_annotations("p__refcounted_kptr"), ArgAnnots::REFCOUNTED_KPTR);
        assert_eq!(param_annotations("p__map"), ArgAnnots::MAP);
        assert_eq!(param_annotations("flags__irq_flag"), ArgAnnots::IRQ_FLAG);
        assert_eq!(param_annotations("aux__prog"), ArgAnnots::PROG);
        assert_eq!(param_annotations("it__iter"), ArgAnnots::ITER);
        assert_eq!(param_annotations("rdonly_buf_size"), ArgAnnots::RDONLY_BUF_SIZE);
        assert_eq!(param_annotations("rdwr_buf_size"), ArgAnnots::RDWR_BUF_SIZE);
    }

    #[test]
    fn suffix_rules_are_the_kernels() {
        // Nothing before the suffix: no match (len <= suffix_len).
        assert_eq!(param_annotations("__sz"), ArgAnnots::empty());
        assert_eq!(param_annotations("__k"), ArgAnnots::empty());
        assert_eq!(param_annotations(""), ArgAnnots::empty());
        // `__szk` does not end in `__sz`, nor in `__k`.
        assert!(!btf_param_match_suffix("buffer__szk", "__sz"));
        assert!(!btf_param_match_suffix("buffer__szk", "__k"));
        // Plain names and near misses.
        assert_eq!(param_annotations("p"), ArgAnnots::empty());
        assert_eq!(param_annotations("size"), ArgAnnots::empty());
        assert_eq!(param_annotations("p_sz"), ArgAnnots::empty());
        assert_eq!(param_annotations("p__SZ"), ArgAnnots::empty());
        // Exact names are exact.
        assert_eq!(param_annotations("my_rdonly_buf_size"), ArgAnnots::empty());
        assert_eq!(param_annotations("rdwr_buf_size2"), ArgAnnots::empty());
        // Each predicate is independent: 7.x's `__arena__nullable` is still `__nullable`.
        assert_eq!(param_annotations("p__arena__nullable"), ArgAnnots::NULLABLE);
    }

    #[test]
    fn mem_size_pairs() {
        let dynptr_slice = ["p", "offset", "buffer__opt", "buffer__szk"];
        assert_eq!(mem_size_pair(&dynptr_slice, 2), Some(ArgAnnots::SZK));
        assert_eq!(mem_size_pair(&dynptr_slice, 1), None);
        assert_eq!(mem_size_pair(&dynptr_slice, 3), None);
        let populate = ["cpumask", "src", "src__sz"];
        assert_eq!(mem_size_pair(&populate, 1), Some(ArgAnnots::SZ));
        assert_eq!((ArgAnnots::OPT | ArgAnnots::SZK).to_string(), "__szk|__opt");
    }
}
