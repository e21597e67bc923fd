//! Shared by kfvm-btf's integration tests: the committed corpus, a minimal ELF section reader,
//! the builder-made blobs and external-tool helpers.

#![allow(dead_code, unreachable_pub)]

use kfvm_btf::{BtfBuilder, FuncLinkage, IntEncoding, NewMember, VarLinkage, VarSecinfo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `crates/btf/tests/data`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A committed corpus file.
pub fn data(name: &str) -> Vec<u8> {
    let p = data_dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A committed text file.
pub fn text(name: &str) -> String {
    String::from_utf8(data(name)).expect("utf-8")
}

/// Section `name` of a little-endian ELF64 object (just enough of ELF for `.BTF`/`.BTF.ext`).
pub fn elf_section<'a>(obj: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(obj.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(obj.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(obj.get(o..o + 8)?.try_into().ok()?));
    if obj.get(0..4)? != b"\x7fELF" || obj[4] != 2 || obj[5] != 1 {
        return None;
    }
    let shoff = u64_at(0x28)? as usize;
    let shentsize = u16_at(0x3a)? as usize;
    let shnum = u16_at(0x3c)? as usize;
    let shstrndx = u16_at(0x3e)? as usize;
    let sh = |i: usize| -> Option<(u32, usize, usize)> {
        let b = shoff + i * shentsize;
        Some((u32_at(b)?, u64_at(b + 0x18)? as usize, u64_at(b + 0x20)? as usize))
    };
    let (_, stroff, strsize) = sh(shstrndx)?;
    let strtab = obj.get(stroff..stroff + strsize)?;
    for i in 0..shnum {
        let (nameoff, off, size) = sh(i)?;
        let rest = strtab.get(nameoff as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        if &rest[..end] == name.as_bytes() {
            return obj.get(off..off + size);
        }
    }
    None
}

/// `.BTF` and `.BTF.ext` of a committed object.
pub fn object_btf(name: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    let obj = data(name);
    let btf = elf_section(&obj, ".BTF").expect(".BTF").to_vec();
    let ext = elf_section(&obj, ".BTF.ext").map(|s| s.to_vec());
    (btf, ext)
}

/// Compares `actual` with committed file `name`; `BLESS=1` rewrites the file instead.
pub fn check_or_bless(name: &str, actual: &[u8]) {
    let p = data_dir().join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&p, actual).expect("bless");
        return;
    }
    let expected = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} (BLESS=1 creates it)", p.display()));
    if expected != actual {
        panic!(
            "{} differs from what the test produced ({} vs {} bytes); BLESS=1 rewrites it",
            p.display(),
            expected.len(),
            actual.len()
        );
    }
}

/// First differing line of two texts, for assertion messages.
pub fn first_diff(a: &str, b: &str) -> Option<(usize, String, String)> {
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => return Some((n, x.unwrap_or("<end>").to_string(), y.unwrap_or("<end>").to_string())),
        }
    }
}

/// Asserts two texts are equal, showing the first differing line.
pub fn assert_same_text(what: &str, ours: &str, theirs: &str) {
    if let Some((n, a, b)) = first_diff(ours, theirs) {
        panic!("{what}: first difference at line {n}:\n  ours:   {a}\n  theirs: {b}");
    }
}

/// A tool's path if it runs (`--version` succeeds).
pub fn tool(name: &str) -> Option<String> {
    let ok = Command::new(name).arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    ok.then(|| name.to_string())
}

/// Runs a command; its stdout if it succeeded, else panics with its stderr.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    if !out.status.success() {
        panic!("{cmd:?} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kfvm-btf-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// BTF with every kind and the shapes the C dumper has to get right, made with the builder.
/// Committed as `tests/data/built_all_kinds.btf` (with bpftool's dumps of it).
pub fn all_kinds() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED); // 1
    let uint = b.add_int("unsigned int", 4, IntEncoding::NONE); // 2
    let chr = b.add_int("char", 1, IntEncoding::SIGNED); // 3
    let ulong = b.add_int("long unsigned int", 8, IntEncoding::NONE); // 4
    let uchar = b.add_int("unsigned char", 1, IntEncoding::NONE); // 5
    let bool_ = b.add_int("_Bool", 1, IntEncoding::BOOL); // 6
    let dbl = b.add_float("double", 8); // 7
    let u32t = b.add_typedef("u32", uint); // 8
    let list = b.next_id(); // 9
    b.add_struct(
        "list_head",
        16,
        &[NewMember::new("next", list + 1, 0), NewMember::new("prev", list + 1, 64)],
    );
    let list_ptr = b.add_ptr(list); // 10
    let cint = b.add_const(int);
    let vcint = b.add_volatile(cint);
    let cptr = b.add_ptr(chr);
    let rcptr = b.add_restrict(cptr);
    let arr4 = b.add_array(int, uint, 4);
    let arr34 = b.add_array(arr4, uint, 3);
    let color = b.add_enum("color", 4, true, &[("RED", 0), ("GREEN", 5), ("BLUE", -1)]);
    let big = b.add_enum64("big64", 8, false, &[("BIG_A", 1 << 32), ("BIG_B", 1), ("BIG_MAX", u64::MAX)]);
    let small = b.add_enum("small8", 1, false, &[("S_A", 1), ("S_B", 200)]);
    let fwd_enum = b.add_enum("fwd_enum", 4, false, &[]);
    b.add_enum("", 4, false, &[("TOP_A", 1), ("TOP_B", 2)]); // top-level constants
    let fwd_s = b.add_fwd("fwd_only", false);
    let fwd_u = b.add_fwd("fwd_union", true);
    let fwd_s_ptr = b.add_ptr(fwd_s);
    let fwd_u_ptr = b.add_ptr(fwd_u);
    let fwd_enum_ptr = b.add_ptr(fwd_enum);
    let bits = b.add_struct(
        "bits",
        16,
        &[
            NewMember::bitfield("a", uint, 0, 3),
            NewMember::bitfield("b", uint, 3, 5),
            NewMember::bitfield("c", int, 8, 12),
            NewMember::bitfield("d", ulong, 20, 40),
            NewMember::new("e", uchar, 64),
            NewMember::bitfield("f", bool_, 72, 1),
            NewMember::new("g", u32t, 96),
        ],
    );
    let packed = b.add_struct(
        "packed_s",
        7,
        &[NewMember::new("a", uchar, 0), NewMember::new("b", u32t, 8), NewMember::new("c", chr, 48)],
    );
    let parts = b.add_struct("", 8, &[NewMember::new("lo", u32t, 0), NewMember::new("hi", u32t, 32)]);
    let anon_u = b.add_union("", 8, &[NewMember::new("parts", parts, 0), NewMember::new("all", ulong, 0)]);
    let anon_e = b.add_enum("", 4, false, &[("NESTED_ONE", 1), ("NESTED_TWO", 2)]);
    // void (*)(struct nested *, int), int (*[4])(void), variadic handler typedef
    let nested = b.next_id() + 6;
    let nested_ptr = b.add_ptr(nested);
    let cb_proto = b.add_func_proto(0, &[("", nested_ptr), ("", int)]);
    let cb_ptr = b.add_ptr(cb_proto);
    let op_proto = b.add_func_proto(int, &[]);
    let op_ptr = b.add_ptr(op_proto);
    let ops = b.add_array(op_ptr, uint, 4);
    assert_eq!(b.next_id(), nested);
    b.add_struct(
        "nested",
        128,
        &[
            NewMember::new("kind", int, 0),
            NewMember::new("", anon_u, 64),
            NewMember::new("e", anon_e, 128),
            NewMember::new("list", list, 192),
            NewMember::new("cb", cb_ptr, 320),
            NewMember::new("ops", ops, 384),
            NewMember::new("cv", vcint, 640),
            NewMember::new("rp", rcptr, 704),
            NewMember::new("fwd", fwd_s_ptr, 768),
            NewMember::new("fu", fwd_u_ptr, 832),
            NewMember::new("fe", fwd_enum_ptr, 896),
            NewMember::new("d", dbl, 960),
        ],
    );
    let big_s = b.add_struct(
        "holder",
        96,
        &[
            NewMember::new("matrix", arr34, 0),
            NewMember::new("color", color, 384),
            NewMember::new("s", small, 416),
            NewMember::new("big", big, 448),
            NewMember::new("bits", bits, 512),
            NewMember::new("ps", packed, 640),
        ],
    );
    let void_ptr = b.add_ptr(0);
    let handler_proto = b.add_func_proto(int, &[("", void_ptr), ("", int), ("", 0)]);
    let handler_ptr = b.add_ptr(handler_proto);
    b.add_typedef("handler_t", handler_ptr);
    // Type tags after pointers.
    let rcu = b.add_type_tag("rcu", list);
    let rcu_ptr = b.add_ptr(rcu);
    let user = b.add_type_tag("user", int);
    let user_ptr = b.add_ptr(user);
    let tagged = b.add_struct(
        "tagged",
        24,
        &[
            NewMember::new("rcu_ptr", rcu_ptr, 0),
            NewMember::new("uptr", user_ptr, 64),
            NewMember::new("plain", int, 128),
        ],
    );
    b.add_decl_tag("struct_tag", tagged, None);
    b.add_decl_tag("member_tag", tagged, Some(2));
    // Two different structs named "dup": the dump calls the second dup___2.
    let dup1 = b.add_struct("dup", 4, &[NewMember::new("a", int, 0)]);
    let dup2 = b.add_struct("dup", 8, &[NewMember::new("b", ulong, 0)]);
    b.add_struct("uses_dups", 16, &[NewMember::new("one", dup1, 0), NewMember::new("two", dup2, 64)]);
    // A kfunc-like FUNC with a param decl tag, and a variable in a DATASEC.
    let kproto = b.add_func_proto(int, &[("h", list_ptr), ("flags", u32t)]);
    let kf = b.add_func("bpf_kfunc_test", kproto, FuncLinkage::Global);
    b.add_decl_tag("bpf_kfunc", kf, None);
    b.add_decl_tag("arg_tag", kf, Some(0));
    let nproto = b.add_func_proto(0, &[]);
    let nf = b.add_func("bpf_noargs", nproto, FuncLinkage::Global);
    b.add_decl_tag("bpf_kfunc", nf, None);
    let v1 = b.add_var("g_holder", big_s, VarLinkage::Global);
    let v2 = b.add_var("g_counter", ulong, VarLinkage::Static);
    b.add_decl_tag("var_tag", v1, None);
    b.add_datasec(
        ".data",
        104,
        &[VarSecinfo { type_id: v1, offset: 0, size: 96 }, VarSecinfo { type_id: v2, offset: 96, size: 8 }],
    );
    b.add_struct("empty", 0, &[]);
    b
}

/// Attribute-form type and decl tags (kind_flag set: `__attribute__((...))` rather than
/// `btf_type_tag`/`btf_decl_tag`), which only bpftool 7.6+ prints as attributes. Committed as
/// `built_attrs.btf`.
pub fn attrs() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let attr = b.add_type_attr("address_space(1)", int);
    let p = b.add_ptr(attr);
    let tag = b.add_type_tag("percpu", int);
    let p2 = b.add_ptr(tag);
    let s = b.add_struct("s", 16, &[NewMember::new("a", p, 0), NewMember::new("b", p2, 64)]);
    b.add_decl_attr("aligned(16)", s, None);
    let proto = b.add_func_proto(p, &[("x", p2)]);
    let f = b.add_func("attr_kfunc", proto, FuncLinkage::Global);
    b.add_decl_tag("bpf_kfunc", f, None);
    b.add_decl_tag("bpf_fastcall", f, None);
    b
}

/// A base and a split part on it, made with the builder (a kernel module's shape: the split
/// part's types refer to the base's). Committed as `built_split_base.btf` / `built_split.btf`.
pub fn split_pair() -> (Vec<u8>, Vec<u8>) {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let ulong = b.add_int("long unsigned int", 8, IntEncoding::NONE);
    let list = b.add_struct("list_head", 16, &[NewMember::new("next", 4, 0), NewMember::new("prev", 4, 64)]);
    let list_ptr = b.add_ptr(list);
    assert_eq!(list_ptr, 4);
    b.add_struct("device", 24, &[NewMember::new("id", int, 0), NewMember::new("node", list, 64)]);
    b.add_typedef("size_t", ulong);
    let base_bytes = b.finish().expect("base");
    let base = kfvm_btf::Btf::parse(&base_bytes).expect("base parses");

    let mut s = BtfBuilder::new_split(&base);
    let dev = base.find_by_name_kind("device", kfvm_btf::Kind::Struct).unwrap().id();
    let dev_ptr = s.add_ptr(dev);
    let mod_s = s.add_struct(
        "mod_state",
        32,
        &[
            NewMember::new("dev", dev_ptr, 0),
            NewMember::new("list", list, 64),
            NewMember::new("count", int, 192),
        ],
    );
    let mod_ptr = s.add_ptr(mod_s);
    let proto = s.add_func_proto(int, &[("st", mod_ptr), ("dev", dev_ptr)]);
    let f = s.add_func("mod_kfunc", proto, FuncLinkage::Global);
    s.add_decl_tag("bpf_kfunc", f, None);
    // A split type reusing a base name: a module-local "device" struct.
    s.add_struct("device", 4, &[NewMember::new("local", int, 0)]);
    (base_bytes, s.finish().expect("split"))
}
