//! The builder: what it writes parses, validates, round-trips, and bpftool reads it the same way.

mod common;

use common::*;
use kfvm_btf::{
    dump_c, dump_raw, Btf, BtfBuilder, BtfError, CDumpOptions, FuncLinkage, IntEncoding, Kind, NewMember,
    TypeData,
};
use std::process::Command;
use std::sync::Arc;

#[test]
fn built_btf_parses_and_round_trips() {
    let b = all_kinds();
    let bytes = b.finish().unwrap();
    let btf = Btf::parse(&bytes).expect("builder output validates");
    // Every kind is there.
    let mut kinds: Vec<Kind> = btf.types().map(|t| t.kind()).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 19, "{kinds:?}");
    // parse -> rebuild is byte-identical (same insertion order, same dedup).
    let again = BtfBuilder::from_btf(&btf).finish().unwrap();
    assert_eq!(again, bytes);
    assert_eq!(dump_raw(&Btf::parse(&again).unwrap()), dump_raw(&btf));
}

#[test]
fn strings_are_deduplicated() {
    let mut b = BtfBuilder::new();
    let a = b.add_string("task_struct");
    assert_eq!(b.add_string("task_struct"), a);
    assert_eq!(b.add_string(""), 0);
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    b.add_typedef("int_t", int);
    b.add_typedef("int_t2", int);
    b.add_struct("s", 4, &[NewMember::new("int", int, 0)]);
    let btf = b.build().unwrap();
    // "int" is stored once: the INT's name and the member's name share an offset.
    let t = btf.type_by_id(int).unwrap();
    let s = btf.find_by_name_kind("s", Kind::Struct).unwrap();
    assert_eq!(s.member(0).unwrap().name_off, t.name_off());
    let strings = btf.raw_strings();
    assert_eq!(strings.iter().filter(|&&c| c == 0).count(), 6); // "", task_struct, int, int_t, int_t2, s
}

#[test]
fn decl_and_type_attributes() {
    let btf = attrs().build().unwrap();
    let st = btf.find_by_name_kind("s", Kind::Struct).unwrap();
    let (s, p, p2) = (st.id(), st.member(0).unwrap().type_id, st.member(1).unwrap().type_id);
    let tt = btf.ptr_type_tags(p).unwrap();
    assert!(tt.tags.is_empty());
    assert_eq!(tt.attrs, ["address_space(1)"]);
    assert_eq!(btf.ptr_type_tags(p2).unwrap().tags, ["percpu"]);
    let tags = btf.decl_tags(s);
    assert_eq!(tags.len(), 1);
    assert!(tags[0].attr);
    assert!(!btf.has_decl_tag(s, "aligned(16)"), "an attribute is not a btf_decl_tag");
    let c = dump_c(&btf, &CDumpOptions::default()).unwrap();
    assert!(c.contains("\tint __attribute__((address_space(1))) *a;\n"), "{c}");
    assert!(c.contains("\tint __attribute__((btf_type_tag(\"percpu\"))) *b;\n"), "{c}");
}

#[test]
fn too_many_members_is_reported() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let names: Vec<String> = (0..70000).map(|i| format!("m{i}")).collect();
    let ms: Vec<NewMember<'_>> = names.iter().map(|n| NewMember::new(n, int, 0)).collect();
    b.add_union("big", 4, &ms);
    let e = b.finish().unwrap_err();
    assert!(e.to_string().contains("70000 members"), "{e}");
}

#[test]
fn split_btf_continues_the_base() {
    let (base_bytes, split_bytes) = split_pair();
    let base = Arc::new(Btf::parse(&base_bytes).unwrap());
    let split = Btf::parse_split(&split_bytes, base.clone()).unwrap();
    assert!(split.is_split());
    assert_eq!(split.start_id(), base.type_count());
    assert_eq!(split.start_str_off(), base.str_space());
    assert_eq!(split.types().len() as u32, split.type_count() - split.start_id());
    // Base ids resolve through the split part; split types name base types.
    assert_eq!(split.type_by_id(3).unwrap().name(), "list_head");
    let ms = split.find_by_name_kind("mod_state", Kind::Struct).unwrap();
    assert!(ms.id() >= split.start_id());
    let list = ms.member_by_name("list").unwrap();
    assert_eq!(split.type_by_id(list.type_id).unwrap().name(), "list_head");
    assert_eq!(split.resolve_size(ms.id()).unwrap(), 32);
    // Names found in both parts, base first.
    let devices = split.find_by_name("device");
    assert_eq!(devices.len(), 2);
    assert!(devices[0].id() < split.start_id() && devices[1].id() >= split.start_id());
    // The split "device" reuses the base's string, as module BTF does; its own names do not.
    assert_eq!(devices[1].name_off(), devices[0].name_off());
    assert!(devices[1].name_off() < split.start_str_off());
    assert!(ms.name_off() >= split.start_str_off());
    assert_eq!(split.find_by_name_kind("device", Kind::Struct).unwrap().id(), devices[0].id());
    // kfuncs of the module.
    let kf: Vec<&str> = split.funcs_with_decl_tag("bpf_kfunc").iter().map(|t| t.name()).collect();
    assert_eq!(kf, ["mod_kfunc"]);
    let proto = split.func_proto(split.find_by_name_kind("mod_kfunc", Kind::Func).unwrap().id());
    let names: Vec<&str> = proto.unwrap().params().map(|p| p.name).collect();
    assert_eq!(names, ["st", "dev"]);
    // Rebuilding the split part gives the same bytes.
    assert_eq!(BtfBuilder::from_btf(&split).finish().unwrap(), split_bytes);
    // Without its base, the split part is refused, and the error says why.
    let e = Btf::parse(&split_bytes).unwrap_err();
    assert!(matches!(e, BtfError::BadStrings(_)), "{e}");
    assert!(e.to_string().contains("without its base"), "{e}");
}

#[test]
fn split_type_ids_checked_against_base_and_split() {
    let (base_bytes, _) = split_pair();
    let base = Arc::new(Btf::parse(&base_bytes).unwrap());
    let mut s = BtfBuilder::new_split(&base);
    let p = s.add_ptr(base.type_count() + 5); // past the split part's end
    let e = s.build_split(base.clone()).unwrap_err();
    assert!(matches!(e, BtfError::BadType { id, .. } if id == p), "{e}");
    assert!(e.to_string().contains(&format!("type [{p}] PTR")), "{e}");
}

fn bpftool() -> Option<String> {
    let t = tool("bpftool");
    if t.is_none() {
        eprintln!("skipped: bpftool not installed");
    }
    t
}

#[test]
fn bpftool_reads_built_btf() {
    let Some(bpftool) = bpftool() else { return };
    let dir = scratch("bpftool");
    let bytes = all_kinds().finish().unwrap();
    let path = dir.join("all_kinds.btf");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();
    let btf = Btf::parse(&bytes).unwrap();
    let raw = run(Command::new(&bpftool).args(["btf", "dump", "file", p]));
    assert_same_text("bpftool raw dump of built BTF", &dump_raw(&btf), &raw);
    let c = run(Command::new(&bpftool).args(["btf", "dump", "file", p, "format", "c"]));
    assert_same_text("bpftool C dump of built BTF", &dump_c(&btf, &CDumpOptions::default()).unwrap(), &c);

    let (base_bytes, split_bytes) = split_pair();
    let (bp, sp) = (dir.join("base.btf"), dir.join("split.btf"));
    std::fs::write(&bp, &base_bytes).unwrap();
    std::fs::write(&sp, &split_bytes).unwrap();
    let base = Arc::new(Btf::parse(&base_bytes).unwrap());
    let split = Btf::parse_split(&split_bytes, base).unwrap();
    let args = ["btf", "dump", "file", sp.to_str().unwrap(), "-B", bp.to_str().unwrap()];
    let raw = run(Command::new(&bpftool).args(args));
    assert_same_text("bpftool raw dump of built split BTF", &dump_raw(&split), &raw);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn type_data_matches_accessors() {
    let btf = all_kinds().build().unwrap();
    for t in btf.types() {
        match t.data() {
            TypeData::Struct { size, members } | TypeData::Union { size, members } => {
                assert_eq!(Some(size), t.size());
                assert_eq!(members.len(), t.vlen() as usize);
            }
            TypeData::Func { proto, linkage } => {
                assert_eq!(Some(proto), t.type_id());
                assert_eq!(linkage, FuncLinkage::Global);
            }
            TypeData::Int { size, info } => {
                assert_eq!(info.bits as u32, size * 8);
            }
            _ => {}
        }
    }
}

#[test]
fn btf_is_shareable_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Btf>();
    send_sync::<BtfBuilder>();
    let btf = Arc::new(all_kinds().build().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let btf = btf.clone();
            std::thread::spawn(move || btf.find_by_name_kind("nested", Kind::Struct).map(|t| t.id()))
        })
        .collect();
    let ids: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(ids.iter().all(|&i| i.is_some() && i == ids[0]));
}

#[test]
fn core_flavor_names() {
    use kfvm_btf::essential_name;
    assert_eq!(essential_name("task_struct___v2"), "task_struct");
    assert_eq!(essential_name("a___b___c"), "a___b");
    assert_eq!(essential_name("task_struct"), "task_struct");
    assert_eq!(essential_name("___x"), "___x");
    assert_eq!(essential_name("x____y"), "x____y");
    assert_eq!(essential_name("é___ü"), "é");
    assert_eq!(essential_name("a____b"), "a____b");
    assert_eq!(essential_name("x___"), "x___");
    assert_eq!(essential_name("x___y"), "x");
    assert_eq!(essential_name(""), "");
    assert_eq!(essential_name("abcd"), "abcd");
}

#[test]
fn patch_edits_words_in_place() {
    use kfvm_btf::{VarLinkage, VarSecinfo};
    let vsi = |type_id, offset, size| VarSecinfo { type_id, offset, size };
    // As clang leaves an object's .data: size 0, offsets 0, entries in declaration order.
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let a = b.add_var("a", int, VarLinkage::Global);
    let c = b.add_var("c", int, VarLinkage::Global);
    let sec = b.add_datasec(".data", 0, &[vsi(c, 0, 4), vsi(a, 0, 4)]);
    let btf = b.build().unwrap();
    // libbpf's fix-ups: the section's size, the offsets of the symbols, sorted; `c` hidden.
    let mut p = btf.patch();
    p.set_size(sec, 8).unwrap();
    p.set_datasec_vars(sec, &[vsi(a, 0, 4), vsi(c, 4, 4)]).unwrap();
    p.set_var_linkage(c, VarLinkage::Static).unwrap();
    let fixed = p.finish().unwrap();
    let s = fixed.get(sec).unwrap();
    assert_eq!(s.size(), Some(8));
    assert_eq!(s.datasec_vars().collect::<Vec<_>>(), [vsi(a, 0, 4), vsi(c, 4, 4)]);
    assert_eq!(fixed.get(c).unwrap().var_linkage(), Some(VarLinkage::Static));
    assert_eq!(fixed.get(a).unwrap().var_linkage(), Some(VarLinkage::Global));
    // Nothing moved: same length, same strings, only the edited words differ (size, the two
    // entries' type ids and one offset, a linkage).
    assert_eq!(fixed.raw_data().len(), btf.raw_data().len());
    assert_eq!(fixed.raw_strings(), btf.raw_strings());
    let words = |b: &Btf| b.raw_data().chunks(4).map(|w| w.to_vec()).collect::<Vec<_>>();
    let changed = words(&btf).iter().zip(words(&fixed)).filter(|(x, y)| *x != y).count();
    assert_eq!(changed, 5);

    // Refusals: wrong kind, another number of entries, unknown id; and the result is validated.
    let mut p = btf.patch();
    assert!(matches!(p.set_size(a, 4), Err(BtfError::WrongKind { .. })));
    assert!(matches!(p.set_var_linkage(sec, VarLinkage::Static), Err(BtfError::WrongKind { .. })));
    assert!(matches!(p.set_datasec_vars(sec, &[vsi(a, 0, 4)]), Err(BtfError::BadType { .. })));
    assert!(matches!(p.set_size(99, 4), Err(BtfError::NoSuchType { .. })));
    p.set_size(sec, 4).unwrap();
    p.set_datasec_vars(sec, &[vsi(a, 0, 4), vsi(c, 4, 4)]).unwrap();
    let e = p.finish().unwrap_err();
    assert!(e.to_string().contains("beyond the section size 4"), "{e}");

    // Split BTF: the base's types are not this part's to edit; the part's are, on the same base.
    let base = Arc::new(btf);
    let mut sb = BtfBuilder::new_split(&base);
    let v = sb.add_var("v", int, VarLinkage::Global);
    let split = sb.build_split(base.clone()).unwrap();
    let mut p = split.patch();
    assert!(matches!(p.set_size(sec, 16), Err(BtfError::WrongKind { .. })));
    p.set_var_linkage(v, VarLinkage::Extern).unwrap();
    let fixed = p.finish().unwrap();
    assert_eq!(fixed.get(v).unwrap().var_linkage(), Some(VarLinkage::Extern));
    assert!(fixed.is_split());
}

#[test]
fn libbpf_kind_names() {
    assert_eq!(Kind::Void.libbpf_str(), "void");
    assert_eq!(Kind::FuncProto.libbpf_str(), "func_proto");
    for k in Kind::ALL.into_iter().skip(1) {
        assert_eq!(k.libbpf_str(), k.as_str().to_ascii_lowercase());
    }
}
