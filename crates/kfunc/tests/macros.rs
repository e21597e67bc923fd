//! `#[kfunc]` and `#[derive(HostType)]`: descriptors, the BTF they lower to, and the native
//! entry points called through the interpreter.

use kfvm_isa::RawInsn;
use kfvm_kfunc::types::*;
use kfvm_kfunc::{
    kfunc, kfunc_set, ArgAnnots, BpfProgType, CallCtx, Callback, HostType, KfFlags, KfuncRegistry, Version,
};
use kfvm_vm::{Interpreter, Program, Region, VmError};

/// A host object with a pointer to itself, an RCU-tagged pointer, an array and a typedef.
#[derive(HostType, Debug)]
#[btf(name = "my_obj")]
#[repr(C)]
pub struct MyObj {
    pub id: u64,
    pub next: *mut MyObj,
    #[btf(rcu)]
    pub owner: *mut MyObj,
    #[btf(type_tag = "user", kptr)]
    pub two_tags: *const c_char,
    pub name: [c_char; 16],
    pub mode: MyModeT,
    pub kind: MyKind,
    pub u: MyUnion,
    #[btf(name = "type")]
    pub type_: c_int,
    #[btf(skip)]
    pub host_only: u64,
}

/// `typedef unsigned short my_mode_t;`
#[derive(HostType, Debug)]
#[btf(name = "my_mode_t", typedef)]
#[repr(transparent)]
pub struct MyModeT(pub c_ushort);

/// An enum with a negative value.
#[derive(HostType, Debug, Clone, Copy)]
#[btf(name = "my_kind")]
#[repr(i32)]
pub enum MyKind {
    MyA = 1,
    MyB = -2,
}

/// A union.
#[derive(HostType, Clone, Copy)]
#[btf(name = "my_union")]
#[repr(C)]
pub union MyUnion {
    pub a: u32,
    pub b: u64,
}

impl std::fmt::Debug for MyUnion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MyUnion")
    }
}

/// A type programs only point at.
#[derive(HostType, Debug)]
#[btf(opaque)]
pub struct MyOpaque;

/// `bpf_iter_mine`, for iterator kfuncs.
#[derive(HostType, Debug)]
#[repr(C)]
pub struct BpfIterMine {
    pub __opaque: [u64; 2],
}

#[kfunc]
fn my_double(x: u64) -> u64 {
    x * 2
}

#[kfunc(ret_null, rcu)]
fn my_first(ctx: &mut CallCtx, obj: Option<&MyObj>, buf: *mut c_void, buf__sz: u32) -> *mut MyObj {
    let _ = (ctx, buf, buf__sz);
    match obj {
        Some(o) => o.next,
        None => core::ptr::null_mut(),
    }
}

#[kfunc]
fn my_read(v: &u64) -> u64 {
    *v
}

#[kfunc]
fn my_narrow(a: i32, b: u8, c: bool) -> i32 {
    // Arguments are truncated to their width; the i32 result is zero-extended into R0.
    if c {
        a - b as i32
    } else {
        0
    }
}

#[kfunc(name = "my_renamed", destructive)]
fn rust_side_name(flags__k: c_long, p__nullable: *const MyOpaque) -> c_int {
    let _ = p__nullable;
    flags__k as c_int
}

#[kfunc(
    acquire,
    kptr_get,
    ret_null,
    deprecated(note = "use my_first", replacement = "my_first", removed_in = "6.20")
)]
fn my_old(pp: *mut *mut MyObj) -> *mut MyObj {
    let _ = pp;
    core::ptr::null_mut()
}

#[kfunc]
fn my_walk(root: *mut MyObj, less: Callback<fn(*mut MyObj, *const MyObj) -> bool>) -> c_int {
    let _ = root;
    (less.addr() & 0xff) as c_int
}

#[kfunc(iter_new)]
fn bpf_iter_mine_new(it: *mut BpfIterMine, start: c_int) -> c_int {
    let _ = (it, start);
    0
}

#[kfunc(iter_next, ret_null)]
fn bpf_iter_mine_next(it: *mut BpfIterMine) -> *mut c_int {
    let _ = it;
    core::ptr::null_mut()
}

#[kfunc(iter_destroy)]
fn bpf_iter_mine_destroy(it: *mut BpfIterMine) {
    let _ = it;
}

#[kfunc]
fn my_unimplemented(ctx: &mut CallCtx, x: u32) -> u32 {
    let _ = x;
    kfvm_kfunc::abi::not_implemented(ctx, "my_unimplemented")
}

fn registry() -> KfuncRegistry {
    let mut reg = KfuncRegistry::new();
    let set = kfunc_set!(my_ids {
        my_double,
        my_first,
        my_read,
        my_narrow,
        rust_side_name,
        my_old,
        my_walk,
        bpf_iter_mine_new,
        bpf_iter_mine_next,
        bpf_iter_mine_destroy,
        my_unimplemented,
    });
    reg.register_kfunc_id_set(BpfProgType::Unspec, &set).unwrap();
    reg.add_type::<MyObj>().unwrap();
    reg
}

#[test]
fn descriptors() {
    assert_eq!(my_double::KFUNC.name, "my_double");
    assert_eq!(my_double::KFUNC.flags, KfFlags::empty());
    assert_eq!(my_first::KFUNC.flags, KfFlags::RET_NULL | KfFlags::RCU);
    // The context is not a BPF parameter.
    let names: Vec<&str> = my_first::KFUNC.params.iter().map(|p| p.name).collect();
    assert_eq!(names, ["obj", "buf", "buf__sz"]);
    let annots: Vec<ArgAnnots> = my_first::KFUNC.annotations().collect();
    assert_eq!(annots, [ArgAnnots::empty(), ArgAnnots::empty(), ArgAnnots::SZ]);
    assert_eq!(rust_side_name::KFUNC.name, "my_renamed");
    assert_eq!(rust_side_name::KFUNC.flags, KfFlags::DESTRUCTIVE);
    let d = my_old::KFUNC.deprecation.unwrap();
    assert_eq!(d.note, "use my_first");
    assert_eq!(d.replacement, Some("my_first"));
    assert_eq!(d.removed_in, Some(Version::new(6, 20, 0)));
    assert_eq!(my_old::KFUNC.flags, KfFlags::ACQUIRE | KfFlags::KPTR_GET | KfFlags::RET_NULL);
    assert!(my_double::KFUNC.rust_path.ends_with("macros::my_double"));
    // The Rust functions are still ordinary functions.
    assert_eq!(my_double(21), 42);
}

#[test]
fn prototypes_in_btf() {
    let reg = registry();
    let p = |n| reg.c_prototype(n).unwrap();
    assert_eq!(p("my_double"), "u64 my_double(u64 x)");
    assert_eq!(p("my_first"), "struct my_obj *my_first(const struct my_obj *obj, void *buf, u32 buf__sz)");
    assert_eq!(p("my_read"), "u64 my_read(const u64 *v)");
    assert_eq!(p("my_narrow"), "s32 my_narrow(s32 a, u8 b, bool c)");
    assert_eq!(
        p("my_renamed"),
        "int my_renamed(long int flags__k, const struct MyOpaque *p__nullable)"
            .replace("MyOpaque", "my_opaque")
    );
    assert_eq!(p("my_old"), "struct my_obj *my_old(struct my_obj **pp)");
    assert_eq!(
        p("my_walk"),
        "int my_walk(struct my_obj *root, bool (*less)(struct my_obj *, const struct my_obj *))"
    );
    assert_eq!(p("bpf_iter_mine_next"), "int *bpf_iter_mine_next(struct bpf_iter_mine *it)");
    assert_eq!(p("bpf_iter_mine_destroy"), "void bpf_iter_mine_destroy(struct bpf_iter_mine *it)");
}

#[test]
fn host_types_in_btf() {
    let reg = registry();
    let h = reg.c_header().unwrap();
    let obj = h.split("struct my_obj {").nth(1).unwrap().split("};").next().unwrap();
    assert!(obj.contains("\tu64 id;"), "{obj}");
    assert!(obj.contains("\tstruct my_obj *next;"), "{obj}");
    assert!(obj.contains("\tstruct my_obj __attribute__((btf_type_tag(\"rcu\"))) *owner;"), "{obj}");
    assert!(obj.contains("\tchar name[16];"), "{obj}");
    assert!(obj.contains("\tmy_mode_t mode;"), "{obj}");
    assert!(obj.contains("\tenum my_kind kind;"), "{obj}");
    assert!(obj.contains("\tunion my_union u;"), "{obj}");
    assert!(obj.contains("\tint type;"), "{obj}");
    assert!(!obj.contains("host_only"), "{obj}");
    assert!(h.contains("typedef short unsigned int my_mode_t;"));
    assert!(h.contains("MyB = -2,"));
    assert!(h.contains("struct my_opaque;"));
    // Offsets are Rust's: check one through the parsed BTF.
    let btf = reg.parsed_btf().unwrap();
    let id = reg.type_id("my_obj").unwrap();
    let t = btf.type_by_id(id).unwrap();
    assert_eq!(t.size_or_type() as usize, std::mem::size_of::<MyObj>());
    // Two tags: PTR -> TYPE_TAG "kptr" -> TYPE_TAG "user" -> CONST -> char (the last written outermost).
    let line = obj.lines().find(|l| l.contains("two_tags")).unwrap();
    assert_eq!(line.trim(), "const char __attribute__((btf_type_tag(\"user\"))) __attribute__((btf_type_tag(\"kptr\"))) *two_tags;");
    assert_eq!(<MyObj as HostType>::host_type().name, "my_obj");
}

/// `call kfunc` to `btf_id` after setting R1..R3, then `exit`.
fn call_prog(btf_id: u32, args: &[i32]) -> Vec<RawInsn> {
    let mut p = Vec::new();
    for (i, a) in args.iter().enumerate() {
        p.push(RawInsn::new(0xb7, i as u8 + 1, 0, 0, *a)); // rN = imm (64-bit mov)
    }
    p.push(RawInsn::new(0x85, 0, 2, 0, btf_id as i32)); // call kfunc (BPF_PSEUDO_KFUNC_CALL)
    p.push(RawInsn::new(0x95, 0, 0, 0, 0)); // exit
    p
}

fn run(reg: &KfuncRegistry, insns: &[RawInsn], regions: &[Region]) -> Result<u64, VmError> {
    let prog = Program::load(insns, &reg.host_fns()).expect("loads");
    Interpreter::new().run(&prog, &[], regions, core::ptr::null_mut())
}

#[test]
fn entry_points_run_in_the_interpreter() {
    let reg = registry();
    let id = |n| reg.kfunc(n).unwrap().btf_id();
    assert_eq!(run(&reg, &call_prog(id("my_double"), &[21]), &[]).unwrap(), 42);
    // Truncation to the parameter width, zero-extension of the 32-bit result.
    assert_eq!(
        run(&reg, &call_prog(id("my_narrow"), &[3, 0x105, 0x100]), &[]).unwrap(),
        0,
        "c = 0x100 as u8 = false"
    );
    assert_eq!(
        run(&reg, &call_prog(id("my_narrow"), &[3, 0x105, 1]), &[]).unwrap(),
        0xffff_fffe,
        "3 - 5 as u32"
    );
    // A callback argument is passed through as a value.
    assert_eq!(run(&reg, &call_prog(id("my_walk"), &[0, 0x1234]), &[]).unwrap(), 0x34);
}

#[test]
fn reference_arguments_are_checked() {
    let reg = registry();
    let id = reg.kfunc("my_read").unwrap().btf_id();
    // *(u64 *)(r10 - 8) = 77; r1 = r10; r1 += -8; call my_read; exit
    let ok = [
        RawInsn::new(0x7a, 10, 0, -8, 77),
        RawInsn::new(0xbf, 1, 10, 0, 0),
        RawInsn::new(0x07, 1, 0, 0, -8),
        RawInsn::new(0x85, 0, 2, 0, id as i32),
        RawInsn::new(0x95, 0, 0, 0, 0),
    ];
    assert_eq!(run(&reg, &ok, &[]).unwrap(), 77);
    let null = run(&reg, &call_prog(id, &[0]), &[]).unwrap_err().to_string();
    assert!(null.contains("kfunc my_read: arg#0: NULL pointer"), "{null}");
    let wild = run(&reg, &call_prog(id, &[0x1000]), &[]).unwrap_err().to_string();
    assert!(wild.contains("are not memory the program may read"), "{wild}");
    let odd = run(&reg, &call_prog(id, &[0x1001]), &[]).unwrap_err().to_string();
    assert!(odd.contains("not 8-byte aligned"), "{odd}");
    // Memory the host registered is fine.
    let mut val = 5u64.to_le_bytes();
    let region = Region::writable(&mut val);
    let addr = region.start;
    let prog = [
        RawInsn::new(0x18, 1, 0, 0, addr as u32 as i32),
        RawInsn::new(0x00, 0, 0, 0, (addr >> 32) as u32 as i32),
        RawInsn::new(0x85, 0, 2, 0, id as i32),
        RawInsn::new(0x95, 0, 0, 0, 0),
    ];
    assert_eq!(run(&reg, &prog, &[region]).unwrap(), 5);
    // Option<&T>: NULL is None.
    let first = reg.kfunc("my_first").unwrap().btf_id();
    assert_eq!(run(&reg, &call_prog(first, &[0]), &[]).unwrap(), 0);
}

#[test]
fn unimplemented_kfuncs_fail_the_run_clearly() {
    let reg = registry();
    let id = reg.kfunc("my_unimplemented").unwrap().btf_id();
    let e = run(&reg, &call_prog(id, &[1]), &[]).unwrap_err().to_string();
    assert!(e.contains("kfunc my_unimplemented is not implemented by this host yet"), "{e}");
}
