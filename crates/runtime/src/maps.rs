//! Maps: array, hash, per-CPU array and hash, LRU hash, ring buffer, queue and stack, and global data (`.data`,
//! `.rodata`, `.bss`, `.kconfig` as one-element arrays), with the kernel's semantics for
//! programs and a byte-level API for the host.
//!
//! Every map's memory is allocated once, when the map is created, and stays put until the map
//! is dropped: a program gets pointers into it (`bpf_map_lookup_elem`, global data), and a run
//! lists each map's memory as a region. Hash maps are *preallocated* (the kernel's default):
//! `max_entries` elements, reused after a delete as the kernel reuses them.
//!
//! Special fields of values (`btf_record`): updates copy everything but them
//! (`copy_map_value`), and a referenced `__kptr` in an element that is overwritten or deleted,
//! or in any element when the map is dropped, is released through its type's destructor kfunc
//! (`bpf_obj_free_fields`). `struct bpf_spin_lock` fields are real spin locks
//! (`bpf_spin_lock`, `BPF_F_LOCK`).

use kfvm_vm::Region;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// `BPF_MAP_TYPE_*` numbers kfvm implements, as `u32` (the map specs' type), from [`kfvm_uapi::MapType`].
pub mod map_type {
    use kfvm_uapi::MapType;
    /// `BPF_MAP_TYPE_HASH`.
    pub const HASH: u32 = MapType::Hash.as_u32();
    /// `BPF_MAP_TYPE_ARRAY`.
    pub const ARRAY: u32 = MapType::Array.as_u32();
    /// `BPF_MAP_TYPE_PERCPU_HASH`.
    pub const PERCPU_HASH: u32 = MapType::PercpuHash.as_u32();
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    pub const PERCPU_ARRAY: u32 = MapType::PercpuArray.as_u32();
    /// `BPF_MAP_TYPE_LRU_HASH`.
    pub const LRU_HASH: u32 = MapType::LruHash.as_u32();
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
    pub const LRU_PERCPU_HASH: u32 = MapType::LruPercpuHash.as_u32();
    /// `BPF_MAP_TYPE_RINGBUF`.
    pub const RINGBUF: u32 = MapType::Ringbuf.as_u32();
    /// `BPF_MAP_TYPE_QUEUE`.
    pub const QUEUE: u32 = MapType::Queue.as_u32();
    /// `BPF_MAP_TYPE_STACK`.
    pub const STACK: u32 = MapType::Stack.as_u32();
}

/// `BPF_NOEXIST`.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`.
pub const BPF_EXIST: u64 = 2;
/// `BPF_F_LOCK`.
pub const BPF_F_LOCK: u64 = 4;

const ENOENT: i64 = 2;
const E2BIG: i64 = 7;
const ENOMEM: i64 = 12;
const EEXIST: i64 = 17;
const EINVAL: i64 = 22;

/// Releases a referenced kptr: `(destructor kfunc id, object address)`.
pub type DtorFn = dyn Fn(u32, u64) + Send + Sync;

/// A referenced `__kptr` field of the value, and its type's destructor kfunc.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KptrSlot {
    /// Offset in the value.
    pub off: u32,
    /// The destructor's kfunc id (`None`: an untrusted kptr, nothing to release).
    pub dtor: Option<u32>,
}

/// What a map is, as created.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MapSpec {
    /// libbpf's name.
    pub name: String,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `__kptr` fields.
    pub kptrs: Vec<KptrSlot>,
    /// Offset of the `struct bpf_spin_lock`.
    pub spin_lock: Option<u32>,
    /// Initial contents (global data).
    pub data: Option<Vec<u8>>,
    /// The variables of a global-data map (`.data`, `.bss`, ...): name, offset, size.
    pub vars: Vec<(String, u32, u32)>,
}

/// Why a map could not be created or used from the host.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("map {map}: {message}")]
pub struct MapError {
    /// The map's name.
    pub map: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Array,
    Hash {
        lru: bool,
    },
    RingBuf,
    /// `BPF_MAP_TYPE_QUEUE` (`lifo` false) or `BPF_MAP_TYPE_STACK` (`lifo` true): no keys, values
    /// copied in by push and out by pop/peek, never addressed by the program.
    Queue {
        lifo: bool,
    },
}

/// Memory aligned to 8, zeroed.
struct Mem(Box<[u64]>);

impl Mem {
    fn new(bytes: usize) -> Mem {
        Mem(vec![0u64; bytes.div_ceil(8).max(1)].into_boxed_slice())
    }
    fn base(&self) -> u64 {
        self.0.as_ptr() as u64
    }
    fn len(&self) -> usize {
        self.0.len() * 8
    }
}

#[derive(Default)]
struct HashIndex {
    slots: HashMap<Vec<u8>, u32>,
    free: Vec<u32>,
    /// Last use of each slot (LRU).
    stamp: Vec<u64>,
    clock: u64,
}

/// A map.
pub struct Map {
    spec: MapSpec,
    kind: Kind,
    percpu: bool,
    ncpus: usize,
    /// Value size rounded up to 8 (per CPU copy), key size rounded up to 8.
    vsize: usize,
    ksize: usize,
    mem: Mem,
    index: Mutex<HashIndex>,
    ring: Option<Ring>,
    /// The elements of a queue or stack map, oldest first.
    queue: Mutex<VecDeque<Box<[u8]>>>,
    dtor: Arc<DtorFn>,
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map").field("spec", &self.spec).finish()
    }
}

fn round8(n: u32) -> usize {
    (n as usize).div_ceil(8) * 8
}

impl Map {
    /// Creates a map for `ncpus` CPUs; `dtor` releases referenced kptrs.
    pub fn new(spec: MapSpec, ncpus: u32, dtor: Arc<DtorFn>) -> Result<Map, MapError> {
        let err = |m: String| MapError { map: spec.name.clone(), message: m };
        let (kind, percpu) = match spec.map_type {
            map_type::ARRAY => (Kind::Array, false),
            map_type::PERCPU_ARRAY => (Kind::Array, true),
            map_type::HASH => (Kind::Hash { lru: false }, false),
            map_type::PERCPU_HASH => (Kind::Hash { lru: false }, true),
            map_type::LRU_HASH => (Kind::Hash { lru: true }, false),
            map_type::LRU_PERCPU_HASH => (Kind::Hash { lru: true }, true),
            map_type::RINGBUF => (Kind::RingBuf, false),
            map_type::QUEUE => (Kind::Queue { lifo: false }, false),
            map_type::STACK => (Kind::Queue { lifo: true }, false),
            t => return Err(err(format!("map type {t} is not supported by kfvm"))),
        };
        let ncpus = if percpu { ncpus.max(1) as usize } else { 1 };
        if spec.max_entries == 0 {
            return Err(err("max_entries is 0".into()));
        }
        let (vsize, ksize) = (round8(spec.value_size), round8(spec.key_size));
        let bytes = match kind {
            Kind::Array => {
                if spec.key_size != 4 || spec.value_size == 0 {
                    return Err(err("an array has 4-byte keys and values".into()));
                }
                // The values, then every index as a key for bpf_for_each_map_elem callbacks.
                spec.max_entries as usize * (vsize * ncpus + 4)
            }
            Kind::Hash { .. } => {
                if spec.key_size == 0 || spec.value_size == 0 {
                    return Err(err("a hash map has keys and values".into()));
                }
                spec.max_entries as usize * (ksize + vsize * ncpus)
            }
            Kind::RingBuf => {
                if !spec.max_entries.is_power_of_two() || spec.max_entries % 4096 != 0 {
                    return Err(err("a ring buffer's size is a power-of-2 multiple of 4096".into()));
                }
                // Twice the size: a record that wraps stays contiguous, as the kernel's double
                // mapping of the data pages makes it.
                2 * spec.max_entries as usize
            }
            Kind::Queue { .. } => {
                // queue_stack_map_alloc_check(): no keys, and values without special fields.
                if spec.key_size != 0 || spec.value_size == 0 {
                    return Err(err("a queue or stack map has no keys and has values".into()));
                }
                if !spec.kptrs.is_empty() || spec.spin_lock.is_some() {
                    return Err(err("a queue or stack map's values have no kptrs or spin locks".into()));
                }
                0
            }
        };
        if bytes > 1 << 30 {
            return Err(err(format!("{bytes} bytes of storage is more than kfvm allocates for a map")));
        }
        let mem = Mem::new(bytes);
        if kind == Kind::Array {
            let keys = spec.max_entries as usize * vsize * ncpus;
            for i in 0..spec.max_entries {
                // SAFETY: inside the fresh allocation (the key area after the values).
                unsafe {
                    (mem.base() as *mut u8).add(keys + 4 * i as usize).cast::<u32>().write_unaligned(i)
                };
            }
        }
        if let Some(data) = &spec.data {
            // SAFETY: a fresh allocation of at least `value_size` bytes (one-element array).
            let n = data.len().min(spec.value_size as usize);
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), mem.base() as *mut u8, n) };
        }
        let index = HashIndex {
            free: (0..spec.max_entries).rev().collect(),
            stamp: vec![0; if matches!(kind, Kind::Hash { .. }) { spec.max_entries as usize } else { 0 }],
            ..Default::default()
        };
        let ring = (kind == Kind::RingBuf).then(|| Ring::new(spec.max_entries));
        let queue = Mutex::new(VecDeque::new());
        Ok(Map { spec, kind, percpu, ncpus, vsize, ksize, mem, index: Mutex::new(index), ring, queue, dtor })
    }

    /// The map as created.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The memory programs may access: values (and keys) of every element, or the ring buffer's
    /// data.
    pub fn region(&self) -> Region {
        Region { start: self.mem.base(), len: self.mem.len() as u64, writable: true }
    }

    /// Whether this is a per-CPU map.
    pub fn is_percpu(&self) -> bool {
        self.percpu
    }

    /// The ring buffer, for a `BPF_MAP_TYPE_RINGBUF` map.
    pub fn ringbuf(&self) -> Option<RingBuf<'_>> {
        self.ring.as_ref().map(|r| RingBuf { ring: r, mem: &self.mem })
    }

    fn index(&self) -> std::sync::MutexGuard<'_, HashIndex> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Address of the value of element `slot` on `cpu`.
    fn value_addr(&self, slot: u32, cpu: usize) -> u64 {
        let cpu = cpu.min(self.ncpus - 1);
        match self.kind {
            Kind::Array => self.mem.base() + ((slot as usize * self.ncpus + cpu) * self.vsize) as u64,
            _ => {
                let elem = self.ksize + self.vsize * self.ncpus;
                self.mem.base() + (slot as usize * elem + self.ksize + cpu * self.vsize) as u64
            }
        }
    }

    /// Where an array's key area (index `i` at `4 * i`) starts in its memory.
    fn array_keys_off(&self) -> usize {
        self.spec.max_entries as usize * self.vsize * self.ncpus
    }

    /// `map_for_each_callback` (`bpf_for_each_array_elem`, `bpf_for_each_hash_elem`): the
    /// `(key address, value address)` of every element, in index order for arrays and
    /// slot order for hash maps, the value being `cpu`'s copy for per-CPU maps. `None` for maps
    /// without elements to visit. A hash element deleted by a callback during the walk may
    /// still be visited (its memory stays valid), as under the kernel's RCU walk.
    pub fn elems(&self, cpu: u32) -> Option<Vec<(u64, u64)>> {
        let cpu = cpu as usize;
        match self.kind {
            Kind::Array => Some(
                (0..self.spec.max_entries)
                    .map(|i| {
                        let k = self.mem.base() + (self.array_keys_off() + 4 * i as usize) as u64;
                        (k, self.value_addr(i, cpu))
                    })
                    .collect(),
            ),
            Kind::Hash { .. } => {
                let mut slots: Vec<u32> = self.index().slots.values().copied().collect();
                slots.sort_unstable();
                Some(slots.into_iter().map(|s| (self.key_addr(s), self.value_addr(s, cpu))).collect())
            }
            Kind::RingBuf | Kind::Queue { .. } => None,
        }
    }

    fn key_addr(&self, slot: u32) -> u64 {
        self.mem.base() + (slot as usize * (self.ksize + self.vsize * self.ncpus)) as u64
    }

    /// The global data of a one-element array (`.data`, `.bss`, ...): its address.
    pub fn value_base(&self) -> u64 {
        self.value_addr(0, 0)
    }

    /// Finds the slot of `key` (hash maps), touching it for LRU.
    fn find(&self, key: &[u8]) -> Option<u32> {
        match self.kind {
            Kind::Array => {
                let i = u32::from_ne_bytes(key.get(..4)?.try_into().ok()?);
                (i < self.spec.max_entries).then_some(i)
            }
            Kind::Hash { .. } => {
                let mut ix = self.index();
                let slot = *ix.slots.get(key)?;
                ix.clock += 1;
                let c = ix.clock;
                ix.stamp[slot as usize] = c;
                Some(slot)
            }
            Kind::RingBuf | Kind::Queue { .. } => None,
        }
    }

    /// `bpf_map_lookup_elem` from a program on `cpu`: the value's address, or 0.
    pub fn lookup(&self, key: &[u8], cpu: u32) -> u64 {
        self.find(key).map_or(0, |s| self.value_addr(s, cpu as usize))
    }

    /// `bpf_map_lookup_percpu_elem`.
    pub fn lookup_percpu(&self, key: &[u8], cpu: u32) -> u64 {
        if !self.percpu || cpu as usize >= self.ncpus {
            return 0;
        }
        self.lookup(key, cpu)
    }

    /// `copy_map_value` (skipping special fields, under the value's spin lock with
    /// `BPF_F_LOCK`) then `bpf_obj_free_fields` on the destination.
    fn store_value(&self, dst: u64, src: &[u8], lock: bool) {
        let n = (self.spec.value_size as usize).min(src.len());
        let mut skip: Vec<(usize, usize)> = self.spec.kptrs.iter().map(|k| (k.off as usize, 8)).collect();
        if let Some(l) = self.spec.spin_lock {
            skip.push((l as usize, 4));
        }
        skip.sort_unstable();
        let locked = lock.then(|| self.spec.spin_lock.map(|l| SpinLock::at(dst + l as u64))).flatten();
        if let Some(l) = locked {
            l.lock();
        }
        let mut at = 0usize;
        for (off, len) in skip.iter().copied().chain([(n, 0)]) {
            let end = off.min(n);
            if end > at {
                // SAFETY: `dst` is a value of this map (value_size bytes of its storage); programs
                // may write it concurrently, as in the kernel.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        src[at..end].as_ptr(),
                        (dst + at as u64) as *mut u8,
                        end - at,
                    )
                };
            }
            at = at.max(off + len);
        }
        if let Some(l) = locked {
            l.unlock();
        }
        self.free_fields(dst);
    }

    /// `bpf_obj_free_fields`: releases the referenced kptrs of the value at `v`.
    fn free_fields(&self, v: u64) {
        for k in &self.spec.kptrs {
            // SAFETY: an aligned 8-byte kptr field of a value of this map; kptrs are only ever
            // accessed atomically.
            let old =
                unsafe { AtomicU64::from_ptr((v + k.off as u64) as *mut u64) }.swap(0, Ordering::AcqRel);
            if old != 0 {
                if let Some(d) = k.dtor {
                    (self.dtor)(d, old);
                }
            }
        }
    }

    fn zero_value(&self, v: u64) {
        self.free_fields(v);
        // SAFETY: a value of this map.
        unsafe { std::ptr::write_bytes(v as *mut u8, 0, self.vsize) };
    }

    /// `bpf_map_update_elem` (from a program on `cpu`, `all_cpus` false: that CPU's copy of a
    /// per-CPU value; from the host, every CPU's copy from `value`, which then holds
    /// `ncpus` values of `round_up(value_size, 8)` bytes). 0 or a negative errno.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64, cpu: u32, all_cpus: bool) -> i64 {
        if flags & !(BPF_NOEXIST | BPF_EXIST | BPF_F_LOCK) != 0 || flags & 3 == 3 {
            return -EINVAL;
        }
        let lock = flags & BPF_F_LOCK != 0;
        if lock && self.spec.spin_lock.is_none() {
            return -EINVAL;
        }
        let cpus: Vec<usize> =
            if all_cpus && self.percpu { (0..self.ncpus).collect() } else { vec![cpu as usize] };
        let value_of = |i: usize| -> &[u8] {
            if all_cpus && self.percpu {
                let s = i * self.vsize;
                value.get(s..).unwrap_or(&[])
            } else {
                value
            }
        };
        match self.kind {
            Kind::RingBuf => -EINVAL,
            // The syscall's update of a queue or stack map is a push.
            Kind::Queue { .. } => self.push(value, flags),
            Kind::Array => {
                let Some(i) = key.get(..4).map(|k| u32::from_ne_bytes(k.try_into().unwrap_or([0; 4]))) else {
                    return -EINVAL;
                };
                if i >= self.spec.max_entries {
                    return -E2BIG;
                }
                if flags & 3 == BPF_NOEXIST {
                    return -EEXIST;
                }
                for (n, c) in cpus.iter().enumerate() {
                    self.store_value(self.value_addr(i, *c), value_of(n), lock);
                }
                0
            }
            Kind::Hash { lru } => {
                let key = &key[..self.spec.key_size as usize];
                let mut ix = self.index();
                let slot = match ix.slots.get(key).copied() {
                    Some(s) => {
                        if flags & 3 == BPF_NOEXIST {
                            return -EEXIST;
                        }
                        s
                    }
                    None => {
                        if flags & 3 == BPF_EXIST {
                            return -ENOENT;
                        }
                        let s = match ix.free.pop() {
                            Some(s) => s,
                            None if lru => {
                                // Evict the least recently used element.
                                let Some((victim, _)) =
                                    ix.slots.iter().min_by_key(|(_, &s)| ix.stamp[s as usize])
                                else {
                                    return -ENOMEM;
                                };
                                let victim = victim.clone();
                                let s = ix.slots.remove(&victim).unwrap_or(0);
                                for c in 0..self.ncpus {
                                    self.zero_value(self.value_addr(s, c));
                                }
                                s
                            }
                            None => return -E2BIG,
                        };
                        // SAFETY: the key area of a free slot of this map.
                        unsafe {
                            std::ptr::write_bytes(self.key_addr(s) as *mut u8, 0, self.ksize);
                            std::ptr::copy_nonoverlapping(
                                key.as_ptr(),
                                self.key_addr(s) as *mut u8,
                                key.len(),
                            );
                        }
                        for c in 0..self.ncpus {
                            self.zero_value(self.value_addr(s, c));
                        }
                        ix.slots.insert(key.to_vec(), s);
                        s
                    }
                };
                ix.clock += 1;
                let c = ix.clock;
                ix.stamp[slot as usize] = c;
                drop(ix);
                for (n, c) in cpus.iter().enumerate() {
                    self.store_value(self.value_addr(slot, *c), value_of(n), lock);
                }
                0
            }
        }
    }

    /// `bpf_map_delete_elem`: 0 or a negative errno.
    pub fn delete(&self, key: &[u8]) -> i64 {
        match self.kind {
            Kind::Array | Kind::RingBuf | Kind::Queue { .. } => -EINVAL,
            Kind::Hash { .. } => {
                let key = &key[..self.spec.key_size as usize];
                let mut ix = self.index();
                let Some(s) = ix.slots.remove(key) else { return -ENOENT };
                for c in 0..self.ncpus {
                    self.free_fields(self.value_addr(s, c));
                }
                ix.free.push(s);
                0
            }
        }
    }

    /// The value of `key` as bytes (per-CPU maps: every CPU's copy, `round_up(value_size, 8)`
    /// bytes each), from the host.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let slot = match self.kind {
            Kind::Array => self.find(key)?,
            Kind::Hash { .. } => *self.index().slots.get(key.get(..self.spec.key_size as usize)?)?,
            Kind::RingBuf | Kind::Queue { .. } => return None,
        };
        let mut out = Vec::new();
        for c in 0..self.ncpus {
            let n = if self.percpu { self.vsize } else { self.spec.value_size as usize };
            let a = self.value_addr(slot, c);
            // SAFETY: a value of this map.
            out.extend_from_slice(unsafe { std::slice::from_raw_parts(a as *const u8, n) });
        }
        Some(out)
    }

    /// Every key, in slot order (arrays: every index).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        match self.kind {
            Kind::Array => (0..self.spec.max_entries).map(|i| i.to_ne_bytes().to_vec()).collect(),
            Kind::Hash { .. } => {
                let ix = self.index();
                let mut v: Vec<(u32, Vec<u8>)> = ix.slots.iter().map(|(k, &s)| (s, k.clone())).collect();
                v.sort();
                v.into_iter().map(|(_, k)| k).collect()
            }
            Kind::RingBuf | Kind::Queue { .. } => Vec::new(),
        }
    }

    /// `bpf_map_push_elem` (`queue_stack_map_push_elem`): appends a copy of `value`; with
    /// `BPF_EXIST` a full map drops its oldest element to make room, else a full map refuses
    /// with `-E2BIG`. 0 or a negative errno.
    pub fn push(&self, value: &[u8], flags: u64) -> i64 {
        if !matches!(self.kind, Kind::Queue { .. }) {
            return -EINVAL;
        }
        if flags & BPF_NOEXIST != 0 || flags > BPF_EXIST {
            return -EINVAL;
        }
        let Some(v) = value.get(..self.spec.value_size as usize) else { return -EINVAL };
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= self.spec.max_entries as usize {
            if flags & BPF_EXIST == 0 {
                return -E2BIG;
            }
            q.pop_front();
        }
        q.push_back(v.into());
        0
    }

    /// `bpf_map_pop_elem` (`delete`) and `bpf_map_peek_elem`: copies the next element (a
    /// queue's oldest, a stack's newest) into `out`; an empty map zeroes `out` and gives
    /// `-ENOENT`. 0 or a negative errno.
    pub fn pop(&self, out: &mut [u8], delete: bool) -> i64 {
        let Kind::Queue { lifo } = self.kind else { return -EINVAL };
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let v = match (lifo, delete) {
            (false, true) => q.pop_front(),
            (true, true) => q.pop_back(),
            (false, false) => q.front().cloned(),
            (true, false) => q.back().cloned(),
        };
        match v {
            Some(v) => {
                let n = out.len().min(v.len());
                out[..n].copy_from_slice(&v[..n]);
                0
            }
            None => {
                out.fill(0);
                -ENOENT
            }
        }
    }

    /// The elements of a queue or stack map, oldest first (empty for other maps).
    pub fn queue_elems(&self) -> Vec<Vec<u8>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|v| v.to_vec()).collect()
    }

    /// The kptr field at `addr`, if `addr` is one of this map's values' kptr fields.
    pub fn is_kptr_field(&self, addr: u64) -> bool {
        let base = self.mem.base();
        if addr < base
            || addr >= base + self.mem.len() as u64
            || matches!(self.kind, Kind::RingBuf | Kind::Queue { .. })
        {
            return false;
        }
        let rel = (addr - base) as usize;
        let off_in_value = match self.kind {
            Kind::Array if rel >= self.array_keys_off() => return false,
            Kind::Array => rel % self.vsize,
            _ => {
                let elem = self.ksize + self.vsize * self.ncpus;
                let r = rel % elem;
                if r < self.ksize {
                    return false;
                }
                (r - self.ksize) % self.vsize
            }
        };
        self.spec.kptrs.iter().any(|k| k.off as usize == off_in_value)
    }

    /// The spin lock at `addr` if it is one of this map's values' lock fields.
    pub fn spin_lock_at(&self, addr: u64) -> Option<SpinLock> {
        let l = self.spec.spin_lock? as usize;
        let base = self.mem.base();
        if addr < base
            || addr + 4 > base + self.mem.len() as u64
            || matches!(self.kind, Kind::RingBuf | Kind::Queue { .. })
        {
            return None;
        }
        let rel = (addr - base) as usize;
        let off = match self.kind {
            Kind::Array if rel >= self.array_keys_off() => return None,
            Kind::Array => rel % self.vsize,
            _ => {
                let elem = self.ksize + self.vsize * self.ncpus;
                (rel % elem).checked_sub(self.ksize)? % self.vsize
            }
        };
        (off == l).then(|| SpinLock::at(addr))
    }
}

impl Drop for Map {
    /// Frees the map: every element's referenced kptrs are released (`bpf_map_free`).
    fn drop(&mut self) {
        if self.spec.kptrs.is_empty() {
            return;
        }
        match self.kind {
            Kind::Array => {
                for i in 0..self.spec.max_entries {
                    for c in 0..self.ncpus {
                        self.free_fields(self.value_addr(i, c));
                    }
                }
            }
            Kind::Hash { .. } => {
                let slots: Vec<u32> = self.index().slots.values().copied().collect();
                for s in slots {
                    for c in 0..self.ncpus {
                        self.free_fields(self.value_addr(s, c));
                    }
                }
            }
            Kind::RingBuf | Kind::Queue { .. } => {}
        }
    }
}

/// A `struct bpf_spin_lock` (a 4-byte word in a map value).
#[derive(Clone, Copy, Debug)]
pub struct SpinLock(u64);

impl SpinLock {
    fn at(addr: u64) -> SpinLock {
        SpinLock(addr)
    }

    fn word(&self) -> &AtomicU32 {
        // SAFETY: the lock field of a value of a live map (aligned to 4: the verifier and BTF
        // require it); only ever accessed atomically.
        unsafe { AtomicU32::from_ptr(self.0 as *mut u32) }
    }

    /// `bpf_spin_lock`.
    pub fn lock(&self) {
        while self.word().compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            std::hint::spin_loop();
        }
    }

    /// `bpf_spin_unlock`.
    pub fn unlock(&self) {
        self.word().store(0, Ordering::Release);
    }
}

// ---- ring buffer ----

/// `BPF_RINGBUF_BUSY_BIT`.
const BUSY: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`.
const DISCARD: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`.
const HDR: u64 = 8;

struct Ring {
    size: u64,
    /// Producer position (under the lock: reservations are serialised, as the kernel's
    /// spinlock does), consumer position.
    prod: Mutex<u64>,
    cons: AtomicU64,
    /// Records dropped because the ring was full.
    dropped: AtomicU64,
}

impl Ring {
    fn new(size: u32) -> Ring {
        Ring { size: size as u64, prod: Mutex::new(0), cons: AtomicU64::new(0), dropped: AtomicU64::new(0) }
    }
}

/// A ring buffer map: the producer side programs use, and the consumer side for the host.
#[derive(Clone, Copy)]
pub struct RingBuf<'a> {
    ring: &'a Ring,
    mem: &'a Mem,
}

impl fmt::Debug for RingBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBuf").field("size", &self.ring.size).finish()
    }
}

impl RingBuf<'_> {
    fn hdr(&self, pos: u64) -> &AtomicU32 {
        let a = self.mem.base() + pos % self.ring.size;
        // SAFETY: a record header inside the data area (8-aligned positions).
        unsafe { AtomicU32::from_ptr(a as *mut u32) }
    }

    /// `bpf_ringbuf_reserve`: the address of `size` bytes for a record, or 0 if the ring is full.
    pub fn reserve(&self, size: u64) -> u64 {
        if size == 0 || size > (self.ring.size - HDR).min(0xfff_ffff) {
            return 0;
        }
        let total = HDR + size.div_ceil(8) * 8;
        let mut prod = self.ring.prod.lock().unwrap_or_else(|e| e.into_inner());
        let cons = self.ring.cons.load(Ordering::Acquire);
        if *prod + total - cons > self.ring.size {
            self.ring.dropped.fetch_add(1, Ordering::Relaxed);
            return 0;
        }
        let at = *prod;
        let base = self.mem.base() + at % self.ring.size;
        // SAFETY: the record's header (the data area has room for a record at any position:
        // twice the size).
        unsafe { *((base + 4) as *mut u32) = (at % self.ring.size) as u32 };
        self.hdr(at).store(size as u32 | BUSY, Ordering::Release);
        *prod += total;
        base + HDR
    }

    /// The position of the record whose data is at `data`, if it is a busy record of this ring.
    fn record_of(&self, data: u64) -> Option<u64> {
        let base = self.mem.base();
        let rel = data.checked_sub(base + HDR)?;
        if rel >= self.ring.size || rel % 8 != 0 {
            return None;
        }
        let h = self.hdr(rel).load(Ordering::Acquire);
        (h & BUSY != 0).then_some(rel)
    }

    /// `bpf_ringbuf_submit` / `_discard` of the record at `data`; `false` if it is none.
    pub fn commit(&self, data: u64, discard: bool) -> bool {
        let Some(pos) = self.record_of(data) else { return false };
        let h = self.hdr(pos);
        let len = h.load(Ordering::Acquire) & !(BUSY | DISCARD);
        h.store(len | if discard { DISCARD } else { 0 }, Ordering::Release);
        true
    }

    /// `bpf_ringbuf_output`: copies `data` into a new record; 0 or `-EAGAIN`.
    pub fn output(&self, data: &[u8]) -> i64 {
        let p = self.reserve(data.len() as u64);
        if p == 0 {
            return -11;
        }
        // SAFETY: a fresh reservation of `data.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p as *mut u8, data.len()) };
        self.commit(p, false);
        0
    }

    /// `bpf_ringbuf_query`: `BPF_RB_AVAIL_DATA` (0), `BPF_RB_RING_SIZE` (1), `BPF_RB_CONS_POS`
    /// (2), `BPF_RB_PROD_POS` (3).
    pub fn query(&self, flags: u64) -> u64 {
        let prod = *self.ring.prod.lock().unwrap_or_else(|e| e.into_inner());
        let cons = self.ring.cons.load(Ordering::Acquire);
        match flags {
            0 => prod - cons,
            1 => self.ring.size,
            2 => cons,
            3 => prod,
            _ => 0,
        }
    }

    /// Consumes every record submitted so far, in order (`ring_buffer__consume`): calls `f`
    /// with each record's bytes; discarded records are skipped. Stops at a record still being
    /// written. The number of records given to `f`.
    pub fn consume(&self, mut f: impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        loop {
            let prod = *self.ring.prod.lock().unwrap_or_else(|e| e.into_inner());
            let cons = self.ring.cons.load(Ordering::Acquire);
            if cons >= prod {
                return n;
            }
            let h = self.hdr(cons).load(Ordering::Acquire);
            if h & BUSY != 0 {
                return n;
            }
            let len = (h & !(BUSY | DISCARD)) as u64;
            if h & DISCARD == 0 {
                let a = self.mem.base() + cons % self.ring.size + HDR;
                // SAFETY: a submitted record inside the (doubled) data area; the producer no
                // longer writes it.
                f(unsafe { std::slice::from_raw_parts(a as *const u8, len.min(self.ring.size) as usize) });
                n += 1;
            }
            self.ring.cons.store(cons + HDR + len.div_ceil(8) * 8, Ordering::Release);
        }
    }

    /// Records lost because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.ring.dropped.load(Ordering::Relaxed)
    }
}
