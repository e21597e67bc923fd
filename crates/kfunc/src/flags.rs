//! `KF_*` flags (`include/linux/btf.h`) and deprecation (kernel Documentation/bpf/kfuncs.rst
//! §2.4.9, made concrete).

use std::fmt;
use std::str::FromStr;

bitflags::bitflags! {
    /// The flags of a kfunc set entry (`BTF_ID_FLAGS(func, name, flags)`), with the values of
    /// Linux 6.18's `include/linux/btf.h`.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
    pub struct KfFlags: u32 {
        /// `KF_ACQUIRE`: returns a referenced pointer the program must release.
        const ACQUIRE = 1 << 0;
        /// `KF_RELEASE`: releases its (single) referenced argument; implies trusted arguments.
        const RELEASE = 1 << 1;
        /// `KF_RET_NULL`: the return value may be NULL and must be checked.
        const RET_NULL = 1 << 2;
        /// `KF_KPTR_GET`: **legacy** (Linux ≤ 6.3, removed in 6.4; bit 3 is unused in 6.18).
        /// Argument 0 points at a referenced kptr in a map value and the kfunc returns a new
        /// reference to the object. Kept so hosts can model older kfuncs such as
        /// `bpf_cgroup_kptr_get`.
        const KPTR_GET = 1 << 3;
        /// `KF_TRUSTED_ARGS`: every pointer argument must be trusted (removed in 7.x, where it
        /// is the default).
        const TRUSTED_ARGS = 1 << 4;
        /// `KF_SLEEPABLE`: only sleepable programs may call it.
        const SLEEPABLE = 1 << 5;
        /// `KF_DESTRUCTIVE`: needs `CAP_SYS_BOOT`.
        const DESTRUCTIVE = 1 << 6;
        /// `KF_RCU`: pointer arguments may be trusted or RCU-protected (`MEM_RCU`).
        const RCU = 1 << 7;
        /// `KF_ITER_NEW`: open-coded iterator constructor.
        const ITER_NEW = 1 << 8;
        /// `KF_ITER_NEXT`: open-coded iterator step; returns a pointer.
        const ITER_NEXT = 1 << 9;
        /// `KF_ITER_DESTROY`: open-coded iterator destructor; returns void.
        const ITER_DESTROY = 1 << 10;
        /// `KF_RCU_PROTECTED`: callable only inside an RCU read-side critical section.
        const RCU_PROTECTED = 1 << 11;
        /// `KF_FASTCALL`: follows the bpf_fastcall contract (BTF also carries
        /// `DECL_TAG "bpf_fastcall"`).
        const FASTCALL = 1 << 12;
        /// `KF_ARENA_RET`: returns an arena pointer.
        const ARENA_RET = 1 << 13;
        /// `KF_ARENA_ARG1`: argument 1 is an arena pointer.
        const ARENA_ARG1 = 1 << 14;
        /// `KF_ARENA_ARG2`: argument 2 is an arena pointer.
        const ARENA_ARG2 = 1 << 15;
    }
}

/// Each flag with its kernel name, in bit order.
pub const KF_NAMES: [(KfFlags, &str); 16] = [
    (KfFlags::ACQUIRE, "KF_ACQUIRE"),
    (KfFlags::RELEASE, "KF_RELEASE"),
    (KfFlags::RET_NULL, "KF_RET_NULL"),
    (KfFlags::KPTR_GET, "KF_KPTR_GET"),
    (KfFlags::TRUSTED_ARGS, "KF_TRUSTED_ARGS"),
    (KfFlags::SLEEPABLE, "KF_SLEEPABLE"),
    (KfFlags::DESTRUCTIVE, "KF_DESTRUCTIVE"),
    (KfFlags::RCU, "KF_RCU"),
    (KfFlags::ITER_NEW, "KF_ITER_NEW"),
    (KfFlags::ITER_NEXT, "KF_ITER_NEXT"),
    (KfFlags::ITER_DESTROY, "KF_ITER_DESTROY"),
    (KfFlags::RCU_PROTECTED, "KF_RCU_PROTECTED"),
    (KfFlags::FASTCALL, "KF_FASTCALL"),
    (KfFlags::ARENA_RET, "KF_ARENA_RET"),
    (KfFlags::ARENA_ARG1, "KF_ARENA_ARG1"),
    (KfFlags::ARENA_ARG2, "KF_ARENA_ARG2"),
];

impl KfFlags {
    /// The three iterator flags.
    pub const ITER_ANY: KfFlags = KfFlags::ITER_NEW.union(KfFlags::ITER_NEXT).union(KfFlags::ITER_DESTROY);

    /// The kernel names of the flags set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        KF_NAMES.into_iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| n)
    }

    /// `is_kfunc_trusted_args()`: KF_TRUSTED_ARGS, or KF_RELEASE (which implies it).
    pub fn is_trusted_args(self) -> bool {
        self.intersects(KfFlags::TRUSTED_ARGS | KfFlags::RELEASE)
    }
}

/// `KF_ACQUIRE | KF_RET_NULL`, or `0` when empty (the kernel's spelling).
impl fmt::Display for KfFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("0");
        }
        let names: Vec<&str> = self.names().collect();
        f.write_str(&names.join(" | "))
    }
}

/// A flag name that is not a Linux 6.18 `KF_*` flag.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown kfunc flag `{0}`")]
pub struct UnknownFlag(pub String);

/// Parses `KF_ACQUIRE | KF_RET_NULL` (also `+` or `,` as separators, and `0`).
impl FromStr for KfFlags {
    type Err = UnknownFlag;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut flags = KfFlags::empty();
        for word in s.split(['|', '+', ',']).map(str::trim).filter(|w| !w.is_empty()) {
            if word == "0" {
                continue;
            }
            let f = KF_NAMES
                .iter()
                .find(|(_, n)| *n == word)
                .map(|(f, _)| *f)
                .ok_or_else(|| UnknownFlag(word.to_owned()))?;
            flags |= f;
        }
        Ok(flags)
    }
}

/// A version number: the kernel (or host) release that removes a deprecated kfunc.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Version {
    /// Major number.
    pub major: u16,
    /// Minor number.
    pub minor: u16,
    /// Patch number.
    pub patch: u16,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Version { major, minor, patch }
    }
}

/// `6.20`, or `6.20.1` when the patch number is not zero.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

/// Text that is not `MAJOR.MINOR[.PATCH]`.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("`{0}` is not a version (expected MAJOR.MINOR or MAJOR.MINOR.PATCH)")]
pub struct BadVersion(pub String);

impl FromStr for Version {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(s.to_owned());
        let nums: Vec<u16> = s.split('.').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
        match nums.as_slice() {
            [a, b] => Ok(Version::new(*a, *b, 0)),
            [a, b, c] => Ok(Version::new(*a, *b, *c)),
            _ => Err(bad()),
        }
    }
}

/// `KF_DEPRECATED` made concrete: why a kfunc is deprecated, what replaces it, and when it goes.
///
/// The kernel documents the flag (kfuncs.rst §2.4.9) but defines no bit for it; kfvm attaches
/// this to the kfunc instead, shows it in `kfvm kfuncs`, and puts it in the generated header as
/// `__attribute__((deprecated(...)))`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Deprecation {
    /// Why, and what to do instead.
    pub note: &'static str,
    /// The kfunc (or sequence) that replaces it.
    pub replacement: Option<&'static str>,
    /// The release that removes it.
    pub removed_in: Option<Version>,
}

/// `deprecated: NOTE; use REPLACEMENT; removed in VERSION`.
impl fmt::Display for Deprecation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deprecated")?;
        if !self.note.is_empty() {
            write!(f, ": {}", self.note)?;
        }
        if let Some(r) = self.replacement {
            write!(f, "; use {r}")?;
        }
        if let Some(v) = self.removed_in {
            write!(f, "; removed in {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_kernels() {
        assert_eq!(KfFlags::ACQUIRE.bits(), 1);
        assert_eq!(KfFlags::KPTR_GET.bits(), 8);
        assert_eq!(KfFlags::TRUSTED_ARGS.bits(), 16);
        assert_eq!(KfFlags::RCU.bits(), 0x80);
        assert_eq!(KfFlags::FASTCALL.bits(), 1 << 12);
        assert_eq!(KfFlags::ARENA_ARG2.bits(), 1 << 15);
        assert_eq!(KfFlags::all().bits(), 0xffff);
    }

    #[test]
    fn display_and_parse() {
        let f = KfFlags::ACQUIRE | KfFlags::RCU | KfFlags::RET_NULL;
        assert_eq!(f.to_string(), "KF_ACQUIRE | KF_RET_NULL | KF_RCU");
        assert_eq!("KF_ACQUIRE | KF_RCU | KF_RET_NULL".parse::<KfFlags>().unwrap(), f);
        assert_eq!("KF_ACQUIRE + KF_RCU + KF_RET_NULL".parse::<KfFlags>().unwrap(), f);
        assert_eq!("0".parse::<KfFlags>().unwrap(), KfFlags::empty());
        assert_eq!(KfFlags::empty().to_string(), "0");
        assert_eq!("KF_IMPLICIT_ARGS".parse::<KfFlags>(), Err(UnknownFlag("KF_IMPLICIT_ARGS".into())));
    }

    #[test]
    fn versions() {
        assert_eq!("6.20".parse::<Version>().unwrap(), Version::new(6, 20, 0));
        assert_eq!("6.4.1".parse::<Version>().unwrap().to_string(), "6.4.1");
        assert!("6".parse::<Version>().is_err());
        assert!("6.x".parse::<Version>().is_err());
    }
}
