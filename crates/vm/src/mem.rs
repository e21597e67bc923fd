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

/// The regions of one run: the stack first, then the host's.
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) stack: Region,
    pub(crate) regions: Vec<Region>,
}

impl Memory {
    #[inline(always)]
    pub(crate) fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        self.stack.contains(addr, len, write) || self.regions.iter().any(|r| r.contains(addr, len, write))
    }
}
