//! BPF helpers, by the kernel's numbers (prototypes: `kfvm_verifier::helpers`).
//!
//! Every helper checks the memory it is given against the run's memory
//! ([`CallCtx::can_access`]): a program the verifier did not check may pass anything, and a bad
//! pointer ends the run (or, where the kernel's helper would fault softly, returns `-EFAULT`).

use crate::maps::Map;
use crate::printk;
use crate::runtime::{RunExt, MAP_ADDR_BASE, MAP_ADDR_STRIDE};
use kfvm_kernel::kfuncs::dynptr::{
    self, DynptrKern, DYNPTR_MAX_SIZE, DYNPTR_TYPE_LOCAL, DYNPTR_TYPE_RINGBUF,
};
use kfvm_kernel::types::TaskStruct;
use kfvm_kernel::RunCtx;
use kfvm_vm::{CallCtx, HostFn, HostFns};
use std::sync::atomic::{AtomicU64, Ordering};

const EFAULT: i64 = 14;
const EINVAL: i64 = 22;
const E2BIG: i64 = 7;
const EAGAIN: i64 = 11;

fn neg(e: i64) -> u64 {
    e as u64
}

/// The run's kernel and runtime state, or the helper ends the run.
macro_rules! run {
    ($ctx:ident, $name:literal) => {{
        match RunCtx::of($ctx) {
            Some(rc) if !rc.ext.is_null() => {
                // SAFETY: runs of the runtime put their `RunExt` behind `RunCtx::ext` and keep it
                // alive for the whole run.
                let ext: &RunExt<'_> = unsafe { &*(rc.ext as *const RunExt<'_>) };
                (rc, ext)
            }
            _ => {
                $ctx.fail(concat!("helper ", $name, ": this run has no kfvm runtime"));
                return 0;
            }
        }
    }};
}

fn fail(ctx: &mut CallCtx, name: &str, what: String) -> u64 {
    ctx.fail(format!("helper {name}: {what}"));
    0
}

fn map_of<'a>(ext: &RunExt<'a>, handle: u64) -> Option<&'a Map> {
    let rel = handle.checked_sub(MAP_ADDR_BASE)?;
    if rel % MAP_ADDR_STRIDE != 0 {
        return None;
    }
    ext.maps.get((rel / MAP_ADDR_STRIDE) as usize).map(|m| &**m)
}

fn bytes<'a>(ctx: &CallCtx, addr: u64, len: u64) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if !ctx.can_access(addr, len, false) {
        return None;
    }
    // SAFETY: `len` readable bytes of the run's memory, valid for the run.
    Some(unsafe { std::slice::from_raw_parts(addr as *const u8, len as usize) })
}

macro_rules! map_arg {
    ($ctx:ident, $ext:ident, $name:literal, $h:expr) => {
        match map_of($ext, $h) {
            Some(m) => m,
            None => return fail($ctx, $name, format!("{:#x} is not a map", $h)),
        }
    };
}

macro_rules! mem_arg {
    ($ctx:ident, $name:literal, $a:expr, $n:expr) => {
        match bytes($ctx, $a, $n) {
            Some(b) => b,
            None => {
                return fail(
                    $ctx,
                    $name,
                    format!("{} bytes at {:#x} are not memory the program may read", $n, $a),
                )
            }
        }
    };
}

extern "C" fn map_lookup_elem(ctx: &mut CallCtx, map: u64, key: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, ext) = run!(ctx, "bpf_map_lookup_elem");
    let m = map_arg!(ctx, ext, "bpf_map_lookup_elem", map);
    let k = mem_arg!(ctx, "bpf_map_lookup_elem", key, m.spec().key_size as u64);
    m.lookup(k, rc.cpu)
}

extern "C" fn map_update_elem(ctx: &mut CallCtx, map: u64, key: u64, value: u64, flags: u64, _: u64) -> u64 {
    let (rc, ext) = run!(ctx, "bpf_map_update_elem");
    let m = map_arg!(ctx, ext, "bpf_map_update_elem", map);
    let k = mem_arg!(ctx, "bpf_map_update_elem", key, m.spec().key_size as u64);
    let v = mem_arg!(ctx, "bpf_map_update_elem", value, m.spec().value_size as u64);
    neg(m.update(k, v, flags, rc.cpu, false))
}

extern "C" fn map_delete_elem(ctx: &mut CallCtx, map: u64, key: u64, _: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_map_delete_elem");
    let m = map_arg!(ctx, ext, "bpf_map_delete_elem", map);
    let k = mem_arg!(ctx, "bpf_map_delete_elem", key, m.spec().key_size as u64);
    neg(m.delete(k))
}

extern "C" fn map_lookup_percpu_elem(ctx: &mut CallCtx, map: u64, key: u64, cpu: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_map_lookup_percpu_elem");
    let m = map_arg!(ctx, ext, "bpf_map_lookup_percpu_elem", map);
    let k = mem_arg!(ctx, "bpf_map_lookup_percpu_elem", key, m.spec().key_size as u64);
    m.lookup_percpu(k, cpu as u32)
}

extern "C" fn map_push_elem(ctx: &mut CallCtx, map: u64, value: u64, flags: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_map_push_elem");
    let m = map_arg!(ctx, ext, "bpf_map_push_elem", map);
    let v = mem_arg!(ctx, "bpf_map_push_elem", value, m.spec().value_size as u64);
    neg(m.push(v, flags))
}

/// `bpf_map_pop_elem` (`delete`) and `bpf_map_peek_elem`: the value goes to `value`.
fn map_pop(ctx: &mut CallCtx, name: &str, map: u64, value: u64, delete: bool) -> u64 {
    let (_, ext) = run!(ctx, "bpf_map_pop_elem");
    let Some(m) = map_of(ext, map) else { return fail(ctx, name, format!("{map:#x} is not a map")) };
    let size = m.spec().value_size as u64;
    if !ctx.can_access(value, size, true) {
        return fail(ctx, name, format!("{size} bytes at {value:#x} are not writable"));
    }
    // SAFETY: `size` writable bytes of the run's memory (checked above).
    let out = unsafe { std::slice::from_raw_parts_mut(value as *mut u8, size as usize) };
    neg(m.pop(out, delete))
}

extern "C" fn map_pop_elem(ctx: &mut CallCtx, map: u64, value: u64, _: u64, _: u64, _: u64) -> u64 {
    map_pop(ctx, "bpf_map_pop_elem", map, value, true)
}

extern "C" fn map_peek_elem(ctx: &mut CallCtx, map: u64, value: u64, _: u64, _: u64, _: u64) -> u64 {
    map_pop(ctx, "bpf_map_peek_elem", map, value, false)
}

/// A probe read: `size` bytes from `src` if the run may read them, else the destination is
/// zeroed and `-EFAULT` returned (`bpf_probe_read_kernel`). User memory: the model has none.
fn probe_read(ctx: &mut CallCtx, name: &str, dst: u64, size: u64, src: u64, user: bool, str: bool) -> u64 {
    if size == 0 {
        return 0;
    }
    if !ctx.can_access(dst, size, true) {
        return fail(ctx, name, format!("{size} bytes at {dst:#x} are not memory the program may write"));
    }
    // SAFETY: `size` writable bytes of the run's memory (checked above).
    let out = unsafe { std::slice::from_raw_parts_mut(dst as *mut u8, size as usize) };
    if user {
        out.fill(0);
        return neg(-EFAULT);
    }
    if !str {
        return match bytes(ctx, src, size) {
            Some(b) => {
                let b = b.to_vec();
                out.copy_from_slice(&b);
                0
            }
            None => {
                out.fill(0);
                neg(-EFAULT)
            }
        };
    }
    let mut n = 0usize;
    while n + 1 < size as usize {
        match bytes(ctx, src + n as u64, 1) {
            Some(&[0]) => break,
            Some(&[b]) => {
                out[n] = b;
                n += 1;
            }
            _ => {
                out[0] = 0;
                return neg(-EFAULT);
            }
        }
    }
    out[n] = 0;
    (n + 1) as u64
}

extern "C" fn probe_read_kernel(ctx: &mut CallCtx, dst: u64, size: u64, src: u64, _: u64, _: u64) -> u64 {
    probe_read(ctx, "bpf_probe_read_kernel", dst, size as u32 as u64, src, false, false)
}
extern "C" fn probe_read_kernel_str(ctx: &mut CallCtx, dst: u64, size: u64, src: u64, _: u64, _: u64) -> u64 {
    probe_read(ctx, "bpf_probe_read_kernel_str", dst, size as u32 as u64, src, false, true)
}
extern "C" fn probe_read_user(ctx: &mut CallCtx, dst: u64, size: u64, src: u64, _: u64, _: u64) -> u64 {
    probe_read(ctx, "bpf_probe_read_user", dst, size as u32 as u64, src, true, false)
}
extern "C" fn probe_read_user_str(ctx: &mut CallCtx, dst: u64, size: u64, src: u64, _: u64, _: u64) -> u64 {
    probe_read(ctx, "bpf_probe_read_user_str", dst, size as u32 as u64, src, true, true)
}

extern "C" fn ktime_get_ns(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_ktime_get_ns");
    ext.shared.ktime_ns()
}

extern "C" fn trace_printk(ctx: &mut CallCtx, fmt: u64, size: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    let (rc, ext) = run!(ctx, "bpf_trace_printk");
    match printk::format(ctx, fmt, size as u32 as u64, &[a1, a2, a3], printk::MAX_TRACE_PRINTK_VARARGS) {
        Ok(s) => {
            let n = s.len() as u64;
            ext.shared.printk(rc, &s);
            n
        }
        Err(e) => neg(e),
    }
}

extern "C" fn trace_vprintk(ctx: &mut CallCtx, fmt: u64, size: u64, data: u64, data_len: u64, _: u64) -> u64 {
    let (rc, ext) = run!(ctx, "bpf_trace_vprintk");
    let data_len = data_len as u32 as u64;
    if data_len % 8 != 0 || data_len > 8 * printk::MAX_BPRINTF_VARARGS as u64 || (data_len > 0 && data == 0) {
        return neg(-EINVAL);
    }
    let d = mem_arg!(ctx, "bpf_trace_vprintk", data, data_len);
    let args: Vec<u64> = d.chunks(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]))).collect();
    match printk::format(ctx, fmt, size as u32 as u64, &args, printk::MAX_BPRINTF_VARARGS) {
        Ok(s) => {
            let n = s.len() as u64;
            ext.shared.printk(rc, &s);
            n
        }
        Err(e) => neg(e),
    }
}

extern "C" fn get_prandom_u32(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_get_prandom_u32");
    ext.shared.prandom() as u64
}

extern "C" fn get_smp_processor_id(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, _) = run!(ctx, "bpf_get_smp_processor_id");
    rc.cpu as u64
}

fn current(rc: &RunCtx) -> &TaskStruct {
    // SAFETY: the run's current task is referenced by the runtime for the run (or is the idle
    // task, which lives as long as the kernel).
    unsafe { &*rc.current }
}

extern "C" fn get_current_pid_tgid(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, _) = run!(ctx, "bpf_get_current_pid_tgid");
    let t = current(rc);
    ((t.tgid as u32 as u64) << 32) | t.pid as u32 as u64
}

extern "C" fn get_current_uid_gid(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, _) = run!(ctx, "bpf_get_current_uid_gid");
    let t = current(rc);
    if t.cred.is_null() {
        return neg(-EINVAL);
    }
    // SAFETY: the task's credentials are pinned by it.
    let c = unsafe { &*t.cred };
    ((c.gid.0.val.0 .0 as u64) << 32) | c.uid.0.val.0 .0 as u64
}

extern "C" fn get_current_comm(ctx: &mut CallCtx, buf: u64, size: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, _) = run!(ctx, "bpf_get_current_comm");
    let size = size as u32 as u64;
    if size == 0 {
        return neg(-EINVAL);
    }
    if !ctx.can_access(buf, size, true) {
        return fail(ctx, "bpf_get_current_comm", format!("{size} bytes at {buf:#x} are not writable"));
    }
    let comm: Vec<u8> = current(rc).comm.iter().map(|&c| c as u8).collect();
    // SAFETY: `size` writable bytes (checked above).
    let out = unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, size as usize) };
    out.fill(0);
    let n = comm.iter().position(|&c| c == 0).unwrap_or(comm.len()).min(size as usize - 1);
    out[..n].copy_from_slice(&comm[..n]);
    0
}

extern "C" fn get_current_task(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, _) = run!(ctx, "bpf_get_current_task");
    rc.current as u64
}

extern "C" fn get_current_cgroup_id(ctx: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, _) = run!(ctx, "bpf_get_current_cgroup_id");
    let t = current(rc);
    if t.cgroups.is_null() {
        return 0;
    }
    // SAFETY: the task pins its css_set, which pins its cgroup and kernfs node.
    unsafe { (*(*(*t.cgroups).dfl_cgrp).kn).id }
}

extern "C" fn spin_lock(ctx: &mut CallCtx, lock: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_spin_lock");
    match ext.maps.iter().find_map(|m| m.spin_lock_at(lock)) {
        Some(l) => {
            l.lock();
            0
        }
        None => fail(ctx, "bpf_spin_lock", format!("{lock:#x} is not a bpf_spin_lock of a map value")),
    }
}

extern "C" fn spin_unlock(ctx: &mut CallCtx, lock: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_spin_unlock");
    match ext.maps.iter().find_map(|m| m.spin_lock_at(lock)) {
        Some(l) => {
            l.unlock();
            0
        }
        None => fail(ctx, "bpf_spin_unlock", format!("{lock:#x} is not a bpf_spin_lock of a map value")),
    }
}

fn ring<'a>(ext: &RunExt<'a>, handle: u64) -> Option<crate::maps::RingBuf<'a>> {
    map_of(ext, handle)?.ringbuf()
}

extern "C" fn ringbuf_output(ctx: &mut CallCtx, rb: u64, data: u64, size: u64, _flags: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_ringbuf_output");
    let Some(r) = ring(ext, rb) else {
        return fail(ctx, "bpf_ringbuf_output", format!("{rb:#x} is not a ring buffer"));
    };
    let d = mem_arg!(ctx, "bpf_ringbuf_output", data, size);
    neg(r.output(d))
}

extern "C" fn ringbuf_reserve(ctx: &mut CallCtx, rb: u64, size: u64, flags: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_ringbuf_reserve");
    let Some(r) = ring(ext, rb) else {
        return fail(ctx, "bpf_ringbuf_reserve", format!("{rb:#x} is not a ring buffer"));
    };
    if flags != 0 {
        return 0;
    }
    r.reserve(size)
}

fn ring_commit(ctx: &mut CallCtx, name: &str, data: u64, discard: bool) -> u64 {
    let Some((_, ext)) = RunCtx::of(ctx).filter(|rc| !rc.ext.is_null()).map(|rc| {
        // SAFETY: as in `run!`.
        (rc, unsafe { &*(rc.ext as *const RunExt<'_>) })
    }) else {
        return fail(ctx, name, "this run has no kfvm runtime".into());
    };
    if ext.maps.iter().filter_map(|m| m.ringbuf()).any(|r| r.commit(data, discard)) {
        0
    } else {
        fail(ctx, name, format!("{data:#x} is not a reserved ring buffer record"))
    }
}

extern "C" fn ringbuf_submit(ctx: &mut CallCtx, data: u64, _flags: u64, _: u64, _: u64, _: u64) -> u64 {
    ring_commit(ctx, "bpf_ringbuf_submit", data, false)
}

extern "C" fn ringbuf_discard(ctx: &mut CallCtx, data: u64, _flags: u64, _: u64, _: u64, _: u64) -> u64 {
    ring_commit(ctx, "bpf_ringbuf_discard", data, true)
}

extern "C" fn ringbuf_query(ctx: &mut CallCtx, rb: u64, flags: u64, _: u64, _: u64, _: u64) -> u64 {
    let (_, ext) = run!(ctx, "bpf_ringbuf_query");
    match ring(ext, rb) {
        Some(r) => r.query(flags),
        None => fail(ctx, "bpf_ringbuf_query", format!("{rb:#x} is not a ring buffer")),
    }
}

extern "C" fn ringbuf_reserve_dynptr(
    ctx: &mut CallCtx,
    rb: u64,
    size: u64,
    flags: u64,
    ptr: u64,
    _: u64,
) -> u64 {
    let (_, ext) = run!(ctx, "bpf_ringbuf_reserve_dynptr");
    let Some(r) = ring(ext, rb) else {
        return fail(ctx, "bpf_ringbuf_reserve_dynptr", format!("{rb:#x} is not a ring buffer"));
    };
    let size = size as u32;
    let (d, ret) = if flags != 0 {
        (DynptrKern::default(), -EINVAL)
    } else if size > DYNPTR_MAX_SIZE {
        (DynptrKern::default(), -E2BIG)
    } else {
        match r.reserve(size as u64) {
            0 => (DynptrKern::default(), -EAGAIN),
            p => (DynptrKern::new(p, DYNPTR_TYPE_RINGBUF, 0, size, false), 0),
        }
    };
    dynptr::store(ctx, "bpf_ringbuf_reserve_dynptr", 3, ptr, d);
    neg(ret)
}

fn ring_commit_dynptr(ctx: &mut CallCtx, name: &str, ptr: u64, discard: bool) -> u64 {
    let Some(d) = dynptr::load(ctx, name, 0, ptr, true) else { return 0 };
    if d.data == 0 {
        return 0;
    }
    let r = ring_commit(ctx, name, d.data, discard);
    dynptr::store(ctx, name, 0, ptr, DynptrKern::default());
    r
}

extern "C" fn ringbuf_submit_dynptr(ctx: &mut CallCtx, ptr: u64, _flags: u64, _: u64, _: u64, _: u64) -> u64 {
    ring_commit_dynptr(ctx, "bpf_ringbuf_submit_dynptr", ptr, false)
}

extern "C" fn ringbuf_discard_dynptr(
    ctx: &mut CallCtx,
    ptr: u64,
    _flags: u64,
    _: u64,
    _: u64,
    _: u64,
) -> u64 {
    ring_commit_dynptr(ctx, "bpf_ringbuf_discard_dynptr", ptr, true)
}

extern "C" fn dynptr_from_mem(ctx: &mut CallCtx, data: u64, size: u64, flags: u64, ptr: u64, _: u64) -> u64 {
    let size = size as u32;
    let (d, ret) = if flags != 0 {
        (DynptrKern::default(), -EINVAL)
    } else if size > DYNPTR_MAX_SIZE {
        (DynptrKern::default(), -E2BIG)
    } else if size > 0 && !ctx.can_access(data, size as u64, false) {
        return fail(
            ctx,
            "bpf_dynptr_from_mem",
            format!("{size} bytes at {data:#x} are not memory the program may read"),
        );
    } else {
        let rdonly = size > 0 && !ctx.can_access(data, size as u64, true);
        (DynptrKern::new(data, DYNPTR_TYPE_LOCAL, 0, size, rdonly), 0)
    };
    dynptr::store(ctx, "bpf_dynptr_from_mem", 3, ptr, d);
    neg(ret)
}

extern "C" fn dynptr_read(ctx: &mut CallCtx, dst: u64, len: u64, src: u64, offset: u64, flags: u64) -> u64 {
    let Some(d) = dynptr::load(ctx, "bpf_dynptr_read", 2, src, false) else { return 0 };
    let (len, offset) = (len as u32, offset as u32);
    if d.data == 0 || flags != 0 {
        return neg(-EINVAL);
    }
    if let Err(e) = d.check_off_len(offset, len) {
        return neg(e as i64);
    }
    match dynptr::copy(ctx, dst, d.addr(offset), len) {
        Ok(()) => 0,
        Err(e) => neg(e as i64),
    }
}

extern "C" fn dynptr_write(ctx: &mut CallCtx, dst: u64, offset: u64, src: u64, len: u64, flags: u64) -> u64 {
    let Some(d) = dynptr::load(ctx, "bpf_dynptr_write", 0, dst, false) else { return 0 };
    let (len, offset) = (len as u32, offset as u32);
    if d.data == 0 || d.rdonly() || flags != 0 {
        return neg(-EINVAL);
    }
    if let Err(e) = d.check_off_len(offset, len) {
        return neg(e as i64);
    }
    match dynptr::copy(ctx, d.addr(offset), src, len) {
        Ok(()) => 0,
        Err(e) => neg(e as i64),
    }
}

extern "C" fn dynptr_data(ctx: &mut CallCtx, ptr: u64, offset: u64, len: u64, _: u64, _: u64) -> u64 {
    let Some(d) = dynptr::load(ctx, "bpf_dynptr_data", 0, ptr, false) else { return 0 };
    if d.data == 0 || d.rdonly() || d.check_off_len(offset as u32, len as u32).is_err() {
        return 0;
    }
    d.addr(offset as u32)
}

extern "C" fn bpf_loop(
    ctx: &mut CallCtx,
    nr_loops: u64,
    callback: u64,
    cb_ctx: u64,
    flags: u64,
    _: u64,
) -> u64 {
    const BPF_MAX_LOOPS: u64 = 8 * 1024 * 1024;
    if flags != 0 {
        return neg(-EINVAL);
    }
    let nr = nr_loops as u32 as u64;
    if nr > BPF_MAX_LOOPS {
        return neg(-E2BIG);
    }
    for i in 0..nr {
        match ctx.call_bpf(callback, [i, cb_ctx, 0, 0, 0]) {
            // "return value: 0 - continue, 1 - stop and return"
            Ok(0) => {}
            Ok(_) => return i + 1,
            Err(_) => return 0,
        }
    }
    nr
}

extern "C" fn for_each_map_elem(
    ctx: &mut CallCtx,
    map: u64,
    callback: u64,
    cb_ctx: u64,
    flags: u64,
    _: u64,
) -> u64 {
    let (rc, ext) = run!(ctx, "bpf_for_each_map_elem");
    let m = map_arg!(ctx, ext, "bpf_for_each_map_elem", map);
    if flags != 0 {
        return neg(-EINVAL);
    }
    let Some(elems) = m.elems(rc.cpu) else {
        return fail(ctx, "bpf_for_each_map_elem", format!("map {} has no elements to walk", m.name()));
    };
    let mut n = 0;
    for (key, value) in elems {
        n += 1;
        match ctx.call_bpf(callback, [map, key, value, cb_ctx, 0]) {
            // "0 - continue to the next element, 1 - stop"
            Ok(0) => {}
            Ok(_) => break,
            Err(_) => return 0,
        }
    }
    n
}

extern "C" fn kptr_xchg(ctx: &mut CallCtx, dst: u64, new: u64, _: u64, _: u64, _: u64) -> u64 {
    let (rc, ext) = run!(ctx, "bpf_kptr_xchg");
    let in_map = ext.maps.iter().any(|m| m.is_kptr_field(dst));
    if !(in_map || dst % 8 == 0 && rc.kernel.memory().contains(dst, 8, true)) {
        return fail(ctx, "bpf_kptr_xchg", format!("{dst:#x} is not a kptr field"));
    }
    // The reference moves into the field, and the field's old one to the program.
    if new != 0 && !rc.disown(new) {
        return fail(
            ctx,
            "bpf_kptr_xchg",
            format!("the program stores {new:#x}, a reference it does not own"),
        );
    }
    // SAFETY: an aligned kptr field of a live map value (or of a program-owned object); kptr
    // fields are only ever accessed atomically.
    let old = unsafe { AtomicU64::from_ptr(dst as *mut u64) }.swap(new, Ordering::AcqRel);
    rc.own(old as *mut u8) as u64
}

extern "C" fn get_numa_node_id(_: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    0
}

/// Every helper kfvm implements: `(number, name, entry)`.
pub const HELPERS: &[(i32, &str, HostFn)] = &[
    (1, "bpf_map_lookup_elem", map_lookup_elem),
    (2, "bpf_map_update_elem", map_update_elem),
    (3, "bpf_map_delete_elem", map_delete_elem),
    (4, "bpf_probe_read", probe_read_kernel),
    (5, "bpf_ktime_get_ns", ktime_get_ns),
    (6, "bpf_trace_printk", trace_printk),
    (7, "bpf_get_prandom_u32", get_prandom_u32),
    (8, "bpf_get_smp_processor_id", get_smp_processor_id),
    (14, "bpf_get_current_pid_tgid", get_current_pid_tgid),
    (15, "bpf_get_current_uid_gid", get_current_uid_gid),
    (16, "bpf_get_current_comm", get_current_comm),
    (35, "bpf_get_current_task", get_current_task),
    (42, "bpf_get_numa_node_id", get_numa_node_id),
    (45, "bpf_probe_read_str", probe_read_kernel_str),
    (80, "bpf_get_current_cgroup_id", get_current_cgroup_id),
    (87, "bpf_map_push_elem", map_push_elem),
    (88, "bpf_map_pop_elem", map_pop_elem),
    (89, "bpf_map_peek_elem", map_peek_elem),
    (93, "bpf_spin_lock", spin_lock),
    (94, "bpf_spin_unlock", spin_unlock),
    (112, "bpf_probe_read_user", probe_read_user),
    (113, "bpf_probe_read_kernel", probe_read_kernel),
    (114, "bpf_probe_read_user_str", probe_read_user_str),
    (115, "bpf_probe_read_kernel_str", probe_read_kernel_str),
    (125, "bpf_ktime_get_boot_ns", ktime_get_ns),
    (130, "bpf_ringbuf_output", ringbuf_output),
    (131, "bpf_ringbuf_reserve", ringbuf_reserve),
    (132, "bpf_ringbuf_submit", ringbuf_submit),
    (133, "bpf_ringbuf_discard", ringbuf_discard),
    (134, "bpf_ringbuf_query", ringbuf_query),
    (158, "bpf_get_current_task_btf", get_current_task),
    (160, "bpf_ktime_get_coarse_ns", ktime_get_ns),
    (164, "bpf_for_each_map_elem", for_each_map_elem),
    (177, "bpf_trace_vprintk", trace_vprintk),
    (181, "bpf_loop", bpf_loop),
    (194, "bpf_kptr_xchg", kptr_xchg),
    (195, "bpf_map_lookup_percpu_elem", map_lookup_percpu_elem),
    (197, "bpf_dynptr_from_mem", dynptr_from_mem),
    (198, "bpf_ringbuf_reserve_dynptr", ringbuf_reserve_dynptr),
    (199, "bpf_ringbuf_submit_dynptr", ringbuf_submit_dynptr),
    (200, "bpf_ringbuf_discard_dynptr", ringbuf_discard_dynptr),
    (201, "bpf_dynptr_read", dynptr_read),
    (202, "bpf_dynptr_write", dynptr_write),
    (203, "bpf_dynptr_data", dynptr_data),
];

/// Adds the helpers to `fns`.
pub fn add_helpers(fns: &mut HostFns) {
    for &(id, _, f) in HELPERS {
        fns.helper(id, f);
    }
}
