//! The committed corpus (`tests/data`, rebuilt by `tests/data/rebuild.sh`): a clang-compiled BPF
//! object and builder-made blobs, each with bpftool's raw and C dumps of it. kfvm must print
//! exactly what bpftool printed; the queries must find what the C source declares.

mod common;

use common::*;
use kfvm_btf::{
    c_decl, dump_c, dump_raw, Btf, BtfBuilder, BtfExt, CDumpOptions, CoreReloKind, FuncLinkage, Kind,
    TypeData, VarLinkage,
};
use std::sync::Arc;

fn kinds() -> Btf {
    let (btf, _) = object_btf("kinds.bpf.o");
    Btf::from_vec(btf).expect("kinds.bpf.o .BTF parses")
}

#[test]
fn clang_object_dumps_like_bpftool() {
    let btf = kinds();
    assert_same_text("raw dump of kinds.bpf.o", &dump_raw(&btf), &text("kinds.raw.expected"));
    assert_same_text(
        "C dump of kinds.bpf.o",
        &dump_c(&btf, &CDumpOptions::default()).unwrap(),
        &text("kinds.h.expected"),
    );
}

#[test]
fn builder_blobs_are_committed() {
    check_or_bless("built_all_kinds.btf", &all_kinds().finish().unwrap());
    check_or_bless("built_attrs.btf", &attrs().finish().unwrap());
    let (base, split) = split_pair();
    check_or_bless("built_split_base.btf", &base);
    check_or_bless("built_split.btf", &split);
}

#[test]
fn builder_blobs_dump_like_bpftool() {
    let btf = Btf::from_vec(data("built_all_kinds.btf")).expect("parses");
    assert_same_text(
        "raw dump of built_all_kinds.btf",
        &dump_raw(&btf),
        &text("built_all_kinds.raw.expected"),
    );
    assert_same_text(
        "C dump of built_all_kinds.btf",
        &dump_c(&btf, &CDumpOptions::default()).unwrap(),
        &text("built_all_kinds.h.expected"),
    );
    let base = Arc::new(Btf::from_vec(data("built_split_base.btf")).expect("base parses"));
    let split = Btf::from_vec_split(data("built_split.btf"), base).expect("split parses");
    assert_same_text("raw dump of built_split.btf", &dump_raw(&split), &text("built_split.raw.expected"));
    assert_same_text(
        "C dump of built_split.btf",
        &dump_c(&split, &CDumpOptions::default()).unwrap(),
        &text("built_split.h.expected"),
    );
}

/// What bpftool 7.5+ (`format c`: sorted, kfunc prototypes, enum mode attributes, attribute
/// tags) printed for the corpus: `*.latest.h.expected`, made by rebuild.sh with
/// `BPFTOOL_LATEST` (bpftool 7.8.0 built from libbpf/bpftool).
#[test]
fn corpus_dumps_like_latest_bpftool() {
    let latest = CDumpOptions::bpftool_latest();
    let cases: [(&str, Btf); 3] = [
        ("kinds", kinds()),
        ("built_all_kinds", Btf::from_vec(data("built_all_kinds.btf")).unwrap()),
        ("built_attrs", Btf::from_vec(data("built_attrs.btf")).unwrap()),
    ];
    for (name, btf) in &cases {
        assert_same_text(
            &format!("latest-bpftool C dump of {name}"),
            &dump_c(btf, &latest).unwrap(),
            &text(&format!("{name}.latest.h.expected")),
        );
    }
    let base = Arc::new(Btf::from_vec(data("built_split_base.btf")).unwrap());
    let split = Btf::from_vec_split(data("built_split.btf"), base).unwrap();
    assert_same_text(
        "latest-bpftool C dump of built_split",
        &dump_c(&split, &latest).unwrap(),
        &text("built_split.latest.h.expected"),
    );
    let attrs = &cases[2].1;
    assert_same_text("raw dump of built_attrs", &dump_raw(attrs), &text("built_attrs.raw.expected"));
}

#[test]
fn clang_object_round_trips_through_the_builder() {
    let btf = kinds();
    let rebuilt = BtfBuilder::from_btf(&btf).build().expect("rebuilt BTF validates");
    assert_eq!(rebuilt.type_count(), btf.type_count());
    assert_same_text("rebuilt raw dump", &dump_raw(&rebuilt), &dump_raw(&btf));
    // Rebuilding what the builder wrote is byte-identical.
    let bytes = BtfBuilder::from_btf(&rebuilt).finish().unwrap();
    assert_eq!(bytes, rebuilt.raw_data());
}

#[test]
fn queries_find_what_the_source_declares() {
    let btf = kinds();
    let nested = btf.find_by_name_kind("nested", Kind::Struct).expect("struct nested");
    assert_eq!(nested.size(), Some(272));
    assert_eq!(btf.resolve_size(nested.id()).unwrap(), 272);
    let names: Vec<&str> = nested.members().map(|m| m.name).collect();
    assert_eq!(&names[..4], &["kind", "", "e", "list"]);

    // Members reached through the anonymous union, with their offsets.
    let (hi, off) = btf.find_member(nested.id(), "parts").unwrap().unwrap();
    assert_eq!((hi.name, off), ("parts", 64));
    let (all, off) = btf.find_member(nested.id(), "all").unwrap().unwrap();
    assert_eq!(off, 64);
    assert_eq!(btf.resolve_size(all.type_id).unwrap(), 8);
    assert!(btf.find_member(nested.id(), "nope").unwrap().is_none());

    // Bitfields (kind_flag encoding).
    let bits = btf.find_by_name_kind("bits", Kind::Struct).unwrap();
    assert!(bits.kind_flag());
    let d = bits.member_by_name("d").unwrap();
    assert_eq!((d.bit_offset, d.bitfield_size), (20, 40));
    assert!(d.is_bitfield());
    let e = bits.member_by_name("e").unwrap();
    assert_eq!((e.bit_offset, e.bitfield_size, e.byte_offset()), (64, 0, 8));

    // Modifiers and typedefs.
    let cv = nested.member_by_name("cv").unwrap();
    assert_eq!(btf.skip_mods_and_typedefs(cv.type_id).unwrap().name(), "int");
    let cfg = btf.find_by_name_kind("cfg_val", Kind::Var).unwrap();
    let stripped = btf.strip_mods(cfg.type_id().unwrap()).unwrap();
    assert_eq!((stripped.kind(), stripped.name()), (Kind::Typedef, "u32"));
    assert_eq!(btf.skip_mods_and_typedefs(cfg.type_id().unwrap()).unwrap().name(), "unsigned int");
    let matrix = nested.member_by_name("matrix").unwrap();
    assert_eq!(btf.resolve_size(matrix.type_id).unwrap(), 48);
    assert_eq!(c_decl(&btf, matrix.type_id, "m").unwrap(), "int m[3][4]");
    let ops = nested.member_by_name("ops").unwrap();
    assert_eq!(c_decl(&btf, ops.type_id, "ops").unwrap(), "int (*ops[4])(void)");
    assert_eq!(btf.align_of(nested.id()).unwrap(), 8);
    let packed = btf.find_by_name_kind("packed_s", Kind::Struct).unwrap();
    assert_eq!(btf.align_of(packed.id()).unwrap(), 1);

    // Enums: signed, 64-bit, one byte.
    let color = btf.find_by_name_kind("color", Kind::Enum).unwrap();
    assert!(color.enum_is_signed());
    assert_eq!(color.enum_value("BLUE").unwrap().as_i64(), -1);
    assert_eq!(color.enum_value("GREEN").unwrap().value(), 5);
    let big = btf.find_by_name_kind("big64", Kind::Enum64).unwrap();
    assert_eq!(big.enum_value("BIG_A").unwrap().as_u64(), 1 << 32);
    let (owner, v) = btf.find_enum_value("S_B").unwrap();
    assert_eq!((owner.name(), owner.size(), v.as_u64()), ("small8", Some(1), 200));

    // Functions: parameter names, linkage, decl tags on the function and on a parameter.
    let sub = btf.find_by_name_kind("sub", Kind::Func).unwrap();
    assert_eq!(sub.func_linkage(), Some(FuncLinkage::Global));
    let proto = btf.func_proto(sub.id()).unwrap();
    let params: Vec<(&str, &str)> =
        proto.params().map(|p| (p.name, btf.type_by_id(p.type_id).unwrap().kind().as_str())).collect();
    assert_eq!(params, [("n", "PTR"), ("x", "INT")]);
    assert!(btf.has_decl_tag(sub.id(), "sub_tag"));
    let arg_tags = btf.component_decl_tags(sub.id(), 0);
    assert_eq!(arg_tags.len(), 1);
    assert_eq!(arg_tags[0].value, "arg_tag");
    let tagged_funcs: Vec<&str> = btf.funcs_with_decl_tag("sub_tag").iter().map(|t| t.name()).collect();
    assert_eq!(tagged_funcs, ["sub"]);
    let kf = btf.find_by_name_kind("bpf_kfunc_test", Kind::Func).unwrap();
    assert_eq!(kf.func_linkage(), Some(FuncLinkage::Extern));

    // Decl tags on a struct, a member and a variable.
    let tagged = btf.find_by_name_kind("tagged", Kind::Struct).unwrap();
    let tags = btf.decl_tags(tagged.id());
    assert!(tags.iter().any(|t| t.value == "struct_tag" && t.component.is_none()));
    assert!(tags.iter().any(|t| t.value == "member_tag" && t.component == Some(4)));
    let var = btf.find_by_name_kind("g_tagged", Kind::Var).unwrap();
    assert_eq!(var.var_linkage(), Some(VarLinkage::Global));
    assert!(btf.has_decl_tag(var.id(), "var_tag"));

    // Type tags after pointers.
    for (member, tag) in [("uptr", "user"), ("rcu_ptr", "rcu"), ("kptr", "kptr"), ("pcpu", "percpu")] {
        let m = tagged.member_by_name(member).unwrap();
        let tt = btf.ptr_type_tags(m.type_id).unwrap();
        assert_eq!(tt.tags, [tag], "{member}");
        assert!(tt.has(tag));
    }
    let rcu = btf.ptr_type_tags(tagged.member_by_name("rcu_ptr").unwrap().type_id).unwrap();
    assert_eq!(btf.type_by_id(rcu.target).unwrap().name(), "list_head");

    // DATASECs and their variables.
    let bss = btf.find_by_name_kind(".bss", Kind::Datasec).unwrap();
    let vars: Vec<&str> = bss.datasec_vars().map(|v| btf.type_by_id(v.type_id).unwrap().name()).collect();
    assert_eq!(vars, ["g_nested", "g_tagged", "g_anon", "g_flex", "g_empty"]);
    let ksyms = btf.find_by_name_kind(".ksyms", Kind::Datasec).unwrap();
    let TypeData::Datasec { vars, .. } = ksyms.data() else { panic!("not a datasec") };
    assert_eq!(vars.count(), 1);

    // Every name is found by find_by_name, in id order.
    for t in btf.types().filter(|t| !t.is_anon()) {
        let found = btf.find_by_name(t.name());
        assert!(found.iter().any(|f| f.id() == t.id()), "{t:?}");
        assert!(found.windows(2).all(|w| w[0].id() < w[1].id()));
    }
}

#[test]
fn btf_ext_records() {
    let (btf_bytes, ext) = object_btf("kinds.bpf.o");
    let btf = Btf::from_vec(btf_bytes).unwrap();
    let ext = BtfExt::parse(&ext.expect(".BTF.ext"), &btf).expect(".BTF.ext parses");
    assert_eq!((ext.func_info_rec_size, ext.line_info_rec_size, ext.core_relo_rec_size), (8, 16, 16));

    // func_info: prog in "xdp", the subprograms in ".text".
    let name = |id: u32| btf.type_by_id(id).unwrap().name();
    let xdp = ext.func_info_for("xdp").expect("xdp func_info");
    assert_eq!(xdp.records.len(), 1);
    assert_eq!((xdp.records[0].insn_idx(), name(xdp.records[0].type_id)), (0, "prog"));
    let text_fi = ext.func_info_for(".text").expect(".text func_info");
    let mut subs: Vec<&str> = text_fi.records.iter().map(|r| name(r.type_id)).collect();
    subs.sort();
    assert_eq!(subs, ["static_sub", "sub"]);

    // line_info: file names and line texts from the .BTF strings; line/column decoding.
    let lines = ext.line_info_for(".text").expect(".text line_info");
    assert!(lines.records.iter().all(|l| l.file_name(&btf).ends_with("kinds.bpf.c")));
    let ret = lines
        .records
        .iter()
        .find(|l| l.line_text(&btf).contains("return n->kind + x + (int)cfg_val;"))
        .expect("line of sub's return");
    let src = text("kinds.bpf.c");
    let lineno =
        src.lines().position(|l| l.contains("return n->kind + x + (int)cfg_val;")).unwrap() as u32 + 1;
    assert_eq!(ret.line(), lineno);
    assert!(ret.column() > 0);
    assert_eq!(ret.line_col, ret.line() << 10 | ret.column());
    let xdp_lines = ext.line_info_for("xdp").expect("xdp line_info");
    assert_eq!(xdp_lines.records[0].insn_off, 0);
    assert!(xdp_lines.records.windows(2).all(|w| w[0].insn_off <= w[1].insn_off));

    // CO-RE relocations: every family the source asks for.
    let mut kinds: Vec<CoreReloKind> =
        ext.core_relos.iter().flat_map(|s| s.records.iter().map(|r| r.kind)).collect();
    kinds.sort_by_key(|k| *k as u32);
    kinds.dedup();
    use CoreReloKind::*;
    assert_eq!(
        kinds,
        [
            FieldByteOffset,
            FieldByteSize,
            FieldExists,
            FieldLshiftU64,
            TypeIdLocal,
            TypeExists,
            TypeSize,
            EnumvalValue
        ]
    );
    let relos = ext.core_relos_for("xdp").expect("xdp relocations");
    // ctx->data_end: struct ctx_like, member 1 of the pointee.
    let data_end = relos
        .records
        .iter()
        .find(|r| r.kind == FieldByteOffset && name(r.type_id) == "ctx_like" && r.access_str(&btf) == "0:1")
        .expect("ctx->data_end relocation");
    assert_eq!(data_end.access_spec(&btf), Some(vec![0, 1]));
    let enumval = relos.records.iter().find(|r| r.kind == EnumvalValue).unwrap();
    assert_eq!(name(enumval.type_id), "color");
    assert_eq!(enumval.access_str(&btf), "1"); // GREEN is enumerator 1
    let text_relos = ext.core_relos_for(".text").expect(".text relocations");
    let exists = text_relos.records.iter().find(|r| r.kind == FieldExists).unwrap();
    assert_eq!(name(exists.type_id), "core_target");
    assert_eq!(exists.access_spec(&btf), Some(vec![0, 1, 1])); // t->in.z
    assert!(FieldExists.is_field() && TypeSize.is_type() && EnumvalValue.is_enumval());
}
