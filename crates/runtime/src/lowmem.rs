//! Packet buffers below 4 GiB.
//!
//! `struct xdp_md` gives a program `data` and `data_end` as 32-bit fields, which the kernel's
//! verifier rewrites into 64-bit loads of `xdp_buff` pointers. kfvm runs the program's own
//! instructions, so it places packets where a 32-bit address is the whole address: in a pool
//! mapped with `MAP_32BIT`. A program then reads real pointers from `xdp_md`, as in the kernel.

use std::sync::Mutex;

/// Bytes of one packet buffer: `XDP_PACKET_HEADROOM` (256) then up to 3840 bytes of packet.
pub const SLOT: usize = 4096;
/// `XDP_PACKET_HEADROOM`.
pub const HEADROOM: usize = 256;
/// Largest packet.
pub const MAX_PACKET: usize = SLOT - HEADROOM;

/// A pool of packet buffers whose addresses fit in 32 bits.
#[derive(Debug)]
pub struct LowMem {
    base: usize,
    slots: usize,
    free: Mutex<Vec<usize>>,
}

/// One packet buffer, back to its pool when dropped.
#[derive(Debug)]
pub struct Packet<'a> {
    pool: &'a LowMem,
    slot: usize,
}

impl LowMem {
    /// Maps `slots` buffers below 4 GiB.
    pub fn new(slots: usize) -> Result<LowMem, String> {
        let len = slots * SLOT;
        #[cfg(target_arch = "x86_64")]
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT;
        #[cfg(not(target_arch = "x86_64"))]
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        let hint = 0x4000_0000usize as *mut libc::c_void;
        // SAFETY: an anonymous private mapping; no existing memory is touched.
        let p = unsafe { libc::mmap(hint, len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            return Err(format!(
                "cannot map packet buffers below 4 GiB: {}",
                std::io::Error::last_os_error()
            ));
        }
        let base = p as usize;
        if base + len > 1 << 32 {
            // SAFETY: the mapping just made.
            unsafe { libc::munmap(p, len) };
            return Err("cannot map packet buffers below 4 GiB".into());
        }
        Ok(LowMem { base, slots, free: Mutex::new((0..slots).rev().collect()) })
    }

    /// A zeroed buffer, or `None` if all are in use.
    pub fn get(&self) -> Option<Packet<'_>> {
        let slot = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
        let p = Packet { pool: self, slot };
        // SAFETY: the slot is ours until the `Packet` drops.
        unsafe { std::ptr::write_bytes(p.start() as *mut u8, 0, SLOT) };
        Some(p)
    }
}

impl Drop for LowMem {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; no `Packet` outlives the pool (they borrow it).
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.slots * SLOT) };
    }
}

impl Packet<'_> {
    /// The buffer's first byte (the headroom's).
    pub fn start(&self) -> u64 {
        (self.pool.base + self.slot * SLOT) as u64
    }

    /// Where packet data starts (after the headroom).
    pub fn data(&self) -> u64 {
        self.start() + HEADROOM as u64
    }

    /// Copies `bytes` in as the packet.
    pub fn fill(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(MAX_PACKET);
        // SAFETY: the buffer is ours; `n` fits after the headroom.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data() as *mut u8, n) };
    }

    /// `len` bytes at `addr` inside the buffer.
    pub fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let (s, e) = (self.start(), self.start() + SLOT as u64);
        if addr < s || addr + len as u64 > e {
            return Vec::new();
        }
        // SAFETY: inside the buffer, which is ours.
        unsafe { std::slice::from_raw_parts(addr as *const u8, len) }.to_vec()
    }
}

impl Drop for Packet<'_> {
    fn drop(&mut self) {
        self.pool.free.lock().unwrap_or_else(|e| e.into_inner()).push(self.slot);
    }
}
