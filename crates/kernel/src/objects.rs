//! Where host objects live: typed caches of fixed-size slots (the kernel's `kmem_cache`), with a
//! reference count and a state per slot, and reclaim deferred past every program run that could
//! still see an object (RCU, through `crossbeam-epoch`).
//!
//! A cache is one zeroed allocation made when the kernel model starts; objects never move and
//! the memory is never returned while the model lives, so an address that once held an object
//! stays mapped. What an address may be used for is decided per slot:
//!
//! - **live** slots (allocated, not yet reclaimed) are readable by programs (and writable for
//!   the caches of program-owned objects, `bpf_obj_new`'s);
//! - a slot whose last reference is dropped is reclaimed only after the RCU grace period: every
//!   program run pinned at that moment has ended. Reclaiming zeroes it and puts it back on the
//!   free list, so a stale address reads 0, as a faulting `BPF_PROBE_MEM` load does.
//!
//! Reference counts use the kernel's `refcount_inc_not_zero` discipline, with one more bit
//! ([`DYING`]) for objects that still exist but can no longer be acquired (an exited task, a
//! removed cgroup: `cgroup_tryget` fails once the css is killed).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A reference-count bit: the object may not be acquired any more.
pub(crate) const DYING: u32 = 1 << 31;

/// What dropping a reference did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Put {
    /// Others remain.
    Alive,
    /// It was the last one.
    Last,
    /// There was none to drop.
    NotHeld,
}

/// Slot states.
const FREE: u8 = 0;
const LIVE: u8 = 1;
/// The last reference was dropped; reclaim waits for the grace period.
const DEAD: u8 = 2;

#[derive(Debug, Default)]
struct SlotMeta {
    /// References, and [`DYING`].
    refs: AtomicU32,
    state: AtomicU8,
    /// Bytes of the object (programs may access `[0, len)` of the slot).
    len: AtomicU32,
}

/// A cache of objects of one kind.
#[derive(Debug)]
pub struct ObjCache {
    /// The kernel's name of the type (`task_struct`), for messages.
    pub(crate) name: &'static str,
    base: *mut u8,
    slot: usize,
    cap: usize,
    /// Whether programs may store into these objects.
    writable: bool,
    meta: Box<[SlotMeta]>,
    free: Mutex<Vec<u32>>,
    live: AtomicUsize,
}

// SAFETY: the slots are raw memory shared the way the kernel shares objects: the cache's own
// bookkeeping is atomic or under a mutex, and object contents are written before the object is
// published (a Release store of its state) or through atomics.
unsafe impl Send for ObjCache {}
// SAFETY: as above.
unsafe impl Sync for ObjCache {}

const ALIGN: usize = 64;

impl ObjCache {
    /// A cache of `cap` slots of at least `size` bytes.
    pub(crate) fn new(name: &'static str, size: usize, cap: usize, writable: bool) -> ObjCache {
        let slot = size.max(8).div_ceil(ALIGN) * ALIGN;
        let cap = cap.max(1);
        let layout = Layout::from_size_align(slot * cap, ALIGN).expect("cache layout");
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        if base.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let meta: Box<[SlotMeta]> = (0..cap).map(|_| SlotMeta::default()).collect();
        let free = (0..cap as u32).rev().collect();
        ObjCache { name, base, slot, cap, writable, meta, free: Mutex::new(free), live: AtomicUsize::new(0) }
    }

    /// Number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Allocates a zeroed object of `len` bytes with one reference; its slot and address.
    /// `None` when the cache is full or `len` does not fit a slot.
    pub(crate) fn alloc(&self, len: usize) -> Option<(usize, *mut u8)> {
        if len > self.slot {
            return None;
        }
        let idx = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()? as usize;
        let m = &self.meta[idx];
        m.len.store(len as u32, Ordering::Relaxed);
        m.refs.store(1, Ordering::Relaxed);
        m.state.store(LIVE, Ordering::Release);
        self.live.fetch_add(1, Ordering::Relaxed);
        Some((idx, self.addr(idx)))
    }

    /// The address of slot `idx`.
    pub(crate) fn addr(&self, idx: usize) -> *mut u8 {
        debug_assert!(idx < self.cap);
        // SAFETY: `idx < cap`, inside the allocation.
        unsafe { self.base.add(idx * self.slot) }
    }

    /// The slot of the object starting at `addr`, if a live object starts there.
    pub(crate) fn index_of(&self, addr: u64) -> Option<usize> {
        let rel = addr.checked_sub(self.base as u64)? as usize;
        if rel % self.slot != 0 || rel / self.slot >= self.cap {
            return None;
        }
        let idx = rel / self.slot;
        (self.meta[idx].state.load(Ordering::Acquire) == LIVE).then_some(idx)
    }

    /// Whether `len` bytes at `addr` are inside an object that is not reclaimed yet.
    pub(crate) fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        if write && !self.writable {
            return false;
        }
        let Some(rel) = addr.checked_sub(self.base as u64) else { return false };
        let idx = (rel / self.slot as u64) as usize;
        if idx >= self.cap {
            return false;
        }
        let m = &self.meta[idx];
        if m.state.load(Ordering::Acquire) == FREE {
            return false;
        }
        let within = rel % self.slot as u64;
        within.checked_add(len).is_some_and(|end| end <= m.len.load(Ordering::Relaxed) as u64)
    }

    /// The reference count of slot `idx` (without [`DYING`]).
    pub(crate) fn refs(&self, idx: usize) -> u32 {
        self.meta[idx].refs.load(Ordering::Acquire) & !DYING
    }

    /// `refcount_inc_not_zero`, refusing [`DYING`] objects.
    pub(crate) fn try_get(&self, idx: usize) -> bool {
        let r = &self.meta[idx].refs;
        let mut v = r.load(Ordering::Relaxed);
        loop {
            if v & DYING != 0 || v & !DYING == 0 {
                return false;
            }
            match r.compare_exchange_weak(v, v + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
    }

    /// A new reference to an object already referenced (`refcount_inc`).
    pub(crate) fn get(&self, idx: usize) {
        self.meta[idx].refs.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks slot `idx` [`DYING`]: no new acquisitions.
    pub(crate) fn kill(&self, idx: usize) {
        self.meta[idx].refs.fetch_or(DYING, Ordering::AcqRel);
    }

    /// Drops a reference ([`Put::Last`]: the object is now dead and must be reclaimed after the
    /// grace period, see [`ObjCache::reclaim`]). A count already at zero is left alone
    /// ([`Put::NotHeld`]: a program released a reference it did not hold).
    pub(crate) fn put(&self, idx: usize) -> Put {
        let m = &self.meta[idx];
        let mut v = m.refs.load(Ordering::Relaxed);
        loop {
            if v & !DYING == 0 {
                return Put::NotHeld;
            }
            match m.refs.compare_exchange_weak(v, v - 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => v = now,
            }
        }
        if v & !DYING == 1 {
            m.state.store(DEAD, Ordering::Release);
            Put::Last
        } else {
            Put::Alive
        }
    }

    /// Returns a dead slot to the free list, zeroed. Only after the grace period.
    pub(crate) fn reclaim(&self, idx: usize) {
        let m = &self.meta[idx];
        debug_assert_eq!(m.state.load(Ordering::Acquire), DEAD);
        // SAFETY: the slot is inside the allocation; no program run can hold its address any
        // more (the grace period has passed) and the host dropped its last reference.
        unsafe { std::ptr::write_bytes(self.addr(idx), 0, self.slot) };
        m.refs.store(0, Ordering::Relaxed);
        m.len.store(0, Ordering::Relaxed);
        m.state.store(FREE, Ordering::Release);
        self.live.fetch_sub(1, Ordering::Relaxed);
        self.free.lock().unwrap_or_else(|e| e.into_inner()).push(idx as u32);
    }

    /// Slots allocated and not reclaimed.
    pub(crate) fn live_count(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Every slot holding a referenced object, with its reference count.
    pub(crate) fn referenced(&self) -> Vec<(usize, u32)> {
        (0..self.cap)
            .filter(|&i| self.meta[i].state.load(Ordering::Acquire) == LIVE)
            .map(|i| (i, self.refs(i)))
            .collect()
    }
}

impl Drop for ObjCache {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.slot * self.cap, ALIGN).expect("cache layout");
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.base, layout) };
    }
}
