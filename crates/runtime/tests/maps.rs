//! Maps from the host side: the kernel's update flags and errors, per-CPU values, LRU eviction,
//! the ring buffer's producer and consumer, kptr fields released through the destructor, spin
//! locks, queue and stack maps, the elements bpf_for_each_map_elem walks.

use kfvm_runtime::maps::{map_type, DtorFn, KptrSlot, Map, MapSpec, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};
use std::sync::{Arc, Mutex};

fn spec(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapSpec {
    MapSpec {
        name: "m".into(),
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags: 0,
        kptrs: Vec::new(),
        spin_lock: None,
        data: None,
        vars: Vec::new(),
    }
}

fn no_dtor() -> Arc<DtorFn> {
    Arc::new(|_, _| panic!("no kptr here"))
}

fn k(i: u32) -> [u8; 4] {
    i.to_ne_bytes()
}

fn read_u64(addr: u64) -> u64 {
    // SAFETY: the tests read values the map just handed out.
    unsafe { *(addr as *const u64) }
}

#[test]
fn array() {
    let m = Map::new(spec(map_type::ARRAY, 4, 8, 4), 2, no_dtor()).unwrap();
    assert_eq!(m.update(&k(1), &7u64.to_ne_bytes(), 0, 0, false), 0);
    assert_eq!(read_u64(m.lookup(&k(1), 0)), 7);
    assert_eq!(m.lookup(&k(4), 0), 0);
    assert_eq!(m.update(&k(4), &[0; 8], 0, 0, false), -7, "E2BIG");
    assert_eq!(m.update(&k(1), &[0; 8], BPF_NOEXIST, 0, false), -17, "EEXIST");
    assert_eq!(m.delete(&k(1)), -22, "arrays cannot delete: EINVAL");
    assert_eq!(m.update(&k(1), &[0; 8], 8, 0, false), -22, "unknown flag");
    assert_eq!(m.keys().len(), 4);
}

#[test]
fn hash() {
    let m = Map::new(spec(map_type::HASH, 4, 8, 2), 2, no_dtor()).unwrap();
    assert_eq!(m.update(&k(9), &1u64.to_ne_bytes(), BPF_EXIST, 0, false), -2, "ENOENT");
    assert_eq!(m.update(&k(9), &1u64.to_ne_bytes(), BPF_NOEXIST, 0, false), 0);
    assert_eq!(m.update(&k(8), &2u64.to_ne_bytes(), 0, 0, false), 0);
    assert_eq!(m.update(&k(7), &3u64.to_ne_bytes(), 0, 0, false), -7, "full: E2BIG");
    assert_eq!(m.delete(&k(9)), 0);
    assert_eq!(m.delete(&k(9)), -2);
    assert_eq!(m.update(&k(7), &3u64.to_ne_bytes(), 0, 0, false), 0, "the slot is reused");
    assert_eq!(m.get(&k(7)).unwrap(), 3u64.to_ne_bytes());
    assert_eq!(m.keys(), vec![k(7).to_vec(), k(8).to_vec()]);
}

#[test]
fn percpu_values() {
    let m = Map::new(spec(map_type::PERCPU_ARRAY, 4, 4, 1), 3, no_dtor()).unwrap();
    assert_eq!(m.update(&k(0), &5u32.to_ne_bytes(), 0, 2, false), 0);
    assert_eq!(read_u64(m.lookup(&k(0), 2)) as u32, 5);
    assert_eq!(read_u64(m.lookup(&k(0), 0)) as u32, 0);
    assert_eq!(m.lookup_percpu(&k(0), 3), 0, "no CPU 3");
    // The host sees every CPU's copy, each rounded up to 8 bytes.
    assert_eq!(
        m.get(&k(0)).unwrap(),
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]
    );
    let h = Map::new(spec(map_type::PERCPU_HASH, 4, 8, 4), 2, no_dtor()).unwrap();
    let both = [1u64.to_ne_bytes(), 2u64.to_ne_bytes()].concat();
    assert_eq!(h.update(&k(3), &both, 0, 0, true), 0);
    assert_eq!(read_u64(h.lookup(&k(3), 1)), 2);
}

#[test]
fn lru_evicts_the_least_recently_used() {
    let m = Map::new(spec(map_type::LRU_HASH, 4, 8, 2), 1, no_dtor()).unwrap();
    m.update(&k(1), &[1; 8], 0, 0, false);
    m.update(&k(2), &[2; 8], 0, 0, false);
    assert_ne!(m.lookup(&k(1), 0), 0); // 1 is now more recent than 2
    assert_eq!(m.update(&k(3), &[3; 8], 0, 0, false), 0);
    assert!(m.get(&k(2)).is_none(), "2 was evicted");
    assert!(m.get(&k(1)).is_some() && m.get(&k(3)).is_some());
}

#[test]
fn ring_buffer_producer_and_consumer() {
    let m = Map::new(spec(map_type::RINGBUF, 0, 0, 4096), 1, no_dtor()).unwrap();
    let rb = m.ringbuf().unwrap();
    assert_eq!(rb.output(b"hello"), 0);
    let p = rb.reserve(3);
    assert_ne!(p, 0);
    // SAFETY: a fresh reservation of 3 bytes.
    unsafe { std::ptr::copy_nonoverlapping(b"abc".as_ptr(), p as *mut u8, 3) };
    let q = rb.reserve(4);
    assert!(rb.commit(q, true), "discarded");
    let mut got = Vec::new();
    assert_eq!(rb.consume(|r| got.push(r.to_vec())), 1, "stops at the busy record");
    assert!(rb.commit(p, false));
    assert!(!rb.commit(p, false), "committed twice");
    rb.consume(|r| got.push(r.to_vec()));
    assert_eq!(got, vec![b"hello".to_vec(), b"abc".to_vec()]);
    assert_eq!(rb.query(1), 4096);
    // Fill it: records wrap around and stay contiguous.
    let mut n = 0;
    for i in 0..1000u32 {
        if rb.output(&[i as u8; 100]) != 0 {
            break;
        }
        n += 1;
    }
    assert!(n > 30 && rb.dropped() >= 1);
    let mut seen = 0;
    rb.consume(|r| {
        assert_eq!(r, &[seen as u8; 100]);
        seen += 1;
    });
    assert_eq!(seen, n);
    for i in 0..60u32 {
        assert_eq!(rb.output(&[i as u8; 100]), 0, "room again");
        rb.consume(|r| assert_eq!(r, &[i as u8; 100]));
    }
    assert!(Map::new(spec(map_type::RINGBUF, 0, 0, 5000), 1, no_dtor()).is_err());
}

#[test]
fn kptrs_are_released_on_overwrite_delete_and_free() {
    let released = Arc::new(Mutex::new(Vec::new()));
    let r = released.clone();
    let dtor: Arc<DtorFn> = Arc::new(move |id, obj| r.lock().unwrap().push((id, obj)));
    let mut s = spec(map_type::HASH, 4, 16, 4);
    s.kptrs = vec![KptrSlot { off: 8, dtor: Some(77) }];
    let m = Map::new(s, 1, dtor).unwrap();
    let set = |key: u32, obj: u64| {
        m.update(&k(key), &[0; 16], BPF_NOEXIST, 0, false);
        // SAFETY: the kptr field of the value just made.
        unsafe { *((m.lookup(&k(key), 0) + 8) as *mut u64) = obj };
    };
    set(1, 0x1000);
    set(2, 0x2000);
    set(3, 0x3000);
    // An update copies everything but the kptr, then releases the old one.
    assert_eq!(m.update(&k(1), &[0xff; 16], 0, 0, false), 0);
    assert_eq!(read_u64(m.lookup(&k(1), 0)), u64::MAX);
    assert_eq!(read_u64(m.lookup(&k(1), 0) + 8), 0);
    assert_eq!(m.delete(&k(2)), 0);
    assert_eq!(*released.lock().unwrap(), vec![(77, 0x1000), (77, 0x2000)]);
    drop(m);
    assert_eq!(released.lock().unwrap().last(), Some(&(77, 0x3000)));
}

#[test]
fn spin_locks_and_bpf_f_lock() {
    let mut s = spec(map_type::ARRAY, 4, 16, 1);
    s.spin_lock = Some(0);
    let m = Arc::new(Map::new(s, 1, no_dtor()).unwrap());
    let v = m.lookup(&k(0), 0);
    let lock = m.spin_lock_at(v).unwrap();
    assert!(m.spin_lock_at(v + 8).is_none());
    std::thread::scope(|sc| {
        for _ in 0..4 {
            let m = m.clone();
            sc.spawn(move || {
                for _ in 0..1000 {
                    lock.lock();
                    // SAFETY: the value's counter, under its lock.
                    unsafe { *((v + 8) as *mut u64) += 1 };
                    lock.unlock();
                    let _ = &m;
                }
            });
        }
    });
    assert_eq!(read_u64(v + 8), 4000);
    assert_eq!(m.update(&k(0), &[7; 16], BPF_F_LOCK, 0, false), 0);
    assert_eq!(read_u64(v + 8), 0x0707_0707_0707_0707);
    // SAFETY: the lock word is not copied.
    assert_eq!(unsafe { *(v as *const u32) }, 0);
}

#[test]
fn queue_and_stack() {
    let q = Map::new(spec(map_type::QUEUE, 0, 8, 2), 2, no_dtor()).unwrap();
    let mut out = [0xffu8; 8];
    assert_eq!(q.pop(&mut out, true), -2, "empty: ENOENT");
    assert_eq!(out, [0; 8], "an empty pop zeroes the value");
    assert_eq!(q.update(&[], &1u64.to_ne_bytes(), 0, 0, false), 0, "the host's update pushes");
    assert_eq!(q.push(&2u64.to_ne_bytes(), 0), 0);
    assert_eq!(q.push(&3u64.to_ne_bytes(), 0), -7, "full: E2BIG");
    assert_eq!(q.push(&3u64.to_ne_bytes(), BPF_NOEXIST), -22);
    assert_eq!(q.push(&3u64.to_ne_bytes(), BPF_EXIST), 0, "drops the oldest");
    assert_eq!(q.queue_elems(), vec![2u64.to_ne_bytes().to_vec(), 3u64.to_ne_bytes().to_vec()]);
    assert_eq!(q.pop(&mut out, false), 0);
    assert_eq!(u64::from_ne_bytes(out), 2, "peek: the oldest");
    assert_eq!(q.pop(&mut out, true), 0);
    assert_eq!(u64::from_ne_bytes(out), 2);
    assert_eq!(q.delete(&[]), -22);
    assert!(q.keys().is_empty() && q.elems(0).is_none());

    let s = Map::new(spec(map_type::STACK, 0, 8, 4), 1, no_dtor()).unwrap();
    for v in 1u64..=3 {
        assert_eq!(s.push(&v.to_ne_bytes(), 0), 0);
    }
    assert_eq!(s.pop(&mut out, false), 0);
    assert_eq!(u64::from_ne_bytes(out), 3, "peek: the newest");
    assert_eq!(s.pop(&mut out, true), 0);
    assert_eq!(u64::from_ne_bytes(out), 3);
    assert_eq!(s.pop(&mut out, true), 0);
    assert_eq!(u64::from_ne_bytes(out), 2);

    assert!(Map::new(spec(map_type::QUEUE, 4, 8, 2), 1, no_dtor()).is_err(), "queues have no keys");
}

#[test]
fn elems_for_each_map_elem() {
    let a = Map::new(spec(map_type::ARRAY, 4, 8, 3), 1, no_dtor()).unwrap();
    assert_eq!(a.update(&k(2), &5u64.to_ne_bytes(), 0, 0, false), 0);
    let e = a.elems(0).unwrap();
    assert_eq!(e.len(), 3);
    for (i, &(key, value)) in e.iter().enumerate() {
        // SAFETY: the key area of the array, 4 bytes per index.
        assert_eq!(unsafe { *(key as *const u32) }, i as u32, "keys are the indices");
        assert_eq!(value, a.lookup(&k(i as u32), 0));
    }
    assert_eq!(read_u64(e[2].1), 5);
    assert!(!a.is_kptr_field(e[0].0), "the key area holds no values");

    let h = Map::new(spec(map_type::HASH, 4, 8, 4), 1, no_dtor()).unwrap();
    assert_eq!(h.update(&k(7), &70u64.to_ne_bytes(), 0, 0, false), 0);
    assert_eq!(h.update(&k(9), &90u64.to_ne_bytes(), 0, 0, false), 0);
    let mut seen: Vec<(u32, u64)> = h
        .elems(0)
        .unwrap()
        .into_iter()
        // SAFETY: keys of live elements.
        .map(|(key, value)| (unsafe { *(key as *const u32) }, read_u64(value)))
        .collect();
    seen.sort();
    assert_eq!(seen, vec![(7, 70), (9, 90)]);
}
