//! The memory a program may touch in checked mode.

/// A range of host memory the program may access.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Region {
    /// First address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Whether stores are allowed.
    pub writable: bool,
}

impl Region {
    /// A read-only region over `bytes`.
    pub fn readonly(bytes: &[u8]) -> Self {
        Region { start: bytes.as_ptr() as u64, len: bytes.len() as u64, writable: false }
    }

    /// A writable region over `bytes`.
    pub fn writable(bytes: &mut [u8]) -> Self {
        Region { start: bytes.as_mut_ptr() as u64, len: bytes.len() as u64, writable: true }
    }

    #[inline(always)]
    fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        // `addr - start` wraps for addresses below the region, making the comparison fail.
        let rel = addr.wrapping_sub(self.start);
        rel < self.len && len <= self.len - rel && (self.writable || !write)
    }
}

/// Memory a host hands out while a program runs: objects that come and go (kernel objects
/// reached through pointers, map elements, ring buffer records), too many or too short-lived to
/// list as [`Region`]s when the run starts.
///
/// The interpreter asks it about an access only when the access is outside the stack and the
/// run's regions. An implementation must answer `true` only for memory that stays valid (not
/// freed, not unmapped) until the run ends: an epoch or RCU scheme that defers reclaiming
/// objects released during a run gives that.
pub trait DynamicMemory {
    /// Whether the program may read (or, with `write`, write) `len` bytes at `addr`.
    fn contains(&self, addr: u64, len: u64, write: bool) -> bool;
}

/// What a run may access besides its stack, and what a faulting load does.
#[derive(Clone, Copy)]
pub struct RunMemory<'a> {
    /// Regions known when the run starts.
    pub regions: &'a [Region],
    /// Memory the host resolves on demand ([`DynamicMemory`]).
    pub dynamic: Option<&'a dyn DynamicMemory>,
    /// Loads outside the program's memory read 0 instead of ending a checked run, as the
    /// kernel's `BPF_PROBE_MEM` loads do (their fault handler zeroes the destination). Stores
    /// still fault. For a program the kernel's verifier accepts, every load that can fault is
    /// such a load (a load through a BTF pointer), so a checked run with this set behaves as the
    /// kernel does.
    pub probe_loads: bool,
}

impl<'a> RunMemory<'a> {
    /// Only `regions`: loads and stores outside them fault.
    pub fn regions(regions: &'a [Region]) -> Self {
        RunMemory { regions, dynamic: None, probe_loads: false }
    }
}

impl core::fmt::Debug for RunMemory<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RunMemory")
            .field("regions", &self.regions)
            .field("dynamic", &self.dynamic.is_some())
            .field("probe_loads", &self.probe_loads)
            .finish()
    }
}

/// The regions of one run: the stack first, then the host's.
pub(crate) struct Memory<'a> {
    pub(crate) stack: Region,
    pub(crate) regions: Vec<Region>,
    pub(crate) dynamic: Option<&'a dyn DynamicMemory>,
    pub(crate) probe_loads: bool,
}

impl core::fmt::Debug for Memory<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Memory").field("stack", &self.stack).field("regions", &self.regions).finish()
    }
}

impl<'a> Memory<'a> {
    pub(crate) fn new(stack: Region, mem: &RunMemory<'a>) -> Self {
        Memory { stack, regions: mem.regions.to_vec(), dynamic: mem.dynamic, probe_loads: mem.probe_loads }
    }

    #[inline(always)]
    pub(crate) fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        self.stack.contains(addr, len, write)
            || self.regions.iter().any(|r| r.contains(addr, len, write))
            || self.dynamic_contains(addr, len, write)
    }

    #[cold]
    #[inline(never)]
    fn dynamic_contains(&self, addr: u64, len: u64, write: bool) -> bool {
        self.dynamic.is_some_and(|d| d.contains(addr, len, write))
    }
}
