//! [`Target`]: what a program is linked against — the kernel (or kfvm host) BTF that CO-RE
//! relocations and `__ksym` externs resolve in, the Kconfig values and virtual `LINUX_*`
//! externs of `.kconfig`, and the kernel symbol addresses of typeless ksyms.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use kfvm_btf::{Btf, BtfError};
use kfvm_kfunc::KfuncRegistry;

/// `KERNEL_VERSION(a, b, c)`: `a << 16 | b << 8 | min(c, 255)`.
pub fn kernel_version(major: u32, minor: u32, patch: u32) -> u32 {
    (major << 16) + (minor << 8) + patch.min(255)
}

/// libbpf's `get_kernel_version()` on a release string (`6.18.44-fc-v769` -> 6.18.44). `None`
/// unless it starts with three dot-separated numbers.
pub fn parse_kernel_release(release: &str) -> Option<u32> {
    let mut it = release.splitn(3, '.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = it.next()?.parse().ok()?;
    let rest = it.next()?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let patch: u32 = digits.parse().ok()?;
    Some(kernel_version(major, minor, patch))
}

/// The kernel kfvm models: Linux 6.18.
pub const MODEL_KERNEL_VERSION: u32 = (6 << 16) + (18 << 8);

/// What programs are linked against.
///
/// The BTF plays the role of `vmlinux` BTF for libbpf: CO-RE candidates are searched in it,
/// `__ksym` functions resolve to its `FUNC`s by name and typed `__ksym` variables to its `VAR`s.
/// For a kfvm host ([`Target::from_registry`]) the `FUNC` ids are the registry's kfunc ids, so a
/// linked call's `imm` is what [`KfuncRegistry::host_fns`] and the verifier key on.
#[derive(Clone, Debug)]
pub struct Target {
    btf: Arc<Btf>,
    name: String,
    kconfig: String,
    kernel_version: u32,
    has_bpf_cookie: bool,
    has_syscall_wrapper: bool,
    kallsyms: BTreeMap<String, u64>,
    cand_index: OnceLock<Arc<crate::relo_core::CandIndex>>,
}

impl Target {
    /// A target with this BTF, kernel version 6.18.0, no Kconfig values (weak `CONFIG_*` externs
    /// take their zero default), BPF cookies and syscall wrappers supported (as on x86-64 6.18),
    /// and no kernel symbol addresses.
    pub fn new(btf: Arc<Btf>) -> Self {
        Target {
            btf,
            name: "vmlinux".to_string(),
            kconfig: String::new(),
            kernel_version: MODEL_KERNEL_VERSION,
            has_bpf_cookie: true,
            has_syscall_wrapper: true,
            kallsyms: BTreeMap::new(),
            cand_index: OnceLock::new(),
        }
    }

    /// A kfvm host: the registry's BTF (its types, and its kfuncs as `FUNC`s).
    pub fn from_registry(reg: &KfuncRegistry) -> Result<Self, BtfError> {
        let mut t = Target::new(Arc::new(reg.parsed_btf()?));
        t.name = "kfvm host".to_string();
        Ok(t)
    }

    /// A target whose BTF is read from a raw BTF file (`/sys/kernel/btf/vmlinux`, or a host BTF
    /// written by `kfvm btf dump --host --format bin`).
    pub fn from_btf_file(path: impl AsRef<std::path::Path>) -> Result<Self, String> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
        let btf = Btf::from_vec(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut t = Target::new(Arc::new(btf));
        t.name = path.display().to_string();
        Ok(t)
    }

    /// The running kernel, read the way libbpf reads it: BTF from `/sys/kernel/btf/vmlinux`, the
    /// version from the release (`/proc/sys/kernel/osrelease`), Kconfig from
    /// `/boot/config-<release>` when it is readable (uncompressed).
    pub fn running_kernel() -> Result<Self, String> {
        let mut t = Target::from_btf_file("/sys/kernel/btf/vmlinux")?;
        t.name = "vmlinux".to_string();
        if let Ok(rel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
            let rel = rel.trim();
            if let Some(v) = parse_kernel_release(rel) {
                t.kernel_version = v;
            }
            if let Ok(cfg) = std::fs::read_to_string(format!("/boot/config-{rel}")) {
                t.kconfig = cfg;
            }
        }
        Ok(t)
    }

    /// Sets the name used in messages (`vmlinux` by default, as libbpf says).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets `LINUX_KERNEL_VERSION` (0 makes libbpf's "failed to get kernel version" error).
    pub fn with_kernel_version(mut self, v: u32) -> Self {
        self.kernel_version = v;
        self
    }

    /// Appends Kconfig text (`CONFIG_X=y` lines, as in `/boot/config-*`; libbpf's `kconfig`
    /// open option). The first line naming an extern wins.
    pub fn with_kconfig(mut self, text: &str) -> Self {
        if !self.kconfig.is_empty() && !self.kconfig.ends_with('\n') {
            self.kconfig.push('\n');
        }
        self.kconfig.push_str(text);
        self
    }

    /// Appends one `NAME=VALUE` Kconfig line (`VALUE`: `y`/`n`/`m`, a number, or a quoted string).
    pub fn with_kconfig_value(self, name: &str, value: &str) -> Self {
        self.with_kconfig(&format!("{name}={value}\n"))
    }

    /// Whether the kernel supports BPF cookies (`LINUX_HAS_BPF_COOKIE`) and wraps syscalls
    /// (`LINUX_HAS_SYSCALL_WRAPPER`).
    pub fn with_features(mut self, bpf_cookie: bool, syscall_wrapper: bool) -> Self {
        self.has_bpf_cookie = bpf_cookie;
        self.has_syscall_wrapper = syscall_wrapper;
        self
    }

    /// Adds a kernel symbol address, what libbpf reads from `/proc/kallsyms` for typeless
    /// `extern const void sym __ksym;` externs.
    pub fn with_ksym_addr(mut self, name: impl Into<String>, addr: u64) -> Self {
        self.kallsyms.insert(name.into(), addr);
        self
    }

    /// The BTF.
    pub fn btf(&self) -> &Arc<Btf> {
        &self.btf
    }

    /// The name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Kconfig text.
    pub fn kconfig(&self) -> &str {
        &self.kconfig
    }

    /// `LINUX_KERNEL_VERSION`.
    pub fn kernel_version(&self) -> u32 {
        self.kernel_version
    }

    /// `LINUX_HAS_BPF_COOKIE`.
    pub fn has_bpf_cookie(&self) -> bool {
        self.has_bpf_cookie
    }

    /// `LINUX_HAS_SYSCALL_WRAPPER`.
    pub fn has_syscall_wrapper(&self) -> bool {
        self.has_syscall_wrapper
    }

    /// The BTF indexed by essential name, for CO-RE candidate search (built on first use).
    pub fn cand_index(&self) -> &crate::relo_core::CandIndex {
        self.cand_index.get_or_init(|| Arc::new(crate::relo_core::CandIndex::new(&self.btf)))
    }

    /// The address of kernel symbol `name`, if known.
    pub fn ksym_addr(&self, name: &str) -> Option<u64> {
        self.kallsyms.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        assert_eq!(parse_kernel_release("6.18.44-fc-v769"), Some(kernel_version(6, 18, 44)));
        assert_eq!(parse_kernel_release("6.18.0"), Some(MODEL_KERNEL_VERSION));
        assert_eq!(parse_kernel_release("5.4.300"), Some((5 << 16) + (4 << 8) + 255));
        assert_eq!(parse_kernel_release("6.18"), None);
        assert_eq!(parse_kernel_release("x"), None);
    }
}
