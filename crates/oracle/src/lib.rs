//! The live kernel as an oracle, for tests.
//!
//! Loads raw instructions with `BPF_PROG_LOAD` (returning the verifier's verdict and log) and runs
//! them with `BPF_PROG_TEST_RUN`. Everything here needs `bpf()` to work: root (or CAP_BPF) on a
//! Linux kernel. [`available`] says whether it does, and why not, so tests can skip with a reason;
//! [`file_trials`] builds the usual file-driven test (each file checked by kfvm, and by the
//! kernel where it can be asked) as `libtest-mimic` trials.

#![deny(missing_docs)]

pub mod object;

use kfvm_isa::RawInsn;
use libtest_mimic::{Failed, Trial};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// Program types used by tests (`enum bpf_prog_type`), as the numbers `bpf()` takes: those of
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
    /// `BPF_PROG_TYPE_SYSCALL`: runs from `BPF_PROG_TEST_RUN` with a user buffer as context; must
    /// be loaded with [`F_SLEEPABLE`](super::F_SLEEPABLE).
    pub const SYSCALL: u32 = ProgType::Syscall.as_u32();
}

/// `BPF_F_SLEEPABLE`
pub const F_SLEEPABLE: u32 = kfvm_uapi::BPF_F_SLEEPABLE;

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    log_true_size: u32,
    prog_token_fd: i32,
    fd_array_cnt: u32,
    signature: u64,
    signature_size: u32,
    keyring_id: i32,
}

#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

fn sys_bpf<T>(cmd: libc::c_long, attr: &mut T) -> Result<i64, std::io::Error> {
    // SAFETY: `attr` is a live, writable `bpf_attr` prefix of the size passed.
    let r = unsafe {
        libc::syscall(libc::SYS_bpf, cmd, attr as *mut T as *mut libc::c_void, core::mem::size_of::<T>())
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// The verifier's answer.
#[derive(Debug)]
pub struct Loaded {
    /// The program, if the verifier accepted it.
    pub fd: Option<OwnedFd>,
    /// `errno` of a refused load.
    pub errno: Option<i32>,
    /// The verifier log.
    pub log: String,
}

/// Loads `insns` as a program of `prog_type` with verifier log level `log_level`.
pub fn load(prog_type: u32, insns: &[RawInsn], flags: u32, log_level: u32) -> Loaded {
    prog_load(insns, &LoadOpts { prog_type, flags, log_level, ..Default::default() }, 1 << 22)
}

/// Runs a `BPF_PROG_TYPE_SYSCALL` program once with `BPF_PROG_TEST_RUN`, with `ctx` as its
/// context; returns its 32-bit return value and the context afterwards (the kernel copies a
/// syscall program's context back into `ctx_in`, and refuses `ctx_out`, `repeat` and data).
pub fn test_run_syscall(fd: &OwnedFd, ctx: &[u8]) -> Result<(u32, Vec<u8>), std::io::Error> {
    let mut buf = ctx.to_vec();
    let mut attr = TestRunAttr {
        prog_fd: fd.as_raw_fd() as u32,
        ctx_size_in: buf.len() as u32,
        ctx_in: if buf.is_empty() { 0 } else { buf.as_mut_ptr() as u64 },
        ..Default::default()
    };
    sys_bpf(BPF_PROG_TEST_RUN, &mut attr)?;
    Ok((attr.retval, buf))
}

/// Runs a program once with `BPF_PROG_TEST_RUN` on `data` (a packet, for XDP and TC programs)
/// and `ctx` (a context); returns its 32-bit return value.
pub fn test_run(fd: &OwnedFd, data: &[u8], ctx: &[u8]) -> Result<u32, std::io::Error> {
    let mut out = vec![0u8; data.len() + 4096];
    let mut attr = TestRunAttr {
        prog_fd: fd.as_raw_fd() as u32,
        data_size_in: data.len() as u32,
        data_in: if data.is_empty() { 0 } else { data.as_ptr() as u64 },
        data_size_out: if data.is_empty() { 0 } else { out.len() as u32 },
        data_out: if data.is_empty() { 0 } else { out.as_mut_ptr() as u64 },
        ctx_size_in: ctx.len() as u32,
        ctx_in: if ctx.is_empty() { 0 } else { ctx.as_ptr() as u64 },
        repeat: 1,
        ..Default::default()
    };
    sys_bpf(BPF_PROG_TEST_RUN, &mut attr)?;
    Ok(attr.retval)
}

/// Whether the live kernel can be asked, or why not.
pub fn available() -> Result<(), String> {
    // `r0 = 0; exit` as a syscall program: the smallest load that needs what tests need.
    let insns = [RawInsn::new(0xb7, 0, 0, 0, 0), RawInsn::new(0x95, 0, 0, 0, 0)];
    let l = load(prog_type::SYSCALL, &insns, F_SLEEPABLE, 0);
    match (l.fd, l.errno) {
        (Some(_), _) => Ok(()),
        (None, Some(e)) => {
            Err(format!("bpf(BPF_PROG_LOAD) is refused here: {}", std::io::Error::from_raw_os_error(e)))
        }
        (None, None) => Err("bpf(BPF_PROG_LOAD) failed".into()),
    }
}

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_BTF_LOAD: libc::c_long = 18;

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
    value_type_btf_obj_fd: i32,
    map_token_fd: i32,
}

#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    btf_log_true_size: u32,
    btf_flags: u32,
    btf_token_fd: i32,
}

/// A map to create with [`create_map`] (the fields of `BPF_MAP_CREATE`).
#[derive(Clone, Debug, Default)]
pub struct MapSpec {
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Most entries.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// The map's name (at most 15 bytes are used).
    pub name: String,
    /// Raw BTF describing the value (loaded with `BPF_BTF_LOAD`), and the type ids of the key and
    /// the value in it; `None` for a map without BTF.
    pub btf: Option<(Vec<u8>, u32, u32)>,
}

thread_local! {
    /// The BTF blob loaded last and its file descriptor.
    static LAST_BTF: std::cell::RefCell<Option<(Vec<u8>, std::rc::Rc<OwnedFd>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Loads `blob` with `BPF_BTF_LOAD`, or gives the descriptor of the same blob loaded last: the
/// maps of an object and its programs then share one kernel BTF object, as libbpf makes them
/// share the object's BTF (the kernel compares BTF objects, e.g. a local kptr field's type with
/// the type of the object `bpf_kptr_xchg()` stores there).
fn btf_load_shared(blob: &[u8]) -> Result<std::rc::Rc<OwnedFd>, std::io::Error> {
    if let Some(fd) =
        LAST_BTF.with(|c| c.borrow().as_ref().filter(|(b, _)| b == blob).map(|(_, fd)| fd.clone()))
    {
        return Ok(fd);
    }
    let mut battr =
        BtfLoadAttr { btf: blob.as_ptr() as u64, btf_size: blob.len() as u32, ..Default::default() };
    let fd = sys_bpf(BPF_BTF_LOAD, &mut battr)?;
    // SAFETY: a successful BPF_BTF_LOAD returns a new file descriptor we now own.
    let fd = std::rc::Rc::new(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    LAST_BTF.with(|c| *c.borrow_mut() = Some((blob.to_vec(), fd.clone())));
    Ok(fd)
}

/// Creates a map; the file descriptor goes into a program's `fd_array` or a `lddw` of
/// `BPF_PSEUDO_MAP_FD`.
pub fn create_map(spec: &MapSpec) -> Result<OwnedFd, std::io::Error> {
    let mut name = [0u8; 16];
    for (d, s) in name.iter_mut().zip(spec.name.bytes().take(15)) {
        *d = s;
    }
    let mut attr = MapCreateAttr {
        map_type: spec.map_type,
        key_size: spec.key_size,
        value_size: spec.value_size,
        max_entries: spec.max_entries,
        map_flags: spec.map_flags,
        map_name: name,
        ..Default::default()
    };
    let btf_fd = match &spec.btf {
        Some((blob, key_id, value_id)) => {
            let fd = btf_load_shared(blob)?;
            attr.btf_fd = fd.as_raw_fd() as u32;
            attr.btf_key_type_id = *key_id;
            attr.btf_value_type_id = *value_id;
            Some(fd)
        }
        None => None,
    };
    let r = sys_bpf(BPF_MAP_CREATE, &mut attr);
    drop(btf_fd);
    // SAFETY: a successful BPF_MAP_CREATE returns a new file descriptor we now own.
    r.map(|fd| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;

/// Writes `value` under `key` in map `fd` (`BPF_MAP_UPDATE_ELEM`, `BPF_ANY`).
pub fn map_update(fd: &OwnedFd, key: &[u8], value: &[u8]) -> Result<(), std::io::Error> {
    let mut attr = MapElemAttr {
        map_fd: fd.as_raw_fd() as u32,
        key: key.as_ptr() as u64,
        value: value.as_ptr() as u64,
        ..Default::default()
    };
    sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(|_| ())
}

/// A `bpf()` command whose attribute is a map file descriptor alone (`BPF_MAP_FREEZE`).
pub(crate) fn sys_bpf_fd_cmd(cmd: libc::c_long, fd: &OwnedFd) -> Result<(), std::io::Error> {
    let mut attr = [fd.as_raw_fd() as u32, 0u32];
    sys_bpf(cmd, &mut attr).map(|_| ())
}

/// Everything [`load_with`] passes to `BPF_PROG_LOAD`.
#[derive(Clone, Copy, Debug)]
pub struct LoadOpts<'a> {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// `prog_flags`.
    pub flags: u32,
    /// Verifier log level.
    pub log_level: u32,
    /// `expected_attach_type`.
    pub expected_attach_type: u32,
    /// `fd_array`: map file descriptors for `lddw` of `BPF_PSEUDO_MAP_IDX` (`map[idx:N]`).
    pub fd_array: &'a [i32],
    /// `attach_btf_id` (a vmlinux BTF id, for tracing programs).
    pub attach_btf_id: u32,
    /// The program's raw BTF (loaded with `BPF_BTF_LOAD` and passed as `prog_btf_fd`); empty
    /// for none.
    pub prog_btf: &'a [u8],
    /// `func_info` records (`insn_off`, `type_id`) into [`prog_btf`](Self::prog_btf).
    pub func_info: &'a [(u32, u32)],
}

impl Default for LoadOpts<'_> {
    fn default() -> Self {
        LoadOpts {
            prog_type: prog_type::SOCKET_FILTER,
            flags: 0,
            log_level: 0,
            expected_attach_type: 0,
            fd_array: &[],
            attach_btf_id: 0,
            prog_btf: &[],
            func_info: &[],
        }
    }
}

/// The size of the log buffer [`load_with`] gives the kernel (a log that outgrows it fails
/// the load with `ENOSPC`).
pub const LOAD_WITH_LOG_SIZE: u32 = 1 << 24;

/// [`load`] with every option of [`LoadOpts`].
pub fn load_with(insns: &[RawInsn], opts: &LoadOpts<'_>) -> Loaded {
    prog_load(insns, opts, LOAD_WITH_LOG_SIZE as usize)
}

/// `BPF_PROG_LOAD` with a log buffer of `log_size` bytes (none at log level 0: the kernel
/// refuses a log buffer then).
fn prog_load(insns: &[RawInsn], opts: &LoadOpts<'_>, log_size: usize) -> Loaded {
    prog_load_sized(insns, opts, &[], "GPL", "", log_size)
}

/// [`load_with`] with `line_info` records (`insn_off`, `file_name_off`, `line_off`,
/// `line_col`) into [`LoadOpts::prog_btf`], the licence and the program's name.
pub fn prog_load_ext(
    insns: &[RawInsn],
    opts: &LoadOpts<'_>,
    line_info: &[[u32; 4]],
    license: &str,
    name: &str,
) -> Loaded {
    prog_load_sized(insns, opts, line_info, license, name, LOAD_WITH_LOG_SIZE as usize)
}

fn prog_load_sized(
    insns: &[RawInsn],
    opts: &LoadOpts<'_>,
    line_info: &[[u32; 4]],
    license: &str,
    name: &str,
    log_size: usize,
) -> Loaded {
    let license = std::ffi::CString::new(license).unwrap_or_default();
    let license = license.as_bytes_with_nul();
    let mut prog_name = [0u8; 16];
    // The kernel takes [A-Za-z0-9_.] names of at most 15 bytes (libbpf cuts them).
    for (d, c) in prog_name.iter_mut().zip(name.bytes().take(15)) {
        *d = if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' { c } else { b'_' };
    }
    let line_info: Vec<u32> = line_info.iter().flatten().copied().collect();
    let btf_fd = if opts.prog_btf.is_empty() {
        None
    } else {
        match btf_load_shared(opts.prog_btf) {
            Ok(fd) => Some(fd),
            Err(e) => {
                return Loaded { fd: None, errno: e.raw_os_error(), log: format!("BPF_BTF_LOAD failed: {e}") }
            }
        }
    };
    let func_info: Vec<u32> = opts.func_info.iter().flat_map(|&(off, id)| [off, id]).collect();
    let mut log = vec![0u8; if opts.log_level == 0 { 0 } else { log_size }];
    let mut attr = ProgLoadAttr {
        prog_type: opts.prog_type,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: opts.log_level,
        log_size: log.len() as u32,
        log_buf: if log.is_empty() { 0 } else { log.as_mut_ptr() as u64 },
        prog_flags: opts.flags,
        expected_attach_type: opts.expected_attach_type,
        attach_btf_id: opts.attach_btf_id,
        fd_array: if opts.fd_array.is_empty() { 0 } else { opts.fd_array.as_ptr() as u64 },
        prog_btf_fd: btf_fd.as_ref().map_or(0, |f| f.as_raw_fd() as u32),
        func_info_rec_size: if func_info.is_empty() { 0 } else { 8 },
        func_info: if func_info.is_empty() { 0 } else { func_info.as_ptr() as u64 },
        func_info_cnt: opts.func_info.len() as u32,
        line_info_rec_size: if line_info.is_empty() { 0 } else { 16 },
        line_info: if line_info.is_empty() { 0 } else { line_info.as_ptr() as u64 },
        line_info_cnt: (line_info.len() / 4) as u32,
        prog_name,
        ..Default::default()
    };
    let r = sys_bpf(BPF_PROG_LOAD, &mut attr);
    drop(btf_fd);
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let log = String::from_utf8_lossy(&log[..end]).into_owned();
    match r {
        // SAFETY: a successful BPF_PROG_LOAD returns a new file descriptor we now own.
        Ok(fd) => Loaded { fd: Some(unsafe { OwnedFd::from_raw_fd(fd as i32) }), errno: None, log },
        Err(e) => Loaded { fd: None, errno: e.raw_os_error(), log },
    }
}

/// The files of `dir` whose name ends in `.{ext}`, sorted (panics if `dir` cannot be read: a
/// test corpus is missing).
pub fn test_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// A trial that needs the live kernel: `test` where `kernel` (what [`available`] said) is
/// `Ok`, else an ignored trial whose name says why it is skipped.
pub fn kernel_trial(
    kernel: &Result<(), String>,
    name: String,
    test: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    match kernel {
        Ok(()) => Trial::test(name, test),
        Err(why) => Trial::test(format!("{name} (skipped: {why})"), || Ok(())).with_ignored_flag(true),
    }
}

/// A file-driven test against the live kernel: for each file of `dir` ending in `.{ext}` (in
/// name order), a trial `kfvm::NAME` running `kfvm_check` on it and a trial `kernel::NAME`
/// running `kernel_check` ([`kernel_trial`]: skipped, saying why, where `bpf()` is refused).
/// Run them with `libtest_mimic::run`.
pub fn file_trials<K, L>(dir: &Path, ext: &str, kfvm_check: K, kernel_check: L) -> Vec<Trial>
where
    K: Fn(&Path) -> Result<(), Failed> + Send + Sync + 'static,
    L: Fn(&Path) -> Result<(), Failed> + Send + Sync + 'static,
{
    let (kfvm_check, kernel_check) = (Arc::new(kfvm_check), Arc::new(kernel_check));
    let kernel = available();
    let mut trials = Vec::new();
    for f in test_files(dir, ext) {
        let name = f.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let (check, f1) = (kfvm_check.clone(), f.clone());
        trials.push(Trial::test(format!("kfvm::{name}"), move || check(&f1)));
        let check = kernel_check.clone();
        trials.push(kernel_trial(&kernel, format!("kernel::{name}"), move || check(&f)));
    }
    trials
}
