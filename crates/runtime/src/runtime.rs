//! [`Runtime`]: an object's maps and programs bound to a kernel model, its hooks, its runs.

use crate::helpers;
use crate::hooks::{ArgType, Hook, PT_REGS_ARGS, PT_REGS_SIZE};
use crate::lowmem::{LowMem, MAX_PACKET};
use crate::maps::{map_type, DtorFn, KptrSlot, Map, MapSpec};
use kfvm_isa::RawInsn;
use kfvm_kernel::spec::{ArgSpec, EventSpec, ModelSpec, TaskSpec};
use kfvm_kernel::types::{Cgroup, TaskStruct};
use kfvm_kernel::{Kernel, RunCtx};
use kfvm_kfunc::KfuncRegistry;
use kfvm_link::{LinkedObject, LinkedProgram};
use kfvm_object::{FieldKind, KptrKind, MapSource};
use kfvm_vm::{HostFns, Interpreter, Program, Region, RunMemory, VmError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Map handles (`lddw rX, map`) start here, one every [`MAP_ADDR_STRIDE`] bytes: values that
/// look like kernel addresses and are never host memory. Helpers turn them back into maps.
pub const MAP_ADDR_BASE: u64 = 0xffff_8881_0000_0000;
/// `ETH_HLEN`: the shortest packet an XDP test run takes.
const ETH_HLEN: usize = 14;

/// Distance between map handles.
pub const MAP_ADDR_STRIDE: u64 = 0x1_0000;

/// Why something could not be loaded, attached or run.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The object, a map or a program could not be loaded.
    #[error("{0}")]
    Load(String),
    /// The verifier rejected a program.
    #[error("program {prog}: rejected by the verifier: {message}")]
    Rejected {
        /// The program.
        prog: String,
        /// The verifier's message.
        message: String,
    },
    /// Bad input to a run (an argument that does not fit the hook, a missing packet, ...).
    #[error("{0}")]
    Input(String),
    /// A run ended holding references it acquired (the kernel's verifier refuses such
    /// programs: "Unreleased reference"); they were released.
    #[error("program {prog}: the run ended holding {refs} reference(s) it acquired (Unreleased reference)")]
    Unreleased {
        /// The program.
        prog: String,
        /// How many.
        refs: usize,
    },
    /// A run stopped abnormally.
    #[error("program {prog}: {error}")]
    Run {
        /// The program.
        prog: String,
        /// What happened.
        error: VmError,
    },
}

/// How a program runs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Mode {
    /// The verifier accepted it: the interpreter's verified mode.
    Verified,
    /// The verifier cannot decide yet (the reason): the interpreter's checked mode, with
    /// faulting loads reading 0 as the kernel's `BPF_PROBE_MEM` loads do. (In verified mode,
    /// the loads the verifier marks read 0 where they would fault.)
    Checked(String),
}

/// What the runtime shares with its helpers.
pub(crate) struct Shared {
    pub(crate) kernel: Kernel,
    trace: Mutex<Vec<String>>,
    #[allow(clippy::type_complexity)]
    sink: Mutex<Option<Box<dyn FnMut(&str) + Send>>>,
    prandom: AtomicU64,
    start: Instant,
}

impl Shared {
    pub(crate) fn ktime_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64 + 1_000_000_000
    }

    pub(crate) fn prandom(&self) -> u32 {
        // xorshift64*, shared by every run (deterministic for a given model and order of runs).
        let mut x = self.prandom.load(Ordering::Relaxed);
        loop {
            let mut y = x;
            y ^= y >> 12;
            y ^= y << 25;
            y ^= y >> 27;
            match self.prandom.compare_exchange_weak(x, y, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (y.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32,
                Err(now) => x = now,
            }
        }
    }

    /// A `bpf_printk` line.
    pub(crate) fn printk(&self, _rc: &RunCtx, msg: &str) {
        let line = msg.strip_suffix('\n').unwrap_or(msg).to_string();
        if let Some(sink) = self.sink.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            sink(&line);
        }
        self.trace.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
}

/// What a helper finds behind `RunCtx::ext`.
pub(crate) struct RunExt<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) maps: &'a [Arc<Map>],
}

/// A loaded program.
#[derive(Debug)]
pub struct Prog {
    /// Its name.
    pub name: String,
    /// Its section.
    pub section: String,
    /// Where it attaches.
    pub hook: Hook,
    /// How it runs.
    pub mode: Mode,
    /// kfvm's warnings from verification (calls of deprecated kfuncs), one line each.
    pub warnings: Vec<String>,
    program: Program,
    obj_sizes: Vec<(u32, u32)>,
    runs: AtomicU64,
    total_ns: AtomicU64,
}

impl Prog {
    /// Runs so far and their total duration in nanoseconds.
    pub fn stats(&self) -> (u64, u64) {
        (self.runs.load(Ordering::Relaxed), self.total_ns.load(Ordering::Relaxed))
    }
}

/// A hook argument, resolved: the value and what keeps its object alive during the run.
#[derive(Debug)]
pub enum Arg {
    /// A plain value.
    Int(u64),
    /// A task (referenced).
    Task(kfvm_kernel::model::Ref<TaskStruct>),
    /// A cgroup (referenced).
    Cgroup(kfvm_kernel::model::Ref<Cgroup>),
    /// A string (kept in the run's memory).
    Str(Vec<u8>),
}

/// The result of [`Runtime::test_run`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TestRun {
    /// R0 of the last run.
    pub retval: u64,
    /// Average duration of a run, in nanoseconds.
    pub duration_ns: u64,
    /// The packet (XDP) or context buffer (syscall) after the last run.
    pub data_out: Option<Vec<u8>>,
}

/// One run's outcome, in [`Runtime::fire`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fired {
    /// The program's index.
    pub prog: usize,
    /// R0, or the error.
    pub result: Result<u64, String>,
}

thread_local! {
    static INTERP: RefCell<Interpreter> = RefCell::new(Interpreter::new());
}

/// An object's maps and programs bound to a kernel model.
pub struct Runtime {
    shared: Arc<Shared>,
    maps: Vec<Arc<Map>>,
    progs: Vec<Prog>,
    lowmem: OnceLock<Result<LowMem, String>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("maps", &self.maps).field("progs", &self.progs).finish()
    }
}

/// Options of [`Runtime::load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Do not ask the verifier: run every program in checked mode.
    pub no_verify: bool,
    /// Only these programs (default: every program loaded by default).
    pub only: Option<Vec<String>>,
}

/// The destructor runner of maps: each destructor kfunc is called through the kfunc ABI, by a
/// two-instruction program (`call DTOR; exit`) run against the kernel model.
fn dtor_runner(kernel: &Kernel, registry: &KfuncRegistry) -> Arc<DtorFn> {
    let kernel = kernel.clone();
    // Destructors are no kfuncs (programs cannot call them): their entries are added here.
    let mut fns = HostFns::new();
    for k in registry.kfuncs() {
        fns.kfunc(k.btf_id() as i32, k.entry());
    }
    let cache: Mutex<HashMap<u32, Arc<Program>>> = Mutex::new(HashMap::new());
    Arc::new(move |dtor: u32, obj: u64| {
        let prog = {
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            match c.get(&dtor) {
                Some(p) => p.clone(),
                None => {
                    let insns = [RawInsn::new(0x85, 0, 2, 0, dtor as i32), RawInsn::new(0x95, 0, 0, 0, 0)];
                    let Ok(p) = Program::load(&insns, &fns) else {
                        unreachable!("kfvm bug: destructor kfunc {dtor} has no entry point");
                    };
                    let p = Arc::new(p);
                    c.insert(dtor, p.clone());
                    p
                }
            }
        };
        let mut rc = RunCtx::new(&kernel, std::ptr::null_mut(), 0);
        rc.ext = std::ptr::null_mut();
        let mem = RunMemory { regions: &[], dynamic: Some(kernel.memory()), probe_loads: true };
        let host = &mut rc as *mut RunCtx as *mut std::ffi::c_void;
        let _ = Interpreter::new().run_in(&prog, &[obj], &mem, host);
    })
}

/// The map spec of a map definition, with its special fields resolved against the host.
fn map_spec(obj: &LinkedObject, i: usize, registry: &KfuncRegistry) -> Result<MapSpec, RuntimeError> {
    let def = &obj.maps[i];
    let mut kptrs = Vec::new();
    let mut spin_lock = None;
    match &def.fields {
        Ok(fields) => {
            for f in fields {
                match &f.kind {
                    FieldKind::Kptr { kind, type_id } => {
                        let dtor = if *kind == KptrKind::Ref {
                            let name = obj
                                .btf
                                .as_ref()
                                .and_then(|b| b.get(*type_id).map(|t| t.name().to_string()))
                                .unwrap_or_default();
                            let host = registry.type_id(&name);
                            let d = host.and_then(|h| registry.find_dtor_kfunc(h));
                            if d.is_none() {
                                return Err(RuntimeError::Load(format!(
                                    "map {}: referenced kptr to `struct {name}` has no destructor kfunc in the kernel model",
                                    def.name
                                )));
                            }
                            d
                        } else {
                            None
                        };
                        kptrs.push(KptrSlot { off: f.offset, dtor });
                    }
                    FieldKind::SpinLock => spin_lock = Some(f.offset),
                    _ => {}
                }
            }
        }
        Err(e) => return Err(RuntimeError::Load(format!("map {}: {}", def.name, e.message))),
    }
    let data = match def.source {
        MapSource::Data | MapSource::Rodata | MapSource::Kconfig => def.data.clone(),
        _ => None,
    };
    let mut vars = Vec::new();
    if let (Some(btf), MapSource::Data | MapSource::Rodata | MapSource::Bss | MapSource::Kconfig) =
        (&obj.btf, def.source)
    {
        if let Some(sec) = btf.get(def.btf_value_type_id).filter(|t| t.kind() == kfvm_btf::Kind::Datasec) {
            for v in sec.datasec_vars() {
                let name = btf.get(v.type_id).map(|t| t.name().to_string()).unwrap_or_default();
                vars.push((name, v.offset, v.size));
            }
        }
    }
    Ok(MapSpec {
        vars,
        name: def.name.clone(),
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        kptrs,
        spin_lock,
        data,
    })
}

/// `(type id, size)` of every struct of the object's BTF (for `bpf_obj_new`).
fn struct_sizes(obj: &LinkedObject) -> Vec<(u32, u32)> {
    let Some(btf) = &obj.btf else { return Vec::new() };
    btf.types()
        .filter(|t| t.kind() == kfvm_btf::Kind::Struct)
        .filter_map(|t| Some((t.id(), t.size()?)))
        .collect()
}

impl Runtime {
    /// Creates `obj`'s maps and loads its programs (those loaded by default), verifying each
    /// where the verifier can decide, and attaches each to its hook (an unknown hook is an
    /// error).
    pub fn load(
        kernel: &Kernel,
        registry: &KfuncRegistry,
        obj: &LinkedObject,
        opts: &LoadOptions,
    ) -> Result<Runtime, RuntimeError> {
        let mut fns = registry.host_fns();
        helpers::add_helpers(&mut fns);
        let dtor = dtor_runner(kernel, registry);
        let mut maps = Vec::new();
        for i in 0..obj.maps.len() {
            let spec = map_spec(obj, i, registry)?;
            let m = Map::new(spec, kernel.nr_cpu_ids(), dtor.clone())
                .map_err(|e| RuntimeError::Load(e.to_string()))?;
            maps.push(Arc::new(m));
        }
        let sizes = struct_sizes(obj);
        let mut progs = Vec::new();
        for p in &obj.programs {
            let wanted = match &opts.only {
                Some(names) => names.contains(&p.name),
                None => p.autoload,
            };
            if !wanted {
                continue;
            }
            let hook = Hook::from_section(&p.section, true)
                .map_err(|e| RuntimeError::Load(format!("program {}: {e}", p.name)))?;
            let (mode, probe_mem, warnings) = if opts.no_verify {
                (Mode::Checked("verification skipped".into()), Vec::new(), Vec::new())
            } else {
                verify(obj, p, registry, kernel.nr_cpu_ids())?
            };
            let insns = patch(p, &maps)?;
            let mut program = Program::load(&insns, &fns)
                .map_err(|e| RuntimeError::Load(format!("program {}: {e}", p.name)))?;
            // The loads the verifier found reading through BTF pointers read 0 where they would
            // fault, as the kernel's BPF_PROBE_MEM loads do (in verified mode too).
            program.mark_probe_mem(&probe_mem).map_err(|e| {
                RuntimeError::Load(format!("program {}: verifier's probe loads: {e}", p.name))
            })?;
            let uses_obj_new = p.kfunc_calls.iter().any(|c| c.name.starts_with("bpf_obj_new"));
            progs.push(Prog {
                name: p.name.clone(),
                section: p.section.clone(),
                hook,
                mode,
                warnings,
                program,
                obj_sizes: if uses_obj_new { sizes.clone() } else { Vec::new() },
                runs: AtomicU64::new(0),
                total_ns: AtomicU64::new(0),
            });
        }
        let shared = Arc::new(Shared {
            kernel: kernel.clone(),
            trace: Mutex::new(Vec::new()),
            sink: Mutex::new(None),
            prandom: AtomicU64::new(0x9e37_79b9_7f4a_7c15),
            start: Instant::now(),
        });
        Ok(Runtime { shared, maps, progs, lowmem: OnceLock::new() })
    }

    /// The kernel model.
    pub fn kernel(&self) -> &Kernel {
        &self.shared.kernel
    }

    /// The programs.
    pub fn progs(&self) -> &[Prog] {
        &self.progs
    }

    /// The program named `name`.
    pub fn prog(&self, name: &str) -> Option<usize> {
        self.progs.iter().position(|p| p.name == name)
    }

    /// The maps, in the object's order.
    pub fn maps(&self) -> &[Arc<Map>] {
        &self.maps
    }

    /// The map named `name` (libbpf's name, or its BTF variable / section name).
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name() == name || m.name().ends_with(name)).map(|m| &**m)
    }

    /// Sends each `bpf_printk` line to `sink` as it is printed (they are also kept:
    /// [`Runtime::take_trace`]).
    pub fn set_printk_sink(&self, sink: impl FnMut(&str) + Send + 'static) {
        *self.shared.sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(sink));
    }

    /// The `bpf_printk` lines printed since the last call.
    pub fn take_trace(&self) -> Vec<String> {
        std::mem::take(&mut *self.shared.trace.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn lowmem(&self) -> Result<&LowMem, RuntimeError> {
        self.lowmem.get_or_init(|| LowMem::new(64)).as_ref().map_err(|e| RuntimeError::Load(e.clone()))
    }

    /// Runs program `idx` once: context at `ctx` (inside `regions`), on `cpu`, with `current`
    /// (NULL: the idle task) and an XDP `packet`.
    fn exec(
        &self,
        idx: usize,
        args: &[u64],
        regions: &[Region],
        current: *mut TaskStruct,
        cpu: u32,
        packet: Option<(u64, u64)>,
    ) -> Result<u64, RuntimeError> {
        let prog = &self.progs[idx];
        let kernel = &self.shared.kernel;
        let mut rc = RunCtx::new(kernel, current, cpu);
        rc.packet = packet;
        rc.obj_sizes.clone_from(&prog.obj_sizes);
        let ext = RunExt { shared: &self.shared, maps: &self.maps };
        rc.ext = &ext as *const RunExt<'_> as *mut std::ffi::c_void;
        let mut all: Vec<Region> = self.maps.iter().map(|m| m.region()).collect();
        all.extend_from_slice(regions);
        let mem = RunMemory { regions: &all, dynamic: Some(kernel.memory()), probe_loads: true };
        let host = &mut rc as *mut RunCtx as *mut std::ffi::c_void;
        let t0 = Instant::now();
        let result = INTERP.with(|cell| {
            let run = |vm: &mut Interpreter| match &prog.mode {
                Mode::Checked(_) => vm.run_in(&prog.program, args, &mem, host),
                // SAFETY: the verifier accepted the program, so its loads and stores stay inside
                // the memory a run gives it (the context, maps, the stack); programs that may load
                // through BTF pointers, which no verifier can prove, never run verified
                // (`reads_btf_pointers`).
                Mode::Verified => unsafe { vm.run_verified_in(&prog.program, args, &mem, host) },
            };
            match cell.try_borrow_mut() {
                Ok(mut vm) => run(&mut vm),
                Err(_) => run(&mut Interpreter::new()),
            }
        });
        let ns = t0.elapsed().as_nanos() as u64;
        prog.runs.fetch_add(1, Ordering::Relaxed);
        prog.total_ns.fetch_add(ns, Ordering::Relaxed);
        // References the program still owns: the verifier would have refused it ("Unreleased
        // reference"); a checked run gives them back and says so.
        let leaked = rc.owned.take();
        for &a in &leaked {
            kernel.release_any(a);
        }
        drop(rc);
        let r0 = result.map_err(|error| RuntimeError::Run { prog: prog.name.clone(), error })?;
        if !leaked.is_empty() {
            return Err(RuntimeError::Unreleased { prog: prog.name.clone(), refs: leaked.len() });
        }
        Ok(r0)
    }

    /// Resolves `--arg`-style arguments against the model.
    pub fn resolve_args(&self, args: &[ArgSpec]) -> Result<Vec<Arg>, RuntimeError> {
        let k = &self.shared.kernel;
        args.iter()
            .map(|a| match a {
                ArgSpec::Int(v) => Ok(Arg::Int(*v)),
                ArgSpec::Task(p) => k
                    .task(*p)
                    .map(Arg::Task)
                    .ok_or_else(|| RuntimeError::Input(format!("argument `{a}`: no task {p} in the model"))),
                ArgSpec::CgroupId(i) => k.cgroup_by_id(*i).map(Arg::Cgroup).ok_or_else(|| {
                    RuntimeError::Input(format!("argument `{a}`: no cgroup with id {i} in the model"))
                }),
                ArgSpec::CgroupPath(p) => k.cgroup_by_path(p).map(Arg::Cgroup).ok_or_else(|| {
                    RuntimeError::Input(format!("argument `{a}`: no cgroup `{p}` in the model"))
                }),
            })
            .collect()
    }

    /// Checks `args` against the declared arguments of `hook` (if the model declares it);
    /// fills a missing trailing `const char *path` from the preceding cgroup.
    fn fit_args(&self, hook: &Hook, args: &mut Vec<Arg>) -> Result<(), RuntimeError> {
        let Some(decl) = hook.decl() else { return Ok(()) };
        if let (Some(&(_, ArgType::Str)), Some(Arg::Cgroup(c))) = (decl.args.last(), args.last()) {
            if args.len() + 1 == decl.args.len() {
                let path = self.shared.kernel.cgroup_path(c.as_ptr()).unwrap_or_default();
                args.push(Arg::Str(path.into_bytes()));
            }
        }
        let proto: Vec<String> = decl.args.iter().map(|(n, t)| format!("{t} {n}")).collect();
        let proto = format!("{hook}({})", proto.join(", "));
        if args.len() != decl.args.len() {
            return Err(RuntimeError::Input(format!(
                "{proto} takes {} arguments; {} given",
                decl.args.len(),
                args.len()
            )));
        }
        for (i, (a, (name, t))) in args.iter().zip(decl.args).enumerate() {
            let ok = matches!(
                (a, t),
                (Arg::Task(_), ArgType::Task)
                    | (Arg::Cgroup(_), ArgType::Cgroup)
                    | (Arg::Int(_), ArgType::Int)
                    | (Arg::Str(_) | Arg::Int(_), ArgType::Str)
            );
            if !ok {
                let given = match a {
                    Arg::Int(_) => "an integer",
                    Arg::Task(_) => "a task",
                    Arg::Cgroup(_) => "a cgroup",
                    Arg::Str(_) => "a string",
                };
                let want = match t {
                    ArgType::Task => "task:PID",
                    ArgType::Cgroup => "cgroup:ID or cgroup:/path",
                    ArgType::Str | ArgType::Int => "an integer",
                };
                return Err(RuntimeError::Input(format!(
                    "{proto}: argument {} (`{name}`) is {t}: give {want}, not {given}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    /// Runs program `idx` with hook arguments (a tracepoint's or function's), as its hook gives
    /// them.
    fn run_hook(
        &self,
        idx: usize,
        args: &[Arg],
        current: *mut TaskStruct,
        cpu: u32,
    ) -> Result<u64, RuntimeError> {
        let strs: Vec<Vec<u8>> = args
            .iter()
            .map(|a| match a {
                Arg::Str(s) => {
                    let mut v = s.clone();
                    v.push(0);
                    v
                }
                _ => Vec::new(),
            })
            .collect();
        let vals: Vec<u64> = args
            .iter()
            .zip(&strs)
            .map(|(a, s)| match a {
                Arg::Int(v) => *v,
                Arg::Task(t) => t.as_ptr() as u64,
                Arg::Cgroup(c) => c.as_ptr() as u64,
                Arg::Str(_) => s.as_ptr() as u64,
            })
            .collect();
        let mut regions: Vec<Region> =
            strs.iter().filter(|s| !s.is_empty()).map(|s| Region::readonly(s)).collect();
        match &self.progs[idx].hook {
            Hook::Function { regs: true, .. } => {
                let mut regs = [0u64; PT_REGS_SIZE / 8];
                for (v, off) in vals.iter().zip(PT_REGS_ARGS) {
                    regs[off / 8] = *v;
                }
                regs[10] = vals.first().copied().unwrap_or(0); // ax
                                                               // SAFETY: viewing the u64 buffer as bytes for the region.
                let bytes = unsafe { std::slice::from_raw_parts(regs.as_ptr() as *const u8, PT_REGS_SIZE) };
                regions.push(Region::readonly(bytes));
                self.exec(idx, &[regs.as_ptr() as u64], &regions, current, cpu, None)
            }
            _ => {
                let ctx: Vec<u64> = if vals.is_empty() { vec![0] } else { vals.clone() };
                // SAFETY: as above.
                let bytes = unsafe { std::slice::from_raw_parts(ctx.as_ptr() as *const u8, ctx.len() * 8) };
                regions.push(Region::readonly(bytes));
                self.exec(idx, &[ctx.as_ptr() as u64], &regions, current, cpu, None)
            }
        }
    }

    /// Runs every program attached to `event` (`tp_btf/NAME`, `raw_tp/NAME`, `kprobe/FUNC`, or
    /// a bare name: every hook of that name) with `args`.
    pub fn fire(&self, event: &str, args: &[Arg], current: *mut TaskStruct, cpu: u32) -> Vec<Fired> {
        let mut out = Vec::new();
        for (i, p) in self.progs.iter().enumerate() {
            if p.hook.fired_by(event) {
                let result = self.run_hook(i, args, current, cpu).map_err(|e| e.to_string());
                out.push(Fired { prog: i, result });
            }
        }
        out
    }

    /// Runs an XDP program on `packet`: the action and the packet after the run.
    /// Runs an XDP program `repeat` times on one frame (as the kernel's test run does: changes
    /// a run makes stay for the next): the last action and the packet after the runs.
    fn run_xdp(
        &self,
        idx: usize,
        packet: &[u8],
        ifindex: u32,
        repeat: u32,
    ) -> Result<(u64, Vec<u8>), RuntimeError> {
        // As the kernel's bpf_prog_test_run_xdp(): at least an Ethernet header.
        if packet.len() < ETH_HLEN || packet.len() > MAX_PACKET {
            return Err(RuntimeError::Input(format!(
                "a packet has {ETH_HLEN} to {MAX_PACKET} bytes; {} given",
                packet.len()
            )));
        }
        let pool = self.lowmem()?;
        let mut buf = pool.get().ok_or_else(|| RuntimeError::Input("too many packets in flight".into()))?;
        buf.fill(packet);
        let data = buf.data();
        let end = data + packet.len() as u64;
        // struct xdp_md { data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex }
        let md: [u32; 6] = [data as u32, end as u32, data as u32, ifindex, 0, 0];
        // SAFETY: viewing the array as bytes for the region.
        let md_bytes = unsafe { std::slice::from_raw_parts(md.as_ptr() as *const u8, 24) };
        let regions = [
            Region::readonly(md_bytes),
            Region { start: buf.start(), len: crate::lowmem::SLOT as u64, writable: true },
        ];
        let mut r = 0;
        for _ in 0..repeat.max(1) {
            r =
                self.exec(idx, &[md.as_ptr() as u64], &regions, std::ptr::null_mut(), 0, Some((data, end)))?;
        }
        Ok((r, buf.read(data, packet.len())))
    }

    /// `BPF_PROG_TEST_RUN`: runs program `name` `repeat` times with `args` (its hook's
    /// arguments; for `syscall` programs, packed as `u64`s into the context when there is no
    /// `data_in`) and `data_in` (the packet of an XDP program, the context of a syscall one).
    pub fn test_run(
        &self,
        name: &str,
        args: &[ArgSpec],
        data_in: Option<&[u8]>,
        repeat: u32,
    ) -> Result<TestRun, RuntimeError> {
        let idx = self.prog(name).ok_or_else(|| {
            let names: Vec<&str> = self.progs.iter().map(|p| p.name.as_str()).collect();
            RuntimeError::Input(format!("no program `{name}` (the object has: {})", names.join(", ")))
        })?;
        let repeat = repeat.max(1);
        let hook = self.progs[idx].hook.clone();
        let current = self.shared.kernel.task(1);
        let cur = current.as_ref().map_or(std::ptr::null_mut(), |t| t.as_ptr());
        let t0 = Instant::now();
        let mut retval = 0;
        let mut data_out = None;
        match &hook {
            Hook::Xdp => {
                if !args.is_empty() {
                    return Err(RuntimeError::Input(
                        "xdp programs take a packet (--data-in), not arguments".into(),
                    ));
                }
                let pkt = data_in.ok_or_else(|| {
                    RuntimeError::Input("xdp programs run on a packet: give --data-in FILE".into())
                })?;
                let (r, out) = self.run_xdp(idx, pkt, 1, repeat)?;
                retval = r;
                data_out = Some(out);
            }
            Hook::Syscall => {
                let mut ctx: Vec<u8> = match data_in {
                    Some(d) => d.to_vec(),
                    None => {
                        let resolved = self.resolve_args(args)?;
                        resolved
                            .iter()
                            .flat_map(|a| {
                                match a {
                                    Arg::Int(v) => *v,
                                    Arg::Task(t) => t.as_ptr() as u64,
                                    Arg::Cgroup(c) => c.as_ptr() as u64,
                                    Arg::Str(_) => 0,
                                }
                                .to_ne_bytes()
                            })
                            .collect()
                    }
                };
                if ctx.len() > 4096 {
                    return Err(RuntimeError::Input(
                        "a syscall program's context is at most 4096 bytes".into(),
                    ));
                }
                let mut buf = vec![0u64; ctx.len().div_ceil(8).max(1)];
                for _ in 0..repeat {
                    // SAFETY: the buffer holds at least `ctx.len()` bytes.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ctx.as_ptr(), buf.as_mut_ptr() as *mut u8, ctx.len())
                    };
                    let ptr = if ctx.is_empty() { 0 } else { buf.as_ptr() as u64 };
                    // SAFETY: viewing the buffer as bytes for the region.
                    let bytes =
                        unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut u8, ctx.len()) };
                    let regions = [Region::writable(bytes)];
                    retval = self.exec(idx, &[ptr], &regions, cur, 0, None)?;
                    // SAFETY: as above.
                    let n = ctx.len();
                    ctx.copy_from_slice(unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, n) });
                }
                data_out = Some(ctx);
            }
            _ => {
                if data_in.is_some() {
                    return Err(RuntimeError::Input(format!(
                        "{hook} programs take arguments (--arg), not --data-in"
                    )));
                }
                let mut resolved = self.resolve_args(args)?;
                self.fit_args(&hook, &mut resolved)?;
                for _ in 0..repeat {
                    retval = self.run_hook(idx, &resolved, cur, 0)?;
                }
            }
        }
        let duration_ns = t0.elapsed().as_nanos() as u64 / repeat as u64;
        Ok(TestRun { retval, duration_ns, data_out })
    }

    /// Replays the model: every cgroup fires `cgroup_mkdir`, every task `task_newtask` (and
    /// `sched_process_fork`, `wake_up_new_task`), then the model's events in order. Calls
    /// `on_error` for each run that failed (the replay goes on).
    pub fn replay(&self, spec: &ModelSpec, mut on_error: impl FnMut(&str)) -> Result<(), RuntimeError> {
        let k = self.shared.kernel.clone();
        let mut report = |fired: Vec<Fired>| {
            for f in fired {
                if let Err(e) = f.result {
                    on_error(&e);
                }
            }
        };
        let init = k.task(1);
        let init_ptr = init.as_ref().map_or(std::ptr::null_mut(), |t| t.as_ptr());
        for c in &spec.cgroups {
            if let Some(cg) = k.cgroup_by_path(&c.path) {
                report(self.mkdir_events(cg, &c.path, init_ptr));
            }
        }
        for t in &spec.tasks {
            if let Some(task) = k.task(t.pid) {
                report(self.fork_events(task, t));
            }
        }
        for ev in &spec.events {
            let at = |e: String| RuntimeError::Input(format!("{}:{}: {e}", spec.origin, ev.line));
            match &ev.spec {
                EventSpec::Fork(t) => {
                    let task = k.create_task(t).map_err(at)?;
                    report(self.fork_events(task, t));
                }
                EventSpec::Exit(pid) => {
                    let task = k.task(*pid).ok_or_else(|| at(format!("no task {pid}")))?;
                    let p = task.as_ptr();
                    // SAFETY: referenced.
                    let leader = unsafe { (*p).tgid == (*p).pid };
                    report(self.fire(
                        "sched_process_exit",
                        &[Arg::Task(task.clone()), Arg::Int(leader as u64)],
                        p,
                        0,
                    ));
                    report(self.fire("do_exit", &[Arg::Int(0)], p, 0));
                    drop(task);
                    k.exit_task(*pid).map_err(at)?;
                }
                EventSpec::Switch { prev, next, cpu } => {
                    let p = k.task(*prev).ok_or_else(|| at(format!("no task {prev}")))?;
                    let n = k.task(*next).ok_or_else(|| at(format!("no task {next}")))?;
                    let cur = p.as_ptr();
                    report(self.fire(
                        "sched_switch",
                        &[Arg::Int(0), Arg::Task(p), Arg::Task(n), Arg::Int(1)],
                        cur,
                        *cpu,
                    ));
                }
                EventSpec::Mkdir(c) => {
                    let cg = k.create_cgroup(c).map_err(at)?;
                    report(self.mkdir_events(cg, &c.path, init_ptr));
                }
                EventSpec::Rmdir(path) => {
                    let cg = k.cgroup_by_path(path).ok_or_else(|| at(format!("no cgroup `{path}`")))?;
                    report(self.fire(
                        "cgroup_rmdir",
                        &[Arg::Cgroup(cg), Arg::Str(path.clone().into_bytes())],
                        init_ptr,
                        0,
                    ));
                    k.remove_cgroup(path).map_err(at)?;
                }
                EventSpec::Packet(p) => {
                    let fired = (0..self.progs.len())
                        .filter(|&i| self.progs[i].hook == Hook::Xdp)
                        .map(|i| Fired {
                            prog: i,
                            result: self
                                .run_xdp(i, &p.data, p.ifindex, 1)
                                .map(|r| r.0)
                                .map_err(|e| e.to_string()),
                        })
                        .collect();
                    report(fired);
                }
                EventSpec::Hook { hook, args } => {
                    let resolved = self.resolve_args(args).map_err(|e| at(e.to_string()))?;
                    report(self.fire(hook, &resolved, init_ptr, 0));
                }
            }
        }
        Ok(())
    }

    fn fork_events(&self, task: kfvm_kernel::model::Ref<TaskStruct>, t: &TaskSpec) -> Vec<Fired> {
        let k = &self.shared.kernel;
        let parent = if t.ppid == 0 { None } else { k.task(t.ppid) };
        let cur = parent.as_ref().map_or(std::ptr::null_mut(), |p| p.as_ptr());
        // CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|
        // CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID for a thread; SIGCHLD for a process.
        let flags: u64 = if t.tgid != t.pid { 0x3d0f00 } else { 17 };
        let mut out = self.fire("task_newtask", &[Arg::Task(task.clone()), Arg::Int(flags)], cur, 0);
        if let Some(p) = &parent {
            out.extend(self.fire(
                "sched_process_fork",
                &[Arg::Task(p.clone()), Arg::Task(task.clone())],
                cur,
                0,
            ));
        }
        out.extend(self.fire("wake_up_new_task", &[Arg::Task(task)], cur, 0));
        out
    }

    fn mkdir_events(
        &self,
        cg: kfvm_kernel::model::Ref<Cgroup>,
        path: &str,
        cur: *mut TaskStruct,
    ) -> Vec<Fired> {
        self.fire("cgroup_mkdir", &[Arg::Cgroup(cg), Arg::Str(path.as_bytes().to_vec())], cur, 0)
    }
}

/// Asks the verifier about `p`: verified (with the loads to make `BPF_PROBE_MEM` loads), checked
/// (it cannot decide yet), or rejected; and kfvm's warnings (deprecated kfuncs).
fn verify(
    obj: &LinkedObject,
    p: &LinkedProgram,
    registry: &KfuncRegistry,
    nr_cpu_ids: u32,
) -> Result<(Mode, Vec<usize>, Vec<String>), RuntimeError> {
    use kfvm_verifier::VerifyError;
    let env = crate::verify::VerifyEnv {
        registry,
        nr_cpu_ids,
        caps: Default::default(),
        log_level: 0,
        deny_deprecated: false,
        hints: false,
    };
    let opts = crate::verify::check_options(obj, p, &env)
        .map_err(|e| RuntimeError::Load(format!("program {}: {e}", p.name)))?;
    if let Some(why) = crate::verify::unmodelled_context(opts.prog_type) {
        return Ok((Mode::Checked(why), Vec::new(), Vec::new()));
    }
    let result = std::panic::catch_unwind(|| kfvm_verifier::bpf_check_full(&p.insns, &opts, None));
    let Ok(v) = result else {
        return Ok((Mode::Checked("the verifier panicked (a kfvm bug)".into()), Vec::new(), Vec::new()));
    };
    let mode = match v.result {
        Ok(()) => Mode::Verified,
        Err(VerifyError::Unsupported(why)) => Mode::Checked(why),
        Err(VerifyError::Internal(why)) => Mode::Checked(format!("verifier error: {why}")),
        Err(VerifyError::Rejected(r)) => {
            return Err(RuntimeError::Rejected { prog: p.name.clone(), message: r.to_string() })
        }
    };
    Ok((mode, v.probe_mem_insns, v.warnings))
}

/// The program's instructions with map references bound: a map's handle, or the address of a
/// global-data value.
fn patch(p: &LinkedProgram, maps: &[Arc<Map>]) -> Result<Vec<RawInsn>, RuntimeError> {
    let mut insns = p.insns.clone();
    for r in &p.map_refs {
        let m = maps.get(r.map).ok_or_else(|| {
            RuntimeError::Load(format!("program {}: insn {}: no map {}", p.name, r.insn, r.map))
        })?;
        let v = match r.value_offset {
            Some(off) => {
                if m.spec().map_type != map_type::ARRAY {
                    return Err(RuntimeError::Load(format!(
                        "program {}: insn {}: a value address of map {}, which is not an array",
                        p.name,
                        r.insn,
                        m.name()
                    )));
                }
                m.value_base() + off as u64
            }
            None => MAP_ADDR_BASE + r.map as u64 * MAP_ADDR_STRIDE,
        };
        if r.insn + 1 >= insns.len() {
            return Err(RuntimeError::Load(format!("program {}: insn {}: not a lddw", p.name, r.insn)));
        }
        insns[r.insn].regs &= 0x0f;
        insns[r.insn].imm = v as u32 as i32;
        insns[r.insn + 1].imm = (v >> 32) as u32 as i32;
    }
    for k in &p.ksym_loads {
        // Kernel variables the model does not have read as address 0 (or the given address).
        let i = k.insn;
        if i + 1 < insns.len() {
            insns[i].regs &= 0x0f;
            insns[i].imm = k.addr as u32 as i32;
            insns[i + 1].imm = (k.addr >> 32) as u32 as i32;
        }
    }
    Ok(insns)
}
