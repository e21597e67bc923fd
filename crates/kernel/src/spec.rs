//! What the kernel model holds: a [`ModelSpec`] — CPUs, cgroups, tasks and the events to replay —
//! read from a model file ([`ModelSpec::parse`]) or taken from the machine kfvm runs on
//! ([`ModelSpec::snapshot`]).
//!
//! # The model file
//!
//! TOML. Every table and key is optional unless marked *required*; unknown keys are errors.
//!
//! ```toml
//! [machine]
//! cpus = 4                    # nr_cpu_ids, 1..=256 (default 4)
//!
//! [[cgroup]]                  # the root "/" always exists (id 1, level 0)
//! path = "/system.slice"      # required: absolute; its parent must exist (listed earlier)
//! id = 40                     # the kernfs node id, which is the cgroup id (default: next free)
//!
//! [[task]]
//! pid = 1                     # required: > 0, unique
//! comm = "systemd"            # at most 15 bytes (default "task<pid>")
//! ppid = 0                    # real_parent (0: the idle task, swapper/0); listed earlier
//! tgid = 1                    # thread group (default: pid); the leader is listed earlier
//! cgroup = "/init.scope"      # the task's cgroup v2 cgroup (default "/")
//! kthread = false             # adds PF_KTHREAD to flags, and the task has no mm
//! flags = 0x400100            # PF_* flags (default 0x400000 PF_FORKNOEXEC, or 0x200040 for kthreads)
//! uid = 0                     # credentials (default 0)
//! gid = 0
//! cpus = "0-3"                # allowed CPUs, cpulist syntax (default: all)
//!
//! [[event]]                   # replayed in order, after every cgroup fired cgroup_mkdir and
//! fork = { pid = 100, ppid = 1, comm = "worker" }   # every task fired task_newtask; a fork
//!                             # takes the keys of [[task]] and fires task_newtask
//! [[event]]
//! switch = { prev = 1, next = 100, cpu = 0 }       # sched_switch
//! [[event]]
//! exit = 100                  # sched_process_exit, then the task is gone
//! [[event]]
//! mkdir = "/system.slice/a"   # or { path = "...", id = N }: cgroup_mkdir
//! [[event]]
//! rmdir = "/system.slice/a"   # cgroup_rmdir, then the cgroup is gone
//! [[event]]
//! packet = "ffffffffffff..." # hex bytes, 14 to 3840 (or { hex = "...", len = N, ifindex = N }): runs xdp programs
//! [[event]]
//! hook = "raw_tp/my_event"    # any hook, with its arguments (integers, "task:PID", "cgroup:ID",
//! args = [1, "task:1"]        # "cgroup:/path")
//! ```
//!
//! Errors name the file, the line and the problem: `model.toml:12: task 7: ppid 3 is not a task
//! listed before it`.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// Most CPUs a model has (the reference kernel's `NR_CPUS`, the width of `struct cpumask`).
pub const NR_CPUS: u32 = 256;

/// An error in a model file: where and what.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelError {
    /// The file, as given.
    pub file: String,
    /// 1-based line (0 when the error has no place, e.g. the file cannot be read).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

/// A CPU set in the kernel's cpulist syntax (`0-3,8`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CpuList(pub BTreeSet<u32>);

impl CpuList {
    /// Parses `0-3,8`.
    pub fn parse(s: &str) -> Result<CpuList, String> {
        let mut set = BTreeSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let num = |t: &str| t.trim().parse::<u32>().map_err(|_| format!("bad CPU number `{t}` in `{s}`"));
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(format!("bad CPU range `{part}`"));
                    }
                    set.extend(a..=b.min(NR_CPUS));
                }
                None => {
                    set.insert(num(part)?);
                }
            }
        }
        Ok(CpuList(set))
    }
}

/// A task of the model.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TaskSpec {
    /// `pid`.
    pub pid: i32,
    /// `tgid` (the thread group leader's pid).
    pub tgid: i32,
    /// The real parent's pid (0: the idle task).
    pub ppid: i32,
    /// `comm`.
    pub comm: String,
    /// The cgroup v2 path.
    pub cgroup: String,
    /// `PF_*` flags.
    pub flags: u32,
    /// A kernel thread (no mm).
    pub kthread: bool,
    /// `uid`.
    pub uid: u32,
    /// `gid`.
    pub gid: u32,
    /// Allowed CPUs (`None`: all).
    pub cpus: Option<CpuList>,
}

/// `PF_KTHREAD`.
pub const PF_KTHREAD: u32 = 0x0020_0000;
/// `PF_FORKNOEXEC`.
pub const PF_FORKNOEXEC: u32 = 0x0000_0040;
/// `PF_SUPERPRIV`.
pub const PF_SUPERPRIV: u32 = 0x0000_0100;
/// `PF_RANDOMIZE`.
pub const PF_RANDOMIZE: u32 = 0x0040_0000;
/// `PF_NOFREEZE`.
pub const PF_NOFREEZE: u32 = 0x0000_8000;

impl TaskSpec {
    /// A user task `pid` named `comm`, child of `ppid`, in the root cgroup.
    pub fn new(pid: i32, ppid: i32, comm: &str) -> TaskSpec {
        TaskSpec {
            pid,
            tgid: pid,
            ppid,
            comm: comm.into(),
            cgroup: "/".into(),
            flags: PF_RANDOMIZE,
            kthread: false,
            uid: 0,
            gid: 0,
            cpus: None,
        }
    }
}

/// A cgroup of the model.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CgroupSpec {
    /// Absolute path (`/` is the root).
    pub path: String,
    /// The kernfs id (= cgroup id); `None`: the next free one.
    pub id: Option<u64>,
}

/// A hook argument given as text or number: an integer, `task:PID`, `cgroup:ID`, `cgroup:/path`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ArgSpec {
    /// An integer.
    Int(u64),
    /// The task with this pid.
    Task(i32),
    /// The cgroup with this id.
    CgroupId(u64),
    /// The cgroup at this path.
    CgroupPath(String),
}

impl ArgSpec {
    /// Parses `--arg` syntax: `42`, `-1`, `0x10`, `task:PID`, `cgroup:ID`, `cgroup:/path`.
    pub fn parse(s: &str) -> Result<ArgSpec, String> {
        let int = |t: &str| -> Option<u64> {
            let t = t.trim();
            if let Some(h) = t.strip_prefix("0x") {
                u64::from_str_radix(h, 16).ok()
            } else if let Some(n) = t.strip_prefix('-') {
                n.parse::<u64>().ok().map(|v| (v as i64).wrapping_neg() as u64)
            } else {
                t.parse().ok()
            }
        };
        if let Some(p) = s.strip_prefix("task:") {
            return p.trim().parse().map(ArgSpec::Task).map_err(|_| format!("`{s}`: expected task:PID"));
        }
        if let Some(c) = s.strip_prefix("cgroup:") {
            if c.starts_with('/') {
                return Ok(ArgSpec::CgroupPath(c.to_string()));
            }
            return int(c)
                .map(ArgSpec::CgroupId)
                .ok_or_else(|| format!("`{s}`: expected cgroup:ID or cgroup:/path"));
        }
        int(s)
            .map(ArgSpec::Int)
            .ok_or_else(|| format!("`{s}`: expected an integer, task:PID, cgroup:ID or cgroup:/path"))
    }
}

impl fmt::Display for ArgSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgSpec::Int(v) => write!(f, "{v}"),
            ArgSpec::Task(p) => write!(f, "task:{p}"),
            ArgSpec::CgroupId(i) => write!(f, "cgroup:{i}"),
            ArgSpec::CgroupPath(p) => write!(f, "cgroup:{p}"),
        }
    }
}

/// An XDP packet event.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PacketSpec {
    /// The bytes.
    pub data: Vec<u8>,
    /// `ingress_ifindex`.
    pub ifindex: u32,
}

/// One event to replay.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum EventSpec {
    /// A new task (fires `task_newtask`).
    Fork(TaskSpec),
    /// A task exits (fires `sched_process_exit`, then it is gone).
    Exit(i32),
    /// A context switch on `cpu` (fires `sched_switch`).
    Switch {
        /// Outgoing task.
        prev: i32,
        /// Incoming task.
        next: i32,
        /// The CPU.
        cpu: u32,
    },
    /// A new cgroup (fires `cgroup_mkdir`).
    Mkdir(CgroupSpec),
    /// A cgroup removed (fires `cgroup_rmdir`).
    Rmdir(String),
    /// A packet (runs XDP programs).
    Packet(PacketSpec),
    /// Any hook with explicit arguments.
    Hook {
        /// `tp_btf/NAME`, `raw_tp/NAME`, `kprobe/FUNC`, ...
        hook: String,
        /// Arguments, in order.
        args: Vec<ArgSpec>,
    },
}

/// An event and the line it was given on (0 for the implicit ones).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Event {
    /// What happens.
    pub spec: EventSpec,
    /// Line in the model file.
    pub line: usize,
}

/// Everything the kernel model starts from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelSpec {
    /// `nr_cpu_ids`.
    pub cpus: u32,
    /// Cgroups besides the root, parents first.
    pub cgroups: Vec<CgroupSpec>,
    /// Tasks, parents (and thread group leaders) first.
    pub tasks: Vec<TaskSpec>,
    /// Events to replay after the initial ones.
    pub events: Vec<Event>,
    /// Where it came from (a file name, or `this machine`).
    pub origin: String,
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            cpus: 4,
            cgroups: Vec::new(),
            tasks: Vec::new(),
            events: Vec::new(),
            origin: "empty model".into(),
        }
    }
}

// ---- the file's shape ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    machine: Option<Spanned<FileMachine>>,
    #[serde(default)]
    cgroup: Vec<Spanned<FileCgroup>>,
    #[serde(default)]
    task: Vec<Spanned<FileTask>>,
    #[serde(default)]
    event: Vec<Spanned<FileEvent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMachine {
    cpus: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCgroup {
    path: String,
    id: Option<u64>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct FileTask {
    pid: i32,
    comm: Option<String>,
    ppid: Option<i32>,
    tgid: Option<i32>,
    cgroup: Option<String>,
    kthread: Option<bool>,
    flags: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    cpus: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PathOrCgroup {
    Path(String),
    Cgroup(FileCgroup),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePacket {
    hex: Option<String>,
    len: Option<usize>,
    ifindex: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HexOrPacket {
    Hex(String),
    Packet(FilePacket),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSwitch {
    prev: i32,
    next: i32,
    cpu: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileArg {
    Int(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEvent {
    fork: Option<FileTask>,
    exit: Option<i32>,
    switch: Option<FileSwitch>,
    mkdir: Option<PathOrCgroup>,
    rmdir: Option<String>,
    packet: Option<HexOrPacket>,
    hook: Option<String>,
    args: Option<Vec<FileArg>>,
}

/// Line (1-based) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|c| {
            std::str::from_utf8(c)
                .ok()
                .and_then(|c| u8::from_str_radix(c, 16).ok())
                .ok_or_else(|| format!("`{}` is not a hex byte", String::from_utf8_lossy(c)))
        })
        .collect()
}

/// Checks a cgroup path: absolute, no empty or dot components. The normalised path.
pub fn normalize_cgroup_path(p: &str) -> Result<String, String> {
    if !p.starts_with('/') {
        return Err(format!("cgroup path `{p}` is not absolute"));
    }
    let parts: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
    for c in &parts {
        if *c == "." || *c == ".." || c.len() > 255 {
            return Err(format!("cgroup path `{p}`: bad component `{c}`"));
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// The parent path of a normalised cgroup path (`None` for the root).
pub fn parent_path(p: &str) -> Option<String> {
    if p == "/" {
        return None;
    }
    let i = p.rfind('/').unwrap_or(0);
    Some(if i == 0 { "/".into() } else { p[..i].to_string() })
}

struct Checker {
    cpus: u32,
    cgroups: BTreeMap<String, u64>,
    ids: BTreeSet<u64>,
    next_id: u64,
    tasks: BTreeMap<i32, i32>, // pid -> tgid
}

impl Checker {
    fn cgroup(&mut self, path: &str, id: Option<u64>) -> Result<CgroupSpec, String> {
        let path = normalize_cgroup_path(path)?;
        if path == "/" {
            return Err("the root cgroup `/` always exists".into());
        }
        if self.cgroups.contains_key(&path) {
            return Err(format!("cgroup `{path}` is given twice"));
        }
        let parent = parent_path(&path).unwrap_or_default();
        if !self.cgroups.contains_key(&parent) {
            return Err(format!("cgroup `{path}`: its parent `{parent}` is not a cgroup listed before it"));
        }
        if let Some(id) = id {
            if id < 2 {
                return Err(format!("cgroup `{path}`: id {id} is reserved (the root is 1)"));
            }
            if !self.ids.insert(id) {
                return Err(format!("cgroup `{path}`: id {id} is already used"));
            }
        }
        let assigned = id.unwrap_or_else(|| {
            while self.ids.contains(&self.next_id) {
                self.next_id += 1;
            }
            self.ids.insert(self.next_id);
            self.next_id
        });
        self.cgroups.insert(path.clone(), assigned);
        Ok(CgroupSpec { path, id: Some(assigned) })
    }

    fn task(&mut self, t: &FileTask) -> Result<TaskSpec, String> {
        let pid = t.pid;
        if pid <= 0 {
            return Err(format!("task {pid}: pid must be positive"));
        }
        if self.tasks.contains_key(&pid) {
            return Err(format!("task {pid}: pid {pid} is already a task"));
        }
        let ppid = t.ppid.unwrap_or(0);
        if ppid != 0 && !self.tasks.contains_key(&ppid) {
            return Err(format!("task {pid}: ppid {ppid} is not a task listed before it"));
        }
        let tgid = t.tgid.unwrap_or(pid);
        if tgid != pid && self.tasks.get(&tgid) != Some(&tgid) {
            return Err(format!("task {pid}: tgid {tgid} is not a thread group leader listed before it"));
        }
        let comm = t.comm.clone().unwrap_or_else(|| format!("task{pid}"));
        if comm.len() > 15 {
            return Err(format!("task {pid}: comm `{comm}` is longer than 15 bytes (TASK_COMM_LEN 16)"));
        }
        let cgroup = normalize_cgroup_path(t.cgroup.as_deref().unwrap_or("/"))
            .map_err(|e| format!("task {pid}: {e}"))?;
        if !self.cgroups.contains_key(&cgroup) {
            return Err(format!("task {pid}: cgroup `{cgroup}` is not a cgroup of the model"));
        }
        let kthread = t.kthread.unwrap_or(false);
        let mut flags = t.flags.unwrap_or(if kthread { PF_KTHREAD | PF_NOFREEZE } else { PF_RANDOMIZE });
        if kthread {
            flags |= PF_KTHREAD;
        }
        let cpus = match &t.cpus {
            None => None,
            Some(s) => {
                let l = CpuList::parse(s).map_err(|e| format!("task {pid}: cpus: {e}"))?;
                if let Some(c) = l.0.iter().find(|&&c| c >= self.cpus) {
                    return Err(format!(
                        "task {pid}: cpus: CPU {c} does not exist (the model has {})",
                        self.cpus
                    ));
                }
                Some(l)
            }
        };
        self.tasks.insert(pid, tgid);
        Ok(TaskSpec {
            pid,
            tgid,
            ppid,
            comm,
            cgroup,
            flags,
            kthread,
            uid: t.uid.unwrap_or(0),
            gid: t.gid.unwrap_or(0),
            cpus,
        })
    }

    fn arg(&self, a: &FileArg) -> Result<ArgSpec, String> {
        let spec = match a {
            FileArg::Int(v) => ArgSpec::Int(*v as u64),
            FileArg::Text(s) => ArgSpec::parse(s)?,
        };
        match &spec {
            ArgSpec::Task(p) if !self.tasks.contains_key(p) => Err(format!("argument `{spec}`: no task {p}")),
            ArgSpec::CgroupPath(p) if !self.cgroups.contains_key(p) => {
                Err(format!("argument `{spec}`: no cgroup `{p}`"))
            }
            ArgSpec::CgroupId(i) if !self.ids.contains(i) && *i != 1 => {
                Err(format!("argument `{spec}`: no cgroup with id {i}"))
            }
            _ => Ok(spec),
        }
    }

    fn event(&mut self, e: &FileEvent) -> Result<EventSpec, String> {
        let kinds = [
            e.fork.is_some(),
            e.exit.is_some(),
            e.switch.is_some(),
            e.mkdir.is_some(),
            e.rmdir.is_some(),
            e.packet.is_some(),
            e.hook.is_some(),
        ];
        let n = kinds.iter().filter(|k| **k).count();
        if n != 1 {
            return Err(format!(
                "an event takes exactly one of fork, exit, switch, mkdir, rmdir, packet, hook ({n} given)"
            ));
        }
        if e.args.is_some() && e.hook.is_none() {
            return Err("`args` goes with `hook`".into());
        }
        if let Some(t) = &e.fork {
            return Ok(EventSpec::Fork(self.task(t)?));
        }
        if let Some(pid) = e.exit {
            if self.tasks.remove(&pid).is_none() {
                return Err(format!("exit: no task {pid}"));
            }
            return Ok(EventSpec::Exit(pid));
        }
        if let Some(s) = &e.switch {
            for p in [s.prev, s.next] {
                if !self.tasks.contains_key(&p) {
                    return Err(format!("switch: no task {p}"));
                }
            }
            let cpu = s.cpu.unwrap_or(0);
            if cpu >= self.cpus {
                return Err(format!("switch: CPU {cpu} does not exist (the model has {})", self.cpus));
            }
            return Ok(EventSpec::Switch { prev: s.prev, next: s.next, cpu });
        }
        if let Some(m) = &e.mkdir {
            let (path, id) = match m {
                PathOrCgroup::Path(p) => (p.as_str(), None),
                PathOrCgroup::Cgroup(c) => (c.path.as_str(), c.id),
            };
            return Ok(EventSpec::Mkdir(self.cgroup(path, id)?));
        }
        if let Some(p) = &e.rmdir {
            let path = normalize_cgroup_path(p)?;
            if path == "/" {
                return Err("rmdir: the root cgroup cannot be removed".into());
            }
            if self.cgroups.keys().any(|c| c.starts_with(&format!("{path}/"))) {
                return Err(format!("rmdir: cgroup `{path}` has children"));
            }
            if self.cgroups.remove(&path).is_none() {
                return Err(format!("rmdir: no cgroup `{path}`"));
            }
            return Ok(EventSpec::Rmdir(path));
        }
        if let Some(p) = &e.packet {
            let (hex, len, ifindex) = match p {
                HexOrPacket::Hex(h) => (Some(h.as_str()), None, None),
                HexOrPacket::Packet(p) => (p.hex.as_deref(), p.len, p.ifindex),
            };
            let mut data = match hex {
                Some(h) => parse_hex(h).map_err(|e| format!("packet: {e}"))?,
                None => Vec::new(),
            };
            if let Some(l) = len {
                data.resize(l, 0);
            }
            if data.len() < 14 || data.len() > 4096 - 256 {
                return Err(format!("packet: {} bytes (a packet has 14 to 3840)", data.len()));
            }
            return Ok(EventSpec::Packet(PacketSpec { data, ifindex: ifindex.unwrap_or(1) }));
        }
        let hook = e.hook.clone().unwrap_or_default();
        let args = e.args.iter().flatten().map(|a| self.arg(a)).collect::<Result<Vec<_>, _>>()?;
        Ok(EventSpec::Hook { hook, args })
    }
}

impl ModelSpec {
    /// Reads a model file.
    pub fn load(path: &std::path::Path) -> Result<ModelSpec, ModelError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ModelError {
            file: file.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        ModelSpec::parse(&text, &file)
    }

    /// Parses a model file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ModelSpec, ModelError> {
        let err = |span: Option<Range<usize>>, message: String| ModelError {
            file: file.to_string(),
            line: span.map_or(0, |s| line_of(text, s.start)),
            message,
        };
        let model: FileModel = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().to_string();
            err(e.span(), msg)
        })?;
        let cpus = model.machine.as_ref().and_then(|m| m.get_ref().cpus).unwrap_or(4);
        if cpus == 0 || cpus > NR_CPUS {
            let span = model.machine.as_ref().map(|m| m.span());
            return Err(err(span, format!("machine.cpus = {cpus}: a model has 1 to {NR_CPUS} CPUs")));
        }
        let mut ck = Checker {
            cpus,
            cgroups: BTreeMap::from([("/".to_string(), 1)]),
            ids: BTreeSet::from([1]),
            next_id: 2,
            tasks: BTreeMap::new(),
        };
        let mut spec = ModelSpec { cpus, origin: file.to_string(), ..ModelSpec::default() };
        for c in &model.cgroup {
            let cg = ck.cgroup(&c.get_ref().path, c.get_ref().id).map_err(|m| err(Some(c.span()), m))?;
            spec.cgroups.push(cg);
        }
        for t in &model.task {
            let ts = ck.task(t.get_ref()).map_err(|m| err(Some(t.span()), m))?;
            spec.tasks.push(ts);
        }
        for e in &model.event {
            let ev = ck.event(e.get_ref()).map_err(|m| err(Some(e.span()), m))?;
            spec.events.push(Event { spec: ev, line: line_of(text, e.span().start) });
        }
        Ok(spec)
    }

    /// A snapshot of this machine: its CPUs, its cgroup v2 tree (`/sys/fs/cgroup`, ids being
    /// the directories' inode numbers, as the kernel's cgroup ids are kernfs ids), and its
    /// processes and threads from `/proc` (pid, tgid, ppid, comm, flags, uid/gid, cgroup,
    /// allowed CPUs). What cannot be read is left out (a task that exits while it is read, a
    /// cgroup tree that is not cgroup v2).
    pub fn snapshot() -> ModelSpec {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let cpus = std::fs::read_to_string("/sys/devices/system/cpu/possible")
            .ok()
            .and_then(|s| CpuList::parse(s.trim()).ok())
            .and_then(|l| l.0.last().map(|m| m + 1))
            .unwrap_or(cpus)
            .clamp(1, NR_CPUS);
        let mut spec = ModelSpec { cpus, origin: "this machine".into(), ..ModelSpec::default() };
        let cg_root = cgroup2_mount();
        let mut cg_paths: BTreeSet<String> = BTreeSet::from(["/".to_string()]);
        if let Some(root) = &cg_root {
            let mut found = Vec::new();
            walk_cgroups(root, root, 0, &mut found);
            let mut ids = BTreeSet::from([1u64]);
            for (path, ino) in found {
                let id = (ino >= 2 && ids.insert(ino)).then_some(ino);
                cg_paths.insert(path.clone());
                spec.cgroups.push(CgroupSpec { path, id });
            }
        }
        // Processes, then their threads; parents before children.
        let mut tasks: BTreeMap<i32, TaskSpec> = BTreeMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else { return spec };
        for e in dir.flatten() {
            let Some(tgid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
            let Ok(threads) = std::fs::read_dir(e.path().join("task")) else { continue };
            for t in threads.flatten() {
                let Some(pid) = t.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
                if let Some(ts) = read_proc_task(&t.path(), pid, tgid, cpus, &cg_paths) {
                    tasks.insert(pid, ts);
                }
            }
        }
        let mut done: BTreeSet<i32> = BTreeSet::new();
        let pids: Vec<i32> = tasks.keys().copied().collect();
        for pid in pids {
            order_task(pid, &mut tasks, &mut done, &mut spec.tasks, 0);
        }
        spec
    }
}

/// Appends `pid` after its parent and leader (a parent missing from the snapshot becomes 0).
fn order_task(
    pid: i32,
    tasks: &mut BTreeMap<i32, TaskSpec>,
    done: &mut BTreeSet<i32>,
    out: &mut Vec<TaskSpec>,
    depth: u32,
) {
    if done.contains(&pid) || depth > 4096 {
        return;
    }
    let Some(mut t) = tasks.get(&pid).cloned() else { return };
    done.insert(pid);
    if t.tgid != pid {
        if tasks.contains_key(&t.tgid) {
            order_task(t.tgid, tasks, done, out, depth + 1);
        } else {
            t.tgid = pid;
        }
    }
    if t.ppid != 0 {
        if tasks.contains_key(&t.ppid) && t.ppid != pid {
            order_task(t.ppid, tasks, done, out, depth + 1);
        }
        if !out.iter().any(|o| o.pid == t.ppid) {
            t.ppid = 0;
        }
    }
    if t.tgid != pid && !out.iter().any(|o| o.pid == t.tgid && o.tgid == o.pid) {
        t.tgid = pid;
    }
    out.push(t);
}

fn cgroup2_mount() -> Option<std::path::PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 2 && f[2] == "cgroup2").then(|| std::path::PathBuf::from(f[1]))
    })
}

fn walk_cgroups(root: &std::path::Path, dir: &std::path::Path, depth: u32, out: &mut Vec<(String, u64)>) {
    use std::os::unix::fs::MetadataExt;
    if depth > 32 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut subdirs: Vec<_> = rd.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).collect();
    subdirs.sort_by_key(|e| e.file_name());
    for e in subdirs {
        let p = e.path();
        let Ok(rel) = p.strip_prefix(root) else { continue };
        let Some(rel) = rel.to_str() else { continue };
        let Ok(path) = normalize_cgroup_path(&format!("/{rel}")) else { continue };
        let ino = e.metadata().map(|m| m.ino()).unwrap_or(0);
        out.push((path, ino));
        walk_cgroups(root, &p, depth + 1, out);
    }
}

fn read_proc_task(
    dir: &std::path::Path,
    pid: i32,
    tgid: i32,
    cpus: u32,
    cgroups: &BTreeSet<String>,
) -> Option<TaskSpec> {
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // pid (comm) state ppid ... ; comm may contain spaces and parentheses.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm: String = stat[open + 1..close].chars().take(15).collect();
    let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ppid: i32 = rest.get(1)?.parse().ok()?;
    let flags: u32 = rest.get(6)?.parse().ok()?;
    let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
    };
    let uid = field("Uid:").and_then(|v| v.parse().ok()).unwrap_or(0);
    let gid = field("Gid:").and_then(|v| v.parse().ok()).unwrap_or(0);
    let cpus_allowed = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .and_then(|v| CpuList::parse(v.trim()).ok())
        .map(|l| CpuList(l.0.into_iter().filter(|&c| c < cpus).collect()))
        .filter(|l| !l.0.is_empty() && l.0.len() < cpus as usize);
    let cgroup = std::fs::read_to_string(dir.join("cgroup"))
        .ok()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("0::").map(str::to_string)))
        .and_then(|p| normalize_cgroup_path(&p).ok())
        .filter(|p| cgroups.contains(p))
        .unwrap_or_else(|| "/".into());
    let kthread = flags & PF_KTHREAD != 0;
    Some(TaskSpec {
        pid,
        tgid,
        ppid: if pid == tgid { ppid } else { ppid.max(0) },
        comm,
        cgroup,
        flags,
        kthread,
        uid,
        gid,
        cpus: cpus_allowed,
    })
}
