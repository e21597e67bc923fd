//! The kernel model's world: tasks, cgroups and CPUs as objects laid out exactly as the host
//! BTF describes them ([`crate::types`]), reference-counted, reclaimed after an RCU grace
//! period, and found through the kernel's tables (pid hash, cgroup ids).
//!
//! [`Kernel`] is a cheap handle (an `Arc`); every program run holds an RCU read-side section
//! ([`Kernel::rcu_read_lock`]) for its whole duration, so an object released while a run may
//! still see it stays valid until that run ends. Runs may be concurrent, on several threads.
//!
//! What is modelled, and what is not:
//!
//! - each task holds references to its real parent, its thread group leader, its `css_set`, its
//!   credentials and its `mm` (user tasks), released when the task is reclaimed, so the pointers
//!   a program reads from a task stay valid while the task does (tasks are not reparented when
//!   their parent exits);
//! - each cgroup holds its parent (as `css_get(parent)` does) and its kernfs node; the root
//!   cgroup (id 1, level 0) always exists; `cgroup->ancestors[]` is filled as the kernel fills
//!   it; the cgroup's own css id (`cgrp->self.id`) is a small number in creation order (the root
//!   is 1);
//! - a task exits: it leaves the pid table and can no longer be acquired (`rcu_users` reached
//!   0), but lives on while references remain; a cgroup removed likewise (`cgroup_tryget`
//!   fails);
//! - tasks do not migrate between cgroups; there is one pid namespace and no cgroup v1
//!   hierarchy.

use crate::objects::ObjCache;
use crate::spec::{normalize_cgroup_path, parent_path, CgroupSpec, ModelSpec, TaskSpec, NR_CPUS};
use crate::types::*;
use kfvm_vm::DynamicMemory;
use std::collections::{BTreeMap, HashMap};
use std::ffi::c_char;
use std::marker::PhantomData;
use std::ptr::addr_of_mut;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Deepest cgroup level the model holds (the size of `ancestors[]` in a cgroup's slot).
pub const CGROUP_MAX_LEVEL: usize = 63;

/// The slots of the objects every model has.
const ROOT_CGROUP_SLOT: usize = 0;
const IDLE_SLOT: usize = 0;

/// `KERNFS_DIR`.
const KERNFS_DIR: u16 = 0x0001;

/// Capacities of the object caches (the memory is reserved when the kernel starts, and only
/// touched pages are committed).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KernelConfig {
    /// Tasks (and their credentials and mms).
    pub max_tasks: usize,
    /// Cgroups (and their kernfs nodes and css_sets).
    pub max_cgroups: usize,
    /// `struct bpf_cpumask`s programs may hold at once.
    pub max_cpumasks: usize,
    /// Objects of `bpf_obj_new` programs may hold at once.
    pub max_objs: usize,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig { max_tasks: 1 << 16, max_cgroups: 1 << 13, max_cpumasks: 1 << 14, max_objs: 1 << 14 }
    }
}

impl KernelConfig {
    /// The default capacities, grown to hold `spec` with room to spare (a snapshot of a big
    /// machine).
    pub fn for_spec(spec: &ModelSpec) -> Self {
        let d = KernelConfig::default();
        let forks = spec.events.iter().filter(|e| matches!(e.spec, crate::spec::EventSpec::Fork(_))).count();
        let mkdirs =
            spec.events.iter().filter(|e| matches!(e.spec, crate::spec::EventSpec::Mkdir(_))).count();
        KernelConfig {
            max_tasks: d.max_tasks.max(2 * (spec.tasks.len() + forks) + 1024),
            max_cgroups: d.max_cgroups.max(2 * (spec.cgroups.len() + mkdirs) + 256),
            ..d
        }
    }

    /// Small caches (tests, Miri).
    pub fn small() -> Self {
        KernelConfig { max_tasks: 256, max_cgroups: 64, max_cpumasks: 64, max_objs: 64 }
    }
}

/// Largest object `bpf_obj_new` allocates (the kernel's `bpf_mem_alloc` largest unit).
pub const BPF_OBJ_MAX_SIZE: usize = 4096;

/// The kinds of host object, each with its cache.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Kind {
    /// `struct task_struct`.
    Task,
    /// `struct cgroup`.
    Cgroup,
    /// `struct kernfs_node`.
    Kernfs,
    /// A kernfs node's name.
    Name,
    /// `struct css_set`.
    CssSet,
    /// `struct cred`.
    Cred,
    /// `struct mm_struct`.
    Mm,
    /// `struct bpf_cpumask`.
    Cpumask,
    /// An object of `bpf_obj_new`.
    Obj,
    /// `struct cgroup_root`.
    Root,
}

const KINDS: [Kind; 10] = [
    Kind::Task,
    Kind::Cgroup,
    Kind::Kernfs,
    Kind::Name,
    Kind::CssSet,
    Kind::Cred,
    Kind::Mm,
    Kind::Cpumask,
    Kind::Obj,
    Kind::Root,
];

/// A host type kept in a cache.
pub trait Object {
    /// Its cache.
    const KIND: Kind;
}
impl Object for TaskStruct {
    const KIND: Kind = Kind::Task;
}
impl Object for Cgroup {
    const KIND: Kind = Kind::Cgroup;
}
impl Object for BpfCpumask {
    const KIND: Kind = Kind::Cpumask;
}
impl Object for CssSet {
    const KIND: Kind = Kind::CssSet;
}
impl Object for KernfsNode {
    const KIND: Kind = Kind::Kernfs;
}

pub(crate) struct Inner {
    caches: [ObjCache; 10],
    pids: RwLock<BTreeMap<i32, usize>>,
    cgroup_ids: RwLock<HashMap<u64, usize>>,
    cgroup_paths: RwLock<BTreeMap<String, usize>>,
    /// The css_set of each cgroup (tasks of a cgroup share it), by cgroup slot.
    csets: RwLock<HashMap<usize, usize>>,
    nr_cpu_ids: u32,
    next_css_id: AtomicI32,
    next_cgroup_id: AtomicU64,
    pub(crate) distribute: AtomicU32,
    /// Reclaims deferred and not run yet.
    pending: std::sync::atomic::AtomicUsize,
    origin: String,
}

/// The kernel model: a handle to its shared state.
#[derive(Clone)]
pub struct Kernel(pub(crate) Arc<Inner>);

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("origin", &self.0.origin)
            .field("nr_cpu_ids", &self.0.nr_cpu_ids)
            .field("tasks", &self.0.pids.read().map(|p| p.len()).unwrap_or(0))
            .finish()
    }
}

/// A counted reference to a host object, released when dropped.
pub struct Ref<T: Object> {
    kernel: Kernel,
    idx: usize,
    _t: PhantomData<*mut T>,
}

// SAFETY: a reference count is a handle, usable from any thread; the object is shared memory.
unsafe impl<T: Object> Send for Ref<T> {}
// SAFETY: as above.
unsafe impl<T: Object> Sync for Ref<T> {}

impl<T: Object> Ref<T> {
    /// The object's address (valid while this reference lives).
    pub fn as_ptr(&self) -> *mut T {
        self.kernel.0.cache(T::KIND).addr(self.idx) as *mut T
    }

    /// Leaves the reference counted and gives back the address (a reference the caller now
    /// owns, e.g. for a program).
    pub fn into_raw(self) -> *mut T {
        let p = self.as_ptr();
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again: its kernel handle is dropped once here,
        // and the object's reference count is left as it is (the caller owns that reference).
        drop(unsafe { std::ptr::read(&this.kernel) });
        p
    }
}

impl<T: Object> Clone for Ref<T> {
    fn clone(&self) -> Self {
        self.kernel.0.cache(T::KIND).get(self.idx);
        Ref { kernel: self.kernel.clone(), idx: self.idx, _t: PhantomData }
    }
}

impl<T: Object> Drop for Ref<T> {
    fn drop(&mut self) {
        self.kernel.put(T::KIND, self.idx);
    }
}

impl<T: Object> std::fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ref({:?} #{})", T::KIND, self.idx)
    }
}

impl Ref<TaskStruct> {
    /// `pid`.
    pub fn pid(&self) -> i32 {
        // SAFETY: the reference keeps the task alive; `pid` never changes after creation.
        unsafe { (*self.as_ptr()).pid }
    }
}

impl Ref<Cgroup> {
    /// The cgroup id (its kernfs node's id).
    pub fn id(&self) -> u64 {
        // SAFETY: the reference keeps the cgroup and its kernfs node alive.
        unsafe { (*(*self.as_ptr()).kn).id }
    }
}

/// `comm` bytes.
fn comm_of(s: &str) -> [c_char; TASK_COMM_LEN] {
    let mut c = [0 as c_char; TASK_COMM_LEN];
    for (d, b) in c.iter_mut().zip(s.bytes().take(TASK_COMM_LEN - 1)) {
        *d = b as c_char;
    }
    c
}

fn cpumask_of(cpus: impl Iterator<Item = u32>) -> Cpumask {
    let mut bits = [0u64; 4];
    for c in cpus.filter(|&c| c < NR_CPUS) {
        bits[(c / 64) as usize] |= 1 << (c % 64);
    }
    Cpumask { bits: bits.map(|b| b as _) }
}

impl Inner {
    pub(crate) fn cache(&self, kind: Kind) -> &ObjCache {
        &self.caches[kind as usize]
    }
}

impl Kernel {
    /// An empty kernel (the root cgroup and the idle task only) with `cpus` CPUs.
    pub fn empty(cpus: u32, cfg: KernelConfig) -> Kernel {
        Kernel::build(cpus, cfg, "empty model".into())
    }

    fn build(cpus: u32, cfg: KernelConfig, origin: String) -> Kernel {
        let cg_slot = std::mem::size_of::<Cgroup>() + 8 * (CGROUP_MAX_LEVEL + 1);
        let caches = [
            ObjCache::new("task_struct", std::mem::size_of::<TaskStruct>(), cfg.max_tasks + 1, false),
            ObjCache::new("cgroup", cg_slot, cfg.max_cgroups + 1, false),
            ObjCache::new("kernfs_node", std::mem::size_of::<KernfsNode>(), cfg.max_cgroups + 1, false),
            ObjCache::new("kernfs name", 256, cfg.max_cgroups + 1, false),
            ObjCache::new("css_set", std::mem::size_of::<CssSet>(), cfg.max_cgroups + 1, false),
            ObjCache::new("cred", std::mem::size_of::<Cred>(), cfg.max_tasks + 1, false),
            ObjCache::new("mm_struct", std::mem::size_of::<MmStruct>(), cfg.max_tasks + 1, false),
            ObjCache::new("bpf_cpumask", std::mem::size_of::<BpfCpumask>(), cfg.max_cpumasks, false),
            ObjCache::new("bpf_obj", BPF_OBJ_MAX_SIZE, cfg.max_objs, true),
            ObjCache::new("cgroup_root", std::mem::size_of::<CgroupRoot>(), 1, false),
        ];
        let inner = Inner {
            caches,
            pids: RwLock::new(BTreeMap::new()),
            cgroup_ids: RwLock::new(HashMap::new()),
            cgroup_paths: RwLock::new(BTreeMap::new()),
            csets: RwLock::new(HashMap::new()),
            nr_cpu_ids: cpus.clamp(1, NR_CPUS),
            next_css_id: AtomicI32::new(1),
            next_cgroup_id: AtomicU64::new(2),
            distribute: AtomicU32::new(u32::MAX),
            pending: std::sync::atomic::AtomicUsize::new(0),
            origin,
        };
        // The hierarchy's cgroup_root.
        let (_, rp) = inner.cache(Kind::Root).alloc(std::mem::size_of::<CgroupRoot>()).expect("root slot");
        let root = rp as *mut CgroupRoot;
        // SAFETY: a fresh zeroed slot of the right size, not yet published.
        unsafe {
            (*root).nr_cgrps = AtomicT(AtomicInner { counter: 1 });
            for (d, b) in (*root).name.iter_mut().zip(b"cgroup2".iter()) {
                *d = *b as c_char;
            }
        }
        let k = Kernel(Arc::new(inner));
        // The first objects of fresh caches take slot 0: the root cgroup and the idle task.
        let root_cg = k.new_cgroup_obj("/", 1, None).expect("the root cgroup");
        assert_eq!(root_cg, ROOT_CGROUP_SLOT);
        let idle = k.new_task_obj(&TaskSpec {
            pid: 0,
            tgid: 0,
            ppid: 0,
            comm: "swapper/0".into(),
            cgroup: "/".into(),
            flags: crate::spec::PF_KTHREAD | crate::spec::PF_NOFREEZE | 0x2, // PF_IDLE
            kthread: true,
            uid: 0,
            gid: 0,
            cpus: None,
        });
        assert_eq!(idle, Ok(IDLE_SLOT));
        k
    }

    /// The kernel `spec` describes: its CPUs, cgroups and tasks (events are the runtime's to
    /// replay).
    pub fn from_spec(spec: &ModelSpec, cfg: KernelConfig) -> Result<Kernel, String> {
        let k = Kernel::build(spec.cpus, cfg, spec.origin.clone());
        for c in &spec.cgroups {
            drop(k.create_cgroup(c)?);
        }
        for t in &spec.tasks {
            drop(k.create_task(t)?);
        }
        Ok(k)
    }

    /// Where the model came from (a file, `this machine`).
    pub fn origin(&self) -> &str {
        &self.0.origin
    }

    /// `nr_cpu_ids`.
    pub fn nr_cpu_ids(&self) -> u32 {
        self.0.nr_cpu_ids
    }

    /// The idle task (`swapper/0`, pid 0: the real parent of pid 1).
    pub fn idle_task(&self) -> *mut TaskStruct {
        self.0.cache(Kind::Task).addr(IDLE_SLOT) as *mut TaskStruct
    }

    /// The root cgroup.
    pub fn root_cgroup(&self) -> *mut Cgroup {
        self.0.cache(Kind::Cgroup).addr(ROOT_CGROUP_SLOT) as *mut Cgroup
    }

    // ---- references ----

    /// The slot of the `T` at `ptr`, if a live `T` starts there.
    pub fn slot_of<T: Object>(&self, ptr: *const T) -> Option<usize> {
        self.0.cache(T::KIND).index_of(ptr as u64)
    }

    /// `refcount_inc_not_zero` on the `T` at `ptr`: a new reference, or `None` if `ptr` is no
    /// live `T` or it can no longer be acquired.
    pub fn try_acquire<T: Object>(&self, ptr: *const T) -> Option<Ref<T>> {
        let idx = self.slot_of(ptr)?;
        self.0.cache(T::KIND).try_get(idx).then(|| Ref { kernel: self.clone(), idx, _t: PhantomData })
    }

    /// Takes over a reference a program held (the pointer a kfunc returned).
    ///
    /// Returns `None` if `ptr` is no live `T`.
    pub fn from_raw<T: Object>(&self, ptr: *const T) -> Option<Ref<T>> {
        let idx = self.slot_of(ptr)?;
        Some(Ref { kernel: self.clone(), idx, _t: PhantomData })
    }

    /// Drops a reference of object `idx` of `kind`; the last one schedules its reclaim after the
    /// RCU grace period.
    pub(crate) fn put(&self, kind: Kind, idx: usize) -> bool {
        let r = self.0.cache(kind).put(idx);
        if r == crate::objects::Put::Last {
            let inner = self.0.clone();
            self.0.pending.fetch_add(1, Ordering::AcqRel);
            let guard = crossbeam_epoch::pin();
            guard.defer(move || {
                let k = Kernel(inner);
                k.reclaim(kind, idx);
                k.0.pending.fetch_sub(1, Ordering::AcqRel);
            });
        }
        r != crate::objects::Put::NotHeld
    }

    /// Drops the reference held through `ptr` (which must be a `kind` object).
    fn put_ptr(&self, kind: Kind, ptr: u64) {
        if ptr == 0 {
            return;
        }
        if let Some(idx) = self.0.cache(kind).index_of(ptr) {
            self.put(kind, idx);
        }
    }

    /// Reclaims a dead object: drops the references it holds, then frees its slot.
    fn reclaim(&self, kind: Kind, idx: usize) {
        let addr = self.0.cache(kind).addr(idx);
        // SAFETY: a dead object: no program can see it any more and nobody else writes it; its
        // pointer fields were set when it was created.
        unsafe {
            match kind {
                Kind::Task => {
                    let t = addr as *mut TaskStruct;
                    if (*t).real_parent != t {
                        self.put_ptr(Kind::Task, (*t).real_parent as u64);
                    }
                    if (*t).group_leader != t {
                        self.put_ptr(Kind::Task, (*t).group_leader as u64);
                    }
                    self.put_ptr(Kind::CssSet, (*t).cgroups as u64);
                    self.put_ptr(Kind::Cred, (*t).cred as u64);
                    self.put_ptr(Kind::Mm, (*t).mm as u64);
                }
                Kind::Cgroup => {
                    let c = addr as *mut Cgroup;
                    let parent = (*c).self_.parent;
                    if !parent.is_null() {
                        self.put_ptr(Kind::Cgroup, (*parent).cgroup as u64);
                    }
                    self.put_ptr(Kind::Kernfs, (*c).kn as u64);
                }
                Kind::Kernfs => self.put_ptr(Kind::Name, (*(addr as *mut KernfsNode)).name as u64),
                Kind::CssSet => self.put_ptr(Kind::Cgroup, (*(addr as *mut CssSet)).dfl_cgrp as u64),
                _ => {}
            }
        }
        self.0.cache(kind).reclaim(idx);
    }

    /// Waits until objects released so far are reclaimed: the RCU grace period of every run
    /// that ended, then their reclaim (which may release more objects).
    ///
    /// Must not be called inside a run (its own read-side section would never end).
    pub fn synchronize_rcu(&self) {
        for i in 0..1_000_000u32 {
            if self.0.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            crossbeam_epoch::pin().flush();
            if i > 1000 {
                std::thread::yield_now();
            }
        }
    }

    /// Runs whatever reclaim is due now, without waiting for anything (safe inside a run).
    pub fn reclaim_due(&self) {
        for _ in 0..64 {
            crossbeam_epoch::pin().flush();
        }
    }

    /// Reclaims deferred past the grace period and not run yet.
    pub fn pending_reclaims(&self) -> usize {
        self.0.pending.load(Ordering::Acquire)
    }

    /// Enters an RCU read-side critical section, held until the guard drops. Every program run
    /// holds one.
    pub fn rcu_read_lock(&self) -> crossbeam_epoch::Guard {
        crossbeam_epoch::pin()
    }

    // ---- cgroups ----

    fn alloc(&self, kind: Kind, len: usize) -> Result<(usize, *mut u8), String> {
        let c = self.0.cache(kind);
        c.alloc(len).ok_or_else(|| format!("the model holds at most {} objects of {}", c.capacity(), c.name))
    }

    /// Builds a cgroup object at normalised `path` with `id`; its slot (one reference: the
    /// tables').
    /// Builds a cgroup object at normalised `path` with `id`, under `parent` (a reference the
    /// caller took, which the new cgroup keeps, or drops on failure); its slot (one reference:
    /// the tables').
    fn new_cgroup_obj(&self, path: &str, id: u64, parent: Option<usize>) -> Result<usize, String> {
        let cgc = self.0.cache(Kind::Cgroup);
        let mut held = Held { kernel: self, refs: parent.iter().map(|&p| (Kind::Cgroup, p)).collect() };
        let (plevel, pptr) = match parent {
            Some(p) => {
                let pp = cgc.addr(p) as *mut Cgroup;
                // SAFETY: the parent is referenced by the caller.
                (unsafe { (*pp).level } as usize, pp)
            }
            None => (usize::MAX, std::ptr::null_mut()),
        };
        let level = plevel.wrapping_add(1);
        if level > CGROUP_MAX_LEVEL {
            return Err(format!("cgroup `{path}`: deeper than the model's {CGROUP_MAX_LEVEL} levels"));
        }
        let name = if path == "/" { "" } else { path.rsplit('/').next().unwrap_or("") };
        let (ni, np) = self.alloc(Kind::Name, name.len() + 1)?;
        held.refs.push((Kind::Name, ni));
        // SAFETY: fresh zeroed slot of 256 bytes; names are at most 255 bytes.
        unsafe { std::ptr::copy_nonoverlapping(name.as_ptr(), np, name.len().min(255)) };
        let (ki, kp) = self.alloc(Kind::Kernfs, std::mem::size_of::<KernfsNode>())?;
        // The kernfs node owns the name from here.
        held.refs.pop();
        // SAFETY: fresh zeroed slot.
        unsafe { (*(kp as *mut KernfsNode)).name = np as *const c_char };
        held.refs.push((Kind::Kernfs, ki));
        let len = std::mem::size_of::<Cgroup>() + 8 * (level + 1);
        let (ci, cp) = self.alloc(Kind::Cgroup, len)?;
        // The cgroup owns its parent and kernfs node from here (its reclaim drops them).
        held.refs.clear();
        let kn = kp as *mut KernfsNode;
        let c = cp as *mut Cgroup;
        let root = self.0.cache(Kind::Root).addr(0) as *mut CgroupRoot;
        // SAFETY: fresh zeroed slots of the right sizes, published below through the tables'
        // locks; the parent is live and pinned by this cgroup.
        unsafe {
            (*kn).count = AtomicT(AtomicInner { counter: 1 });
            (*kn).active = AtomicT(AtomicInner { counter: 1 });
            (*kn).__parent = if pptr.is_null() { std::ptr::null_mut() } else { (*pptr).kn };
            (*kn).flags = KERNFS_DIR;
            (*kn).mode = UmodeT(0o040755);
            (*kn).id = id;
            (*kn).r#priv = c as *mut _;
            (*c).self_.cgroup = c;
            (*c).self_.id = self.0.next_css_id.fetch_add(1, Ordering::Relaxed);
            (*c).self_.online_cnt = AtomicT(AtomicInner { counter: 1 });
            (*c).self_.serial_nr = (*c).self_.id as u64;
            (*c).level = level as i32;
            (*c).max_depth = i32::MAX;
            (*c).max_descendants = i32::MAX;
            (*c).kn = kn;
            (*c).root = root;
            (*c).dom_cgrp = c;
            let anc = addr_of_mut!((*c).ancestors) as *mut *mut Cgroup;
            if !pptr.is_null() {
                (*c).self_.parent = addr_of_mut!((*pptr).self_);
                let panc = addr_of_mut!((*pptr).ancestors) as *mut *mut Cgroup;
                for i in 0..level {
                    *anc.add(i) = *panc.add(i);
                }
            }
            *anc.add(level) = c;
        }
        // A css_set for the tasks of this cgroup.
        held.refs.push((Kind::Cgroup, ci));
        let (si, sp) = self.alloc(Kind::CssSet, std::mem::size_of::<CssSet>())?;
        held.refs.push((Kind::CssSet, si));
        let cs = sp as *mut CssSet;
        cgc.get(ci);
        // SAFETY: fresh zeroed slot; the cgroup is pinned by the css_set.
        unsafe {
            (*cs).refcount = RefcountT(RefcountStruct { refs: AtomicT(AtomicInner { counter: 1 }) });
            (*cs).dom_cset = cs;
            (*cs).dfl_cgrp = c;
            (*cs).subsys[0] = addr_of_mut!((*c).self_);
        }
        // Published under the path table's lock, if the parent is still there (an rmdir may
        // have removed it meanwhile) and the path and id are still free.
        let mut paths = self.0.cgroup_paths.write().unwrap_or_else(|e| e.into_inner());
        if let Some(pp) = parent_path(path) {
            if !paths.contains_key(&pp) {
                return Err(format!("cgroup `{path}`: its parent `{pp}` was removed"));
            }
        }
        if paths.contains_key(path) {
            return Err(format!("cgroup `{path}` exists"));
        }
        let mut ids = self.0.cgroup_ids.write().unwrap_or_else(|e| e.into_inner());
        if ids.contains_key(&id) {
            return Err(format!("cgroup `{path}`: id {id} is in use"));
        }
        // The tables own the cgroup and its css_set from here.
        held.refs.clear();
        self.0.csets.write().unwrap_or_else(|e| e.into_inner()).insert(ci, si);
        ids.insert(id, ci);
        paths.insert(path.to_string(), ci);
        Ok(ci)
    }

    /// Creates a cgroup (its parent must exist); a reference to it.
    pub fn create_cgroup(&self, spec: &CgroupSpec) -> Result<Ref<Cgroup>, String> {
        let path = normalize_cgroup_path(&spec.path)?;
        if self.0.cgroup_paths.read().unwrap_or_else(|e| e.into_inner()).contains_key(&path) {
            return Err(format!("cgroup `{path}` exists"));
        }
        let parent_p = parent_path(&path).ok_or("the root cgroup exists")?;
        let parent = {
            let paths = self.0.cgroup_paths.read().unwrap_or_else(|e| e.into_inner());
            let p = *paths
                .get(&parent_p)
                .ok_or_else(|| format!("cgroup `{path}`: no parent cgroup `{parent_p}`"))?;
            // The new cgroup's reference to its parent, taken while the table holds one.
            if !self.0.cache(Kind::Cgroup).try_get(p) {
                return Err(format!("cgroup `{path}`: its parent `{parent_p}` is being removed"));
            }
            p
        };
        let id = match spec.id {
            Some(id) => {
                if self.0.cgroup_ids.read().unwrap_or_else(|e| e.into_inner()).contains_key(&id) {
                    return Err(format!("cgroup `{path}`: id {id} is in use"));
                }
                id
            }
            None => loop {
                let id = self.0.next_cgroup_id.fetch_add(1, Ordering::Relaxed);
                if !self.0.cgroup_ids.read().unwrap_or_else(|e| e.into_inner()).contains_key(&id) {
                    break id;
                }
            },
        };
        let ci = self.new_cgroup_obj(&path, id, Some(parent))?;
        self.0.cache(Kind::Cgroup).get(ci);
        Ok(Ref { kernel: self.clone(), idx: ci, _t: PhantomData })
    }

    /// Removes a cgroup (`rmdir`): it leaves the tables and can no longer be acquired; it lives
    /// on while references remain. Refused for the root, a cgroup with children or with tasks.
    pub fn remove_cgroup(&self, path: &str) -> Result<(), String> {
        let path = normalize_cgroup_path(path)?;
        if path == "/" {
            return Err("the root cgroup cannot be removed".into());
        }
        let mut paths = self.0.cgroup_paths.write().unwrap_or_else(|e| e.into_inner());
        let Some(&ci) = paths.get(&path) else { return Err(format!("no cgroup `{path}`")) };
        if paths.range(format!("{path}/")..).next().is_some_and(|(p, _)| p.starts_with(&format!("{path}/"))) {
            return Err(format!("cgroup `{path}` has children"));
        }
        let si = self.0.csets.read().unwrap_or_else(|e| e.into_inner()).get(&ci).copied();
        if let Some(si) = si {
            if nr_tasks(self.0.cache(Kind::CssSet).addr(si) as *mut CssSet).load(Ordering::Acquire) > 0 {
                return Err(format!("cgroup `{path}` has tasks"));
            }
        }
        paths.remove(&path);
        drop(paths);
        let c = self.0.cache(Kind::Cgroup).addr(ci) as *mut Cgroup;
        // SAFETY: live (the tables hold it until below).
        let id = unsafe { (*(*c).kn).id };
        self.0.cgroup_ids.write().unwrap_or_else(|e| e.into_inner()).remove(&id);
        self.0.cache(Kind::Cgroup).kill(ci);
        if let Some(si) = self.0.csets.write().unwrap_or_else(|e| e.into_inner()).remove(&ci) {
            self.put(Kind::CssSet, si);
        }
        self.put(Kind::Cgroup, ci);
        Ok(())
    }

    /// The cgroup with id `id` (`cgroup_get_from_id`), referenced.
    pub fn cgroup_by_id(&self, id: u64) -> Option<Ref<Cgroup>> {
        let ci = *self.0.cgroup_ids.read().unwrap_or_else(|e| e.into_inner()).get(&id)?;
        self.0.cache(Kind::Cgroup).try_get(ci).then(|| Ref { kernel: self.clone(), idx: ci, _t: PhantomData })
    }

    /// The cgroup at `path`, referenced.
    pub fn cgroup_by_path(&self, path: &str) -> Option<Ref<Cgroup>> {
        let path = normalize_cgroup_path(path).ok()?;
        let ci = *self.0.cgroup_paths.read().unwrap_or_else(|e| e.into_inner()).get(&path)?;
        self.0.cache(Kind::Cgroup).try_get(ci).then(|| Ref { kernel: self.clone(), idx: ci, _t: PhantomData })
    }

    /// The path of a live cgroup.
    pub fn cgroup_path(&self, cgrp: *const Cgroup) -> Option<String> {
        let ci = self.slot_of(cgrp)?;
        let paths = self.0.cgroup_paths.read().unwrap_or_else(|e| e.into_inner());
        paths.iter().find(|(_, &s)| s == ci).map(|(p, _)| p.clone())
    }

    // ---- tasks ----

    fn new_task_obj(&self, spec: &TaskSpec) -> Result<usize, String> {
        let tasks = self.0.cache(Kind::Task);
        if let Some(c) = spec.cpus.as_ref().and_then(|l| l.0.iter().find(|&&c| c >= self.0.nr_cpu_ids)) {
            return Err(format!(
                "task {}: CPU {c} does not exist (the model has {})",
                spec.pid, self.0.nr_cpu_ids
            ));
        }
        // References the new task will hold, taken while the tables' own references keep the
        // objects alive (so a concurrent exit or rmdir cannot make them dead first); released
        // again if the task cannot be made.
        let mut held = Held { kernel: self, refs: Vec::new() };
        let (parent, leader) = {
            let pids = self.0.pids.read().unwrap_or_else(|e| e.into_inner());
            let parent = if spec.pid == 0 {
                None
            } else if spec.ppid == 0 {
                Some(IDLE_SLOT)
            } else {
                Some(
                    *pids
                        .get(&spec.ppid)
                        .ok_or_else(|| format!("task {}: no parent task {}", spec.pid, spec.ppid))?,
                )
            };
            let leader = if spec.tgid == spec.pid {
                None
            } else {
                Some(
                    *pids
                        .get(&spec.tgid)
                        .ok_or_else(|| format!("task {}: no leader task {}", spec.pid, spec.tgid))?,
                )
            };
            for t in parent.iter().chain(leader.iter()) {
                if !tasks.try_get(*t) {
                    return Err(format!("task {}: its parent or leader is exiting", spec.pid));
                }
                held.refs.push((Kind::Task, *t));
            }
            (parent, leader)
        };
        let cg = normalize_cgroup_path(&spec.cgroup)?;
        let si = {
            let paths = self.0.cgroup_paths.read().unwrap_or_else(|e| e.into_inner());
            let ci = *paths.get(&cg).ok_or_else(|| format!("task {}: no cgroup `{cg}`", spec.pid))?;
            let si = *self
                .0
                .csets
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&ci)
                .ok_or("cgroup without css_set")?;
            if !self.0.cache(Kind::CssSet).try_get(si) {
                return Err(format!("task {}: cgroup `{cg}` is being removed", spec.pid));
            }
            held.refs.push((Kind::CssSet, si));
            si
        };
        let (ri, rp) = self.alloc(Kind::Cred, std::mem::size_of::<Cred>())?;
        held.refs.push((Kind::Cred, ri));
        let cred = rp as *mut Cred;
        // SAFETY: fresh zeroed slot.
        unsafe {
            (*cred).usage = AtomicT(AtomicInner { counter: 1 });
            for id in [&mut (*cred).uid, &mut (*cred).suid, &mut (*cred).euid, &mut (*cred).fsuid] {
                *id = KuidT(KuidInner { val: UidT(KernelUid32T(spec.uid)) });
            }
            for id in [&mut (*cred).gid, &mut (*cred).sgid, &mut (*cred).egid, &mut (*cred).fsgid] {
                *id = KgidT(KgidInner { val: GidT(KernelGid32T(spec.gid)) });
            }
        }
        let mm = if spec.kthread {
            std::ptr::null_mut()
        } else if let Some(l) = leader {
            // Threads share their leader's mm (pinned by the leader, which we hold).
            // SAFETY: the leader is referenced (held above).
            let lmm = unsafe { (*(tasks.addr(l) as *mut TaskStruct)).mm };
            if let Some(mi) = self.0.cache(Kind::Mm).index_of(lmm as u64) {
                self.0.cache(Kind::Mm).get(mi);
                held.refs.push((Kind::Mm, mi));
            }
            lmm
        } else {
            let (mi, p) = self.alloc(Kind::Mm, std::mem::size_of::<MmStruct>())?;
            held.refs.push((Kind::Mm, mi));
            p as *mut MmStruct
        };
        let (ti, tp) = self.alloc(Kind::Task, std::mem::size_of::<TaskStruct>())?;
        let t = tp as *mut TaskStruct;
        let all = 0..self.0.nr_cpu_ids;
        let mask = match &spec.cpus {
            Some(l) => cpumask_of(l.0.iter().copied()),
            None => cpumask_of(all),
        };
        let nr_allowed = spec.cpus.as_ref().map_or(self.0.nr_cpu_ids as i32, |l| l.0.len() as i32);
        // SAFETY: a fresh zeroed slot, published below through the pid table's lock; the objects
        // it points at are pinned by it (the references held above).
        unsafe {
            (*t).__state = 1; // TASK_INTERRUPTIBLE
            (*t).usage = RefcountT(RefcountStruct { refs: AtomicT(AtomicInner { counter: 1 }) });
            (*t).rcu_users = RefcountT(RefcountStruct { refs: AtomicT(AtomicInner { counter: 2 }) });
            (*t).flags = spec.flags;
            (*t).prio = 120;
            (*t).static_prio = 120;
            (*t).normal_prio = 120;
            (*t).nr_cpus_allowed = nr_allowed;
            (*t).cpus_mask = CpumaskT(mask);
            (*t).cpus_ptr = addr_of_mut!((*t).cpus_mask);
            (*t).mm = mm;
            (*t).active_mm = mm;
            (*t).exit_signal = 17; // SIGCHLD
            (*t).pid = spec.pid;
            (*t).tgid = spec.tgid;
            (*t).real_parent = parent.map_or(t, |p| tasks.addr(p) as *mut TaskStruct);
            (*t).parent = (*t).real_parent;
            (*t).group_leader = leader.map_or(t, |l| tasks.addr(l) as *mut TaskStruct);
            (*t).real_cred = cred;
            (*t).cred = cred;
            (*t).comm = comm_of(&spec.comm);
            (*t).loginuid = KuidT(KuidInner { val: UidT(KernelUid32T(u32::MAX)) });
            (*t).cgroups = self.0.cache(Kind::CssSet).addr(si) as *mut CssSet;
        }
        // The task holds the references now (its reclaim drops them).
        held.refs.clear();
        if spec.pid != 0 {
            let mut pids = self.0.pids.write().unwrap_or_else(|e| e.into_inner());
            if pids.contains_key(&spec.pid) {
                drop(pids);
                self.put(Kind::Task, ti);
                return Err(format!("task {}: pid in use", spec.pid));
            }
            pids.insert(spec.pid, ti);
            // SAFETY: just built; its css_set is pinned by it.
            nr_tasks(unsafe { (*t).cgroups }).fetch_add(1, Ordering::AcqRel);
        }
        Ok(ti)
    }

    /// Creates a task (its parent and leader must exist); a reference to it.
    pub fn create_task(&self, spec: &TaskSpec) -> Result<Ref<TaskStruct>, String> {
        if spec.pid <= 0 {
            return Err(format!("task {}: pid must be positive", spec.pid));
        }
        if spec.comm.len() >= TASK_COMM_LEN {
            return Err(format!("task {}: comm `{}` is longer than 15 bytes", spec.pid, spec.comm));
        }
        let ti = self.new_task_obj(spec)?;
        self.0.cache(Kind::Task).get(ti);
        Ok(Ref { kernel: self.clone(), idx: ti, _t: PhantomData })
    }

    /// A task exits and is reaped: it leaves the pid table and can no longer be acquired
    /// (`rcu_users` reached 0); it lives on while references remain.
    pub fn exit_task(&self, pid: i32) -> Result<(), String> {
        let ti = self
            .0
            .pids
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pid)
            .ok_or_else(|| format!("no task {pid}"))?;
        self.0.cache(Kind::Task).kill(ti);
        let t = self.0.cache(Kind::Task).addr(ti) as *mut TaskStruct;
        // SAFETY: the task is live (the pid table's reference is dropped just below); its css_set
        // is pinned by it.
        nr_tasks(unsafe { (*t).cgroups }).fetch_sub(1, Ordering::AcqRel);
        self.put(Kind::Task, ti);
        Ok(())
    }

    /// The task with pid `pid` (`find_task_by_pid_ns` in the init namespace), referenced.
    pub fn task(&self, pid: i32) -> Option<Ref<TaskStruct>> {
        let ti = *self.0.pids.read().unwrap_or_else(|e| e.into_inner()).get(&pid)?;
        self.0.cache(Kind::Task).try_get(ti).then(|| Ref { kernel: self.clone(), idx: ti, _t: PhantomData })
    }

    /// Every pid, ascending.
    pub fn pids(&self) -> Vec<i32> {
        self.0.pids.read().unwrap_or_else(|e| e.into_inner()).keys().copied().collect()
    }

    /// Every cgroup path, in tree order.
    pub fn cgroup_paths(&self) -> Vec<String> {
        self.0.cgroup_paths.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }

    // ---- program-owned objects ----

    /// Allocates a zeroed `struct bpf_cpumask` with one reference (`bpf_cpumask_create`).
    pub fn alloc_cpumask(&self) -> Option<*mut BpfCpumask> {
        let (_, p) = self.0.cache(Kind::Cpumask).alloc(std::mem::size_of::<BpfCpumask>())?;
        let m = p as *mut BpfCpumask;
        // SAFETY: fresh zeroed slot.
        unsafe { (*m).usage = RefcountT(RefcountStruct { refs: AtomicT(AtomicInner { counter: 1 }) }) };
        Some(m)
    }

    /// Allocates `size` zeroed bytes a program owns (`bpf_obj_new`).
    pub fn alloc_obj(&self, size: usize) -> Option<*mut u8> {
        Some(self.0.cache(Kind::Obj).alloc(size.max(1))?.1)
    }

    /// Frees an object of `bpf_obj_new` (after the grace period). `false` if `ptr` is none.
    pub fn free_obj(&self, ptr: u64) -> bool {
        match self.0.cache(Kind::Obj).index_of(ptr) {
            Some(i) => self.put(Kind::Obj, i),
            None => false,
        }
    }

    /// Drops a reference to the object at `addr`, whatever its kind (a task, cgroup, cpumask or
    /// `bpf_obj_new` object); `false` if `addr` is none.
    pub fn release_any(&self, addr: u64) -> bool {
        for kind in [Kind::Task, Kind::Cgroup, Kind::Cpumask, Kind::Obj] {
            if let Some(i) = self.0.cache(kind).index_of(addr) {
                return self.put(kind, i);
            }
        }
        false
    }

    /// Memory programs may access: every live object, writable only for program-owned ones.
    pub fn memory(&self) -> &dyn DynamicMemory {
        &*self.0
    }

    // ---- the leak audit ----

    /// The reference count of every object now.
    pub fn audit(&self) -> RefAudit {
        let mut counts = BTreeMap::new();
        for kind in KINDS {
            for (idx, refs) in self.0.cache(kind).referenced() {
                counts.insert((kind, idx), refs);
            }
        }
        RefAudit { counts }
    }

    /// Objects of `kind` allocated and not reclaimed.
    pub fn live_objects(&self, kind: Kind) -> usize {
        self.0.cache(kind).live_count()
    }

    /// A name for object `idx` of `kind`, for reports.
    fn describe(&self, kind: Kind, idx: usize) -> String {
        let addr = self.0.cache(kind).addr(idx);
        // SAFETY: reports are made while the object is referenced (it was in an audit).
        unsafe {
            match kind {
                Kind::Task => {
                    let t = addr as *mut TaskStruct;
                    let comm: Vec<u8> = (*t).comm.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
                    format!("task_struct pid {} ({})", (*t).pid, String::from_utf8_lossy(&comm))
                }
                Kind::Cgroup => {
                    let c = addr as *mut Cgroup;
                    format!("cgroup id {}", (*(*c).kn).id)
                }
                _ => format!("{} #{idx}", self.0.cache(kind).name),
            }
        }
    }
}

impl DynamicMemory for Inner {
    fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        self.caches.iter().any(|c| c.contains(addr, len, write))
    }
}

/// References taken while building an object, dropped again if it cannot be made.
struct Held<'a> {
    kernel: &'a Kernel,
    refs: Vec<(Kind, usize)>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        for &(kind, idx) in &self.refs {
            self.kernel.put(kind, idx);
        }
    }
}

/// `cset->nr_tasks`, counted atomically (programs may read it while tasks come and go).
fn nr_tasks<'a>(cset: *mut CssSet) -> &'a AtomicI32 {
    // SAFETY: a live css_set (pinned by the caller's task or the tables); `nr_tasks` is an
    // aligned int only ever updated through this atomic.
    unsafe { AtomicI32::from_ptr(addr_of_mut!((*cset).nr_tasks)) }
}

/// Reference counts taken at one moment ([`Kernel::audit`]), to compare with later.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RefAudit {
    counts: BTreeMap<(Kind, usize), u32>,
}

impl RefAudit {
    /// Checks that every object's reference count is back where it was, and that no object
    /// made since is still referenced. The error lists each difference.
    pub fn check(&self, kernel: &Kernel) -> Result<(), String> {
        let now = kernel.audit();
        let mut problems = Vec::new();
        for (&(kind, idx), &refs) in &now.counts {
            match self.counts.get(&(kind, idx)) {
                Some(&was) if was == refs => {}
                Some(&was) => problems
                    .push(format!("{}: reference count {refs}, was {was}", kernel.describe(kind, idx))),
                None => problems.push(format!("{}: still referenced ({refs})", kernel.describe(kind, idx))),
            }
        }
        for (&(kind, idx), &was) in &self.counts {
            if !now.counts.contains_key(&(kind, idx)) {
                problems
                    .push(format!("{} #{idx}: released too often (was {was})", kernel.0.cache(kind).name));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("leak audit: {}", problems.join("; ")))
        }
    }
}
