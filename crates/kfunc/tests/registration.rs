//! Registration: the kernel's rules (`register_btf_kfunc_id_set()`, `btf_check_kfunc_protos()`,
//! `btf_check_iter_kfuncs()`, `btf_populate_kfunc_set()`, `btf_check_dtor_kfuncs()`) give clear
//! errors and never panic; lookups follow `btf_kfunc_id_set_contains()`.

use kfvm_kfunc::ctype::{prim, CType, ParamDesc};
use kfvm_kfunc::types::*;
use kfvm_kfunc::{
    btf_type_ids_nocast_alias, kfunc, kfunc_set, BpfProgType, CallCtx, DtorKfunc, FilterVerdict, HostType,
    KfFlags, KfuncDesc, KfuncFilter, KfuncHook, KfuncRegistry, KfuncSet, NestedTrust, ProgInfo, ProtoError,
    RegisterError, TypeError, BTF_KFUNC_SET_MAX_CNT,
};

extern "C" fn nop(_: &mut CallCtx, _: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    0
}

/// A descriptor built by hand (what a host without the macro, or a fuzzer, could build).
fn desc(
    name: &str,
    params: &[(&'static str, &'static CType)],
    ret: &'static CType,
    flags: KfFlags,
) -> &'static KfuncDesc {
    let params: Vec<ParamDesc> = params.iter().map(|(n, t)| ParamDesc { name: n, ty: t }).collect();
    Box::leak(Box::new(KfuncDesc {
        name: Box::leak(name.to_owned().into_boxed_str()),
        params: Box::leak(params.into_boxed_slice()),
        ret,
        flags,
        deprecation: None,
        entry: nop,
        rust_path: "hand-made",
    }))
}

#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfIterGood {
    pub __opaque: [u64; 1],
}

#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfIterOdd {
    pub x: u32,
}

#[derive(HostType, Debug)]
#[repr(C)]
pub struct NotAnIter {
    pub x: u64,
}

#[derive(HostType, Debug)]
#[repr(C)]
pub struct Thing {
    pub id: u64,
    pub peer: *mut Thing,
    pub count: c_int,
}

/// Another Rust type claiming the C name `thing`.
#[derive(HostType, Debug)]
#[btf(name = "thing")]
#[repr(C)]
pub struct ThingImpostor {
    pub other: u32,
}

#[derive(HostType, Debug)]
#[btf(name = "thing___init")]
#[repr(C)]
pub struct ThingInit {
    pub thing: Thing,
}

const GOOD: CType = CType::Ptr(&<BpfIterGood as kfvm_kfunc::BtfRepr>::CTYPE);
const ODD: CType = CType::Ptr(&<BpfIterOdd as kfvm_kfunc::BtfRepr>::CTYPE);
const NOT_ITER: CType = CType::Ptr(&<NotAnIter as kfvm_kfunc::BtfRepr>::CTYPE);
const THING: CType = <Thing as kfvm_kfunc::BtfRepr>::CTYPE;
const THING_PTR: CType = CType::Ptr(&THING);
const INT_PTR: CType = CType::Ptr(&prim::INT);
const VOID_PTR: CType = CType::Ptr(&CType::Void);

fn register_one(d: &'static KfuncDesc) -> Result<(), RegisterError> {
    let mut reg = KfuncRegistry::new();
    let before = reg.btf();
    let r = reg.register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::new("test_ids").kfunc(d));
    if r.is_err() {
        assert_eq!(reg.btf(), before, "a refused registration leaves nothing behind");
        assert!(reg.kfunc(d.name).is_none());
    }
    r
}

fn proto_problem(d: &'static KfuncDesc) -> ProtoError {
    match register_one(d) {
        Err(RegisterError::Proto { problem, .. }) => problem,
        other => panic!("{}: expected a prototype error, got {other:?}", d.name),
    }
}

#[test]
fn iterator_rules() {
    let new = KfFlags::ITER_NEW;
    let next = KfFlags::ITER_NEXT | KfFlags::RET_NULL;
    let destroy = KfFlags::ITER_DESTROY;
    // The good trio registers.
    for d in [
        desc("bpf_iter_good_new", &[("it", &GOOD), ("start", &prim::INT)], &prim::INT, new),
        desc("bpf_iter_good_next", &[("it", &GOOD)], &INT_PTR, next),
        desc("bpf_iter_good_destroy", &[("it", &GOOD)], &CType::Void, destroy),
    ] {
        register_one(d).unwrap();
    }
    let cases: Vec<(&'static KfuncDesc, ProtoError)> = vec![
        (
            desc("bpf_iter_good_new", &[("it", &GOOD)], &prim::INT, new | KfFlags::ITER_NEXT),
            ProtoError::IterFlags(new | KfFlags::ITER_NEXT),
        ),
        (desc("bpf_iter_good_new", &[], &prim::INT, new), ProtoError::IterNoArgs),
        (
            desc("bpf_iter_good_new", &[("it", &prim::U64)], &prim::INT, new),
            ProtoError::IterArgNotStructPtr("u64".into()),
        ),
        (
            desc("bpf_iter_good_new", &[("it", &NOT_ITER)], &prim::INT, new),
            ProtoError::IterStructName("not_an_iter".into()),
        ),
        (
            desc("bpf_iter_odd_new", &[("it", &ODD)], &prim::INT, new),
            ProtoError::IterSize { name: "bpf_iter_odd".into(), size: 4 },
        ),
        (
            desc("bpf_iter_good_create", &[("it", &GOOD)], &prim::INT, new),
            ProtoError::IterName { expected: "bpf_iter_good_new".into() },
        ),
        (
            desc("bpf_iter_other_next", &[("it", &GOOD)], &INT_PTR, next),
            ProtoError::IterName { expected: "bpf_iter_good_next".into() },
        ),
        (
            desc("bpf_iter_good_next", &[("it", &GOOD), ("x", &prim::INT)], &INT_PTR, next),
            ProtoError::IterExtraArgs(1),
        ),
        (
            desc("bpf_iter_good_next", &[("it", &GOOD)], &prim::INT, next),
            ProtoError::IterNextRet("int".into()),
        ),
        (
            desc("bpf_iter_good_destroy", &[("it", &GOOD)], &prim::INT, destroy),
            ProtoError::IterDestroyRet("int".into()),
        ),
    ];
    for (d, want) in cases {
        let got = proto_problem(d);
        assert_eq!(got, want, "{}", d.name);
        // The message says what rule broke.
        assert!(!got.to_string().is_empty());
    }
    let e = register_one(desc("bpf_iter_good_create", &[("it", &GOOD)], &prim::INT, new)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "kfunc bpf_iter_good_create (set test_ids): iterator kfunc must be named `bpf_iter_good_new` (bpf_iter_<type>_{new,next,destroy})"
    );
    assert_eq!(e.errno(), 22);
}

#[test]
fn inexpressible_prototypes() {
    let u = &prim::U64;
    let cases: Vec<(&'static KfuncDesc, &str)> = vec![
        (desc("", &[], &CType::Void, KfFlags::empty()), "a kfunc needs a name"),
        (desc("has space", &[], &CType::Void, KfFlags::empty()), "is not a C identifier"),
        (
            desc(
                "six",
                &[("a", u), ("b", u), ("c", u), ("d", u), ("e", u), ("f", u)],
                &CType::Void,
                KfFlags::empty(),
            ),
            "takes 6 arguments; a kfunc takes at most 5",
        ),
        (
            desc("by_value", &[("t", &THING)], &CType::Void, KfFlags::empty()),
            "arg#0 is struct thing by value",
        ),
        (desc("ret_by_value", &[], &THING, KfFlags::empty()), "the return value is struct thing by value"),
        (desc("floaty", &[("x", &prim::DOUBLE)], &CType::Void, KfFlags::empty()), "arg#0 has type double"),
        (desc("wide", &[("x", &prim::UINT128)], &CType::Void, KfFlags::empty()), "__int128 unsigned"),
        (desc("voidy", &[("x", &CType::Void)], &CType::Void, KfFlags::empty()), "arg#0 has type void"),
        (desc("dup", &[("x", u), ("x", u)], &CType::Void, KfFlags::empty()), "two parameters are named `x`"),
    ];
    for (d, want) in cases {
        let e = register_one(d).unwrap_err().to_string();
        assert!(e.contains(want), "{}: wanted {want:?} in {e:?}", d.name);
    }
}

#[test]
fn set_rules() {
    let ok = desc("ok_kfunc", &[("p", &THING_PTR)], &CType::Void, KfFlags::RCU);
    let mut reg = KfuncRegistry::new();
    // Not declared with BTF_KFUNCS_START.
    let e =
        reg.register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::plain("plain_ids").kfunc(ok)).unwrap_err();
    assert_eq!(e, RegisterError::NotKfuncSet { set: "plain_ids".into() });
    assert!(e.to_string().contains("not a kfunc set"));
    // RAW_TRACEPOINT has no hook in 6.18.
    let e = reg
        .register_kfunc_id_set(BpfProgType::RawTracepoint, &KfuncSet::new("rt_ids").kfunc(ok))
        .unwrap_err();
    assert!(matches!(e, RegisterError::NoHook { prog_type: BpfProgType::RawTracepoint, .. }), "{e}");
    assert!(reg.kfunc("ok_kfunc").is_none(), "nothing of a refused registration stays");
    // An empty set registers (and does nothing), as in the kernel.
    reg.register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::new("empty_ids")).unwrap();
    // Same kfunc, different flags in one hook.
    reg.register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::new("a_ids").kfunc(ok)).unwrap();
    let e = reg
        .register_kfunc_id_set(
            BpfProgType::Lsm,
            &KfuncSet::new("b_ids").kfunc_with_flags(ok, KfFlags::TRUSTED_ARGS),
        )
        .unwrap_err();
    assert!(matches!(e, RegisterError::FlagConflict { hook: KfuncHook::Tracing, .. }), "{e}");
    // Same flags again is fine; another hook with other flags is fine too.
    reg.register_kfunc_id_set(BpfProgType::Lsm, &KfuncSet::new("c_ids").kfunc(ok)).unwrap();
    reg.register_kfunc_id_set(
        BpfProgType::Xdp,
        &KfuncSet::new("d_ids").kfunc_with_flags(ok, KfFlags::empty()),
    )
    .unwrap();
    let k = reg.kfunc("ok_kfunc").unwrap();
    assert_eq!(k.hooks(), [KfuncHook::Xdp, KfuncHook::Tracing]);
    let tp = ProgInfo::new(BpfProgType::Tracepoint);
    assert_eq!(reg.btf_kfunc_id_set_contains(k.btf_id(), &tp), Some(KfFlags::RCU));
    assert_eq!(
        reg.btf_kfunc_id_set_contains(k.btf_id(), &ProgInfo::new(BpfProgType::Xdp)),
        Some(KfFlags::empty())
    );
    // A different function under a taken name.
    let impostor = desc("ok_kfunc", &[], &CType::Void, KfFlags::empty());
    let e =
        reg.register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::new("e_ids").kfunc(impostor)).unwrap_err();
    assert!(matches!(e, RegisterError::DuplicateName { .. }), "{e}");
    assert_eq!(e.errno(), 17);
}

#[test]
fn a_hook_holds_at_most_256_kfuncs() {
    let mut reg = KfuncRegistry::new();
    let mut set = KfuncSet::new("big_ids");
    for i in 0..BTF_KFUNC_SET_MAX_CNT {
        set = set.kfunc(desc(&format!("k{i}"), &[], &CType::Void, KfFlags::empty()));
    }
    reg.register_kfunc_id_set(BpfProgType::Syscall, &set).unwrap();
    let one_more = KfuncSet::new("more_ids").kfunc(desc("k_extra", &[], &CType::Void, KfFlags::empty()));
    let e = reg.register_kfunc_id_set(BpfProgType::Syscall, &one_more).unwrap_err();
    assert_eq!(
        e,
        RegisterError::TooManyKfuncs { set: "more_ids".into(), hook: KfuncHook::Syscall, count: 257 }
    );
    assert_eq!(e.errno(), 7);
    // Another hook has room.
    reg.register_kfunc_id_set(BpfProgType::Xdp, &one_more).unwrap();
    // A single oversized set is refused too.
    let mut set = KfuncSet::new("huge_ids");
    for i in 0..=BTF_KFUNC_SET_MAX_CNT {
        set = set.kfunc(desc(&format!("h{i}"), &[], &CType::Void, KfFlags::empty()));
    }
    let e = KfuncRegistry::new().register_kfunc_id_set(BpfProgType::Tracing, &set).unwrap_err();
    assert!(matches!(e, RegisterError::TooManyKfuncs { count: 257, .. }), "{e}");
}

#[test]
fn filters() {
    let secret = desc("secret_kfunc", &[], &CType::Void, KfFlags::empty());
    let open = desc("open_kfunc", &[], &CType::Void, KfFlags::empty());
    // Hides secret_kfunc from non-sleepable programs; says nothing about other kfuncs.
    let only_sleepable = KfuncFilter::new("only_sleepable", |prog, k| {
        if k.name == "secret_kfunc" && !prog.sleepable {
            FilterVerdict::Hidden
        } else {
            FilterVerdict::Visible
        }
    });
    let mut reg = KfuncRegistry::new();
    let set = KfuncSet::new("secret_ids").kfunc(secret).filter(only_sleepable.clone());
    reg.register_kfunc_id_set(BpfProgType::Lsm, &set).unwrap();
    reg.register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::new("open_ids").kfunc(open)).unwrap();
    reg.register_kfunc_id_set(BpfProgType::Unspec, &KfuncSet::new("common_ids").kfunc(open)).unwrap();
    let mut lsm = ProgInfo::new(BpfProgType::Lsm);
    assert!(!reg.is_allowed("secret_kfunc", &lsm));
    assert!(reg.is_allowed("open_kfunc", &lsm), "filters of a hook only hide what they decide to hide");
    lsm.sleepable = true;
    assert!(reg.is_allowed("secret_kfunc", &lsm));
    // Kprobe has no such kfunc at all.
    assert!(!reg.is_allowed("secret_kfunc", &ProgInfo::new(BpfProgType::Kprobe)));
    // The same filter again does not count twice; 16 distinct filters fit, the 17th does not.
    reg.register_kfunc_id_set(BpfProgType::Tracing, &set).unwrap();
    assert_eq!(reg.hook_filters(KfuncHook::Tracing).len(), 1);
    for i in 1..16 {
        let f = KfuncFilter::new(format!("f{i}"), |_, _| FilterVerdict::Visible);
        let s = KfuncSet::new(format!("s{i}")).kfunc(open).filter(f);
        reg.register_kfunc_id_set(BpfProgType::Tracing, &s).unwrap();
    }
    assert_eq!(reg.hook_filters(KfuncHook::Tracing).len(), 16);
    let f = KfuncFilter::new("f17", |_, _| FilterVerdict::Visible);
    let e = reg
        .register_kfunc_id_set(BpfProgType::Tracing, &KfuncSet::new("s17").kfunc(open).filter(f))
        .unwrap_err();
    assert_eq!(e, RegisterError::TooManyFilters { set: "s17".into(), hook: KfuncHook::Tracing });
    // A COMMON hook filter hides a COMMON kfunc, and the lookup then tries the prog type's hook.
    let hide_common = KfuncFilter::new("hide_all", |_, _| FilterVerdict::Hidden);
    let mut reg = KfuncRegistry::new();
    reg.register_kfunc_id_set(BpfProgType::Unspec, &KfuncSet::new("c").kfunc(open).filter(hide_common))
        .unwrap();
    assert!(!reg.is_allowed("open_kfunc", &ProgInfo::new(BpfProgType::Xdp)));
    reg.register_kfunc_id_set(BpfProgType::Xdp, &KfuncSet::new("x").kfunc(open)).unwrap();
    assert!(reg.is_allowed("open_kfunc", &ProgInfo::new(BpfProgType::Xdp)));
    assert!(!reg.is_allowed("open_kfunc", &ProgInfo::new(BpfProgType::SchedCls)));
}

#[kfunc]
fn thing_dtor(p: *mut c_void) {
    let _ = p;
}

#[kfunc]
fn bad_dtor(p: *mut c_void) -> c_int {
    let _ = p;
    0
}

#[kfunc]
fn other_dtor(p: *mut Thing) {
    let _ = p;
}

#[test]
fn destructors() {
    let mut reg = KfuncRegistry::new();
    let e = reg.register_dtor_kfuncs(&[DtorKfunc::new::<Thing>(&bad_dtor::KFUNC)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "kfunc bad_dtor: a destructor kfunc must be `void bad_dtor(type *p)`, not `int bad_dtor(void *p)`"
    );
    assert!(reg.kfunc("bad_dtor").is_none());
    reg.register_dtor_kfuncs(&[DtorKfunc::new::<Thing>(&thing_dtor::KFUNC)]).unwrap();
    let thing = reg.type_id("thing").unwrap();
    assert_eq!(reg.find_dtor_kfunc(thing), Some(reg.kfunc("thing_dtor").unwrap().btf_id()));
    let e = reg.register_dtor_kfuncs(&[DtorKfunc::new::<Thing>(&other_dtor::KFUNC)]).unwrap_err();
    assert!(matches!(e, RegisterError::DuplicateDtor { .. }), "{e}");
    // Not a kfunc: no bpf_kfunc tag, no entry in host_fns.
    assert!(!reg.kfunc("thing_dtor").unwrap().is_kfunc());
}

#[test]
fn trust_declarations() {
    let mut reg = KfuncRegistry::new();
    let e = reg.declare_nested_trust::<Thing>(NestedTrust::Rcu, &["nope"]).unwrap_err();
    assert_eq!(e.to_string(), "thing__safe_rcu: struct thing has no member `nope`");
    let e = reg.declare_nested_trust::<Thing>(NestedTrust::Rcu, &["count"]).unwrap_err();
    assert_eq!(e.to_string(), "thing__safe_rcu: member `count` is int, not a pointer");
    reg.declare_nested_trust::<Thing>(NestedTrust::TrustedOrNull, &["peer"]).unwrap();
    assert_eq!(reg.nested_trust("thing", "peer"), Some(NestedTrust::TrustedOrNull));
    let thing = reg.type_id("thing").unwrap();
    assert!(reg.btf_nested_type_is_trusted(thing, "peer", thing, NestedTrust::TrustedOrNull));
    assert!(!reg.btf_nested_type_is_trusted(thing, "peer", thing, NestedTrust::Rcu));
    assert!(!reg.btf_nested_type_is_trusted(thing, "id", thing, NestedTrust::TrustedOrNull));
    let e = reg.declare_nested_trust::<Thing>(NestedTrust::TrustedOrNull, &["peer"]).unwrap_err();
    assert!(e.to_string().contains("declared twice"));
    // The shadow struct is in the BTF with the member's own type.
    let btf = reg.parsed_btf().unwrap();
    let shadow = btf.find_by_name_kind("thing__safe_trusted_or_null", kfvm_btf::Kind::Struct).unwrap();
    assert_eq!(shadow.size_or_type(), 8);
}

#[test]
fn type_conflicts_and_init_aliases() {
    let mut reg = KfuncRegistry::new();
    reg.add_type::<Thing>().unwrap();
    let e = reg.add_type::<ThingImpostor>().unwrap_err();
    assert_eq!(
        e,
        RegisterError::Type {
            kfunc: "thing".into(),
            problem: TypeError::Conflict {
                name: "thing".into(),
                first: "Thing".into(),
                second: "ThingImpostor".into()
            }
        }
    );
    let init = reg.add_type::<ThingInit>().unwrap();
    let thing = reg.type_id("thing").unwrap();
    assert!(reg.nocast_alias(thing, init));
    assert!(reg.nocast_alias(init, thing));
    assert!(!reg.nocast_alias(thing, thing));
    assert!(btf_type_ids_nocast_alias("nf_conn", "nf_conn___init"));
    assert!(!btf_type_ids_nocast_alias("nf_conn", "nf_conn__init"));
    assert!(!btf_type_ids_nocast_alias("nf_con", "nf_conn___init"));
    assert!(!btf_type_ids_nocast_alias("a___init", "a___init"));
}

#[test]
fn rcu_protected_types() {
    let mut reg = KfuncRegistry::new();
    reg.add_rcu_protected_type::<Thing>().unwrap();
    let thing = reg.type_id("thing").unwrap();
    assert!(reg.is_rcu_protected_type(thing));
    let k = kfunc_set!(x { other_dtor });
    reg.register_kfunc_id_set(BpfProgType::Syscall, &k).unwrap();
    let ptr = reg.kfunc("other_dtor").unwrap().proto_id();
    assert!(!reg.is_rcu_protected_type(ptr));
}

#[test]
fn declared_but_unregistered_kfuncs() {
    let mut reg = KfuncRegistry::new();
    let d = desc("lonely", &[("p", &VOID_PTR)], &CType::Void, KfFlags::empty());
    let id = reg.declare_kfunc(d).unwrap();
    let k = reg.kfunc_by_id(id).unwrap();
    assert!(k.is_kfunc());
    assert!(k.registrations().is_empty());
    assert!(reg.allowed_prog_types(id).is_empty());
    assert!(reg.entry(id).is_some());
}
