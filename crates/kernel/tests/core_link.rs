//! Programs compiled against this machine's real `vmlinux.h` (`tests/progs/core_kfuncs.bpf.c`,
//! accepted by the live 6.18 kernel) against the kernel model: every kfunc extern resolves by
//! name to a kfunc whose prototype is compatible the way libbpf compares them
//! (`bpf_core_types_are_compat()`), and every CO-RE field access finds its members, by name and
//! compatible kind, in the host types.
//!
//! This checks the *model* (names, prototypes, members); applying the relocations is the
//! linker's job.

use kfvm_btf::{Btf, Kind};
use kfvm_kernel::registry;
use kfvm_object::{CoreReloKind, ExternKind, Object, RelocKind};

const OBJ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/progs/core_kfuncs.bpf.o");

/// libbpf's `__bpf_core_types_are_compat()`: kinds agree after skipping modifiers and typedefs;
/// ints are compatible whatever their size; pointers, arrays and prototypes recurse.
fn types_compat(local: &Btf, lid: u32, targ: &Btf, tid: u32, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (Ok(l), Ok(t)) = (local.skip_mods_and_typedefs(lid), targ.skip_mods_and_typedefs(tid)) else {
        return false;
    };
    let enumish = |k: Kind| k == Kind::Enum || k == Kind::Enum64;
    if l.kind() != t.kind() && !(enumish(l.kind()) && enumish(t.kind())) {
        return false;
    }
    match l.kind() {
        Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Float => true,
        Kind::Int => l.int().map(|i| i.offset) == Some(0) && t.int().map(|i| i.offset) == Some(0),
        Kind::Ptr => types_compat(local, l.size_or_type(), targ, t.size_or_type(), depth + 1),
        Kind::Array => {
            let (la, ta) = (l.array().unwrap(), t.array().unwrap());
            types_compat(local, la.elem_type, targ, ta.elem_type, depth + 1)
        }
        Kind::FuncProto => {
            let (lp, tp): (Vec<_>, Vec<_>) = (l.params().collect(), t.params().collect());
            lp.len() == tp.len()
                && types_compat(local, l.size_or_type(), targ, t.size_or_type(), depth + 1)
                && lp.iter().zip(&tp).all(|(a, b)| types_compat(local, a.type_id, targ, b.type_id, depth + 1))
        }
        _ => false,
    }
}

/// libbpf's field compatibility for the last accessor of a field relocation.
fn fields_compat(local: &Btf, lid: u32, targ: &Btf, tid: u32) -> bool {
    let (Ok(l), Ok(t)) = (local.skip_mods_and_typedefs(lid), targ.skip_mods_and_typedefs(tid)) else {
        return false;
    };
    match (l.kind(), t.kind()) {
        (Kind::Struct | Kind::Union, Kind::Struct | Kind::Union) => l.kind() == t.kind(),
        (Kind::Int | Kind::Enum | Kind::Enum64, Kind::Int | Kind::Enum | Kind::Enum64) => true,
        (Kind::Ptr, Kind::Ptr) | (Kind::Float, Kind::Float) => true,
        (Kind::Array, Kind::Array) => {
            fields_compat(local, l.array().unwrap().elem_type, targ, t.array().unwrap().elem_type)
        }
        _ => false,
    }
}

/// Resolves the access string of a field relocation against the host BTF: `Ok(member path)` or
/// what is missing.
fn resolve_field(local: &Btf, root: u32, access: &str, targ: &Btf) -> Result<String, String> {
    let idx: Vec<u32> = access.split(':').map(|s| s.parse().unwrap()).collect();
    let lroot = local.skip_mods_and_typedefs(root).unwrap();
    let name = lroot.name();
    let kind = lroot.kind();
    let troot =
        targ.find_by_name_kind(name, kind).ok_or_else(|| format!("no {kind:?} {name} in the model"))?;
    let (mut lcur, mut tcur) = (lroot.id(), troot.id());
    let mut path = name.to_owned();
    for &i in &idx[1..] {
        let l = local.skip_mods_and_typedefs(lcur).unwrap();
        let t = targ.skip_mods_and_typedefs(tcur).unwrap();
        if l.kind() == Kind::Array {
            // An index into an array member: the target must be an array too (flexible arrays
            // take any index).
            let ta = t.array().ok_or_else(|| format!("{path}: not an array in the model"))?;
            if ta.nelems != 0 && i >= ta.nelems {
                return Err(format!("{path}[{i}]: out of the model's {} elements", ta.nelems));
            }
            path.push_str(&format!("[{i}]"));
            lcur = l.array().unwrap().elem_type;
            tcur = ta.elem_type;
            continue;
        }
        let m = l.member(i as usize).ok_or_else(|| format!("{path}: bad local member index {i}"))?;
        if m.name.is_empty() {
            // An anonymous member of the local type: the target finds named members through its
            // own anonymous members, so stay on the target type.
            lcur = m.type_id;
            continue;
        }
        let (tm, _) = targ
            .find_member(tcur, m.name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{path}: the model has no member `{}`", m.name))?;
        path.push('.');
        path.push_str(m.name);
        lcur = m.type_id;
        tcur = tm.type_id;
    }
    if idx.len() > 1 && !fields_compat(local, lcur, targ, tcur) {
        return Err(format!("{path}: incompatible member type"));
    }
    Ok(path)
}

#[test]
fn kfunc_externs_resolve_with_compatible_prototypes() {
    let reg = registry();
    let host = reg.parsed_btf().unwrap();
    let obj = Object::open(OBJ).unwrap();
    let local = Btf::parse(&obj.btf.as_ref().unwrap().to_bytes()).unwrap();
    let local = &local;
    let mut n = 0;
    for e in &obj.externs {
        let ExternKind::Ksym { func: true, type_id } = e.kind else { continue };
        let k = reg.kfunc(&e.essent_name).unwrap_or_else(|| panic!("unresolved kfunc {}", e.essent_name));
        assert!(k.is_kfunc(), "{} is not a kfunc", e.name);
        assert!(
            types_compat(local, type_id, &host, k.proto_id(), 0),
            "{}: the program's prototype does not match the model's {}",
            e.name,
            reg.c_prototype(k.name()).unwrap()
        );
        n += 1;
    }
    assert_eq!(n, 22);
    // Every call site is a kfunc call of one of them.
    for p in &obj.programs {
        for r in &p.relocations {
            if let RelocKind::ExternCall { ext } = r.kind {
                assert!(reg.kfunc(&obj.externs[ext].essent_name).is_some());
            }
        }
    }
    // And each program may call its kfuncs (tp_btf is TRACING; syscall is SYSCALL).
    for p in &obj.programs {
        let t: kfvm_kfunc::BpfProgType = p.prog_type.name().parse().unwrap();
        let prog = kfvm_kfunc::ProgInfo::new(t);
        for r in &p.relocations {
            if let RelocKind::ExternCall { ext } = r.kind {
                let name = &obj.externs[ext].essent_name;
                assert!(reg.is_allowed(name, &prog), "{}: {name} not allowed for {t}", p.name);
            }
        }
    }
}

#[test]
fn core_field_accesses_find_their_members() {
    let reg = registry();
    let host = reg.parsed_btf().unwrap();
    let obj = Object::open(OBJ).unwrap();
    let local = Btf::parse(&obj.btf.as_ref().unwrap().to_bytes()).unwrap();
    let local = &local;
    let mut resolved = Vec::new();
    let mut failures = Vec::new();
    for p in &obj.programs {
        for r in &p.relocations {
            let RelocKind::Core(c) = &r.kind else { continue };
            let res = match c.kind {
                CoreReloKind::FieldByteOffset
                | CoreReloKind::FieldByteSize
                | CoreReloKind::FieldExists
                | CoreReloKind::FieldSigned
                | CoreReloKind::FieldLshiftU64
                | CoreReloKind::FieldRshiftU64 => resolve_field(local, c.type_id, &c.access, &host),
                _ => {
                    let t = local.skip_mods_and_typedefs(c.type_id).unwrap();
                    host.find_by_name_kind(t.name(), t.kind())
                        .map(|_| t.name().to_owned())
                        .ok_or_else(|| format!("no type {}", t.name()))
                }
            };
            match res {
                Ok(path) => resolved.push(path),
                Err(e) => failures.push(format!("{} insn {}: {e}", p.name, r.insn)),
            }
        }
    }
    assert!(failures.is_empty(), "unresolved CO-RE relocations:\n{}", failures.join("\n"));
    resolved.sort();
    resolved.dedup();
    for want in [
        "task_struct.pid",
        "task_struct.tgid",
        "task_struct.comm",
        "task_struct.real_parent",
        "task_struct.cgroups",
        "css_set.dfl_cgrp",
        "cgroup.kn",
        "kernfs_node.id",
        "cgroup.level",
        "cgroup.self.id",
        "cgroup.root",
        "cgroup_root.hierarchy_id",
        "task_struct.mm",
        "mm_struct.exe_file",
        "file.f_inode",
        "inode.i_ino",
        "task_struct.cred",
        "cred.euid.val",
        "task_struct.cpus_ptr",
        "task_struct.nr_cpus_allowed",
    ] {
        assert!(resolved.iter().any(|p| p == want), "no relocation resolved to {want}: {resolved:?}");
    }
}
