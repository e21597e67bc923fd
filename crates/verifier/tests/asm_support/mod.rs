//! The text-assembly test format (`tests/asm/*.s`), shared by the test driver and the
//! `kcompare` example: directives in `;` comments, kfvm's run of a case and the live kernel's.
//!
//! ```text
//! ; expect: accept              the verdict: accept or reject
//! ; msg: R1 !read_ok            a line both logs must contain (repeatable)
//! ; prog_type: xdp              socket (default), xdp, syscall, sched_cls, kprobe, tracepoint, cgroup_skb
//! ; map: array 4 8 1 name       a map: type key_size value_size max_entries [name]; lddw map[idx:N]
//! ; log_level: 2                verify at this level; at 1 or 2 compare the whole log with NAME.log
//!                               (BLESS=1 writes the kernel's); 4 gives messages and statistics only
//! ; processed: 12               kfvm and the kernel process 12 instructions
//! ; flags: test_state_freq      BPF_F_TEST_STATE_FREQ
//! ; run: no                     do not run the accepted program in the interpreter
//! ; func: main global int ctx    BTF func_info, one line per subprogram in order: name, linkage
//!                               (static/global), return type and argument types: int, u64,
//!                               enum, void (return only), ctx (a pointer to the program
//!                               type's context struct), void*, int*, struct:NAME:SIZE[*];
//!                               `nonnull:T` tags the argument `arg:nonnull`
//! .raw 0x07 1 0 3 1             an instruction by its fields: code dst src off imm (for
//!                               encodings the assembler refuses, such as reserved fields)
//! ```

#![allow(dead_code, unreachable_pub)]

use kfvm_isa::disasm::NoSymbols;
use kfvm_isa::RawInsn;
use kfvm_verifier::env::{map_type, prog_type};
use kfvm_verifier::{CheckOptions, MapInfo};
use std::path::Path;

/// A map of a case.
#[derive(Clone, Debug)]
pub struct MapDecl {
    pub info: MapInfo,
}

/// Raw BTF and its func_info records (`insn_off`, `type_id`).
pub type FuncBtf = (Vec<u8>, Vec<(u32, u32)>);

/// One test file.
#[derive(Clone, Debug)]
pub struct Case {
    pub insns: Vec<RawInsn>,
    pub accept: bool,
    pub msgs: Vec<String>,
    pub prog_type: u32,
    pub maps: Vec<MapDecl>,
    pub log_level: Option<u32>,
    pub processed: Option<u32>,
    pub test_state_freq: bool,
    pub run: bool,
    /// `; func:` lines: name, linkage, return type, argument types.
    pub funcs: Vec<(String, String, String, Vec<String>)>,
    /// The program's BTF and func_info built from [`funcs`](Self::funcs).
    pub btf: Option<FuncBtf>,
}

fn map_type_of(s: &str) -> Result<u32, String> {
    Ok(match s {
        "hash" => map_type::HASH,
        "array" => map_type::ARRAY,
        "prog_array" => map_type::PROG_ARRAY,
        "percpu_hash" => map_type::PERCPU_HASH,
        "percpu_array" => map_type::PERCPU_ARRAY,
        "lru_hash" => map_type::LRU_HASH,
        "ringbuf" => map_type::RINGBUF,
        "queue" => map_type::QUEUE,
        "stack" => map_type::STACK,
        other => return Err(format!("unknown map type `{other}`")),
    })
}

fn prog_type_of(s: &str) -> Result<u32, String> {
    Ok(match s {
        "socket" => prog_type::SOCKET_FILTER,
        "xdp" => prog_type::XDP,
        "syscall" => prog_type::SYSCALL,
        "sched_cls" => prog_type::SCHED_CLS,
        "kprobe" => prog_type::KPROBE,
        "tracepoint" => prog_type::TRACEPOINT,
        "cgroup_skb" => prog_type::CGROUP_SKB,
        other => return Err(format!("unknown program type `{other}`")),
    })
}

pub fn parse(path: &Path) -> Result<Case, String> {
    parse_with(path, true)
}

/// [`parse`], with the verdict optional (accept) unless `require_expect`.
pub fn parse_with(path: &Path, require_expect: bool) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut case = Case {
        insns: Vec::new(),
        accept: false,
        msgs: Vec::new(),
        prog_type: prog_type::SOCKET_FILTER,
        maps: Vec::new(),
        log_level: None,
        processed: None,
        test_state_freq: false,
        run: true,
        funcs: Vec::new(),
        btf: None,
    };
    let mut verdict = None;
    for line in text.lines() {
        let Some(d) = line.trim().strip_prefix(';') else { continue };
        let d = d.trim();
        let Some((key, v)) = d.split_once(':') else { continue };
        let v = v.trim();
        match key.trim() {
            "expect" => {
                verdict = Some(match v {
                    "accept" => true,
                    "reject" => false,
                    other => return Err(format!("bad verdict `{other}`")),
                })
            }
            "msg" => case.msgs.push(v.to_string()),
            "prog_type" => case.prog_type = prog_type_of(v)?,
            "map" => {
                let f: Vec<&str> = v.split_whitespace().collect();
                if f.len() < 4 {
                    return Err(format!("bad map `{v}`"));
                }
                let num = |s: &str| s.parse::<u32>().map_err(|e| format!("{s}: {e}"));
                let mut info = MapInfo::new(map_type_of(f[0])?, num(f[1])?, num(f[2])?, num(f[3])?);
                if let Some(n) = f.get(4) {
                    info.name = n.to_string();
                }
                case.maps.push(MapDecl { info });
            }
            "log_level" => case.log_level = Some(v.parse().map_err(|e| format!("log_level: {e}"))?),
            "processed" => case.processed = Some(v.parse().map_err(|e| format!("processed: {e}"))?),
            "flags" => {
                for f in v.split_whitespace() {
                    match f {
                        "test_state_freq" => case.test_state_freq = true,
                        other => return Err(format!("unknown flag `{other}`")),
                    }
                }
            }
            "run" => case.run = v != "no",
            "func" => {
                let f: Vec<&str> = v.split_whitespace().collect();
                if f.len() < 3 {
                    return Err(format!("bad func `{v}`"));
                }
                let args = f[3..].iter().map(|a| a.to_string()).collect();
                case.funcs.push((f[0].to_string(), f[1].to_string(), f[2].to_string(), args));
            }
            _ => {}
        }
    }
    case.accept = match verdict {
        Some(v) => v,
        None if !require_expect => true,
        None => return Err("no `; expect:` line".into()),
    };
    case.insns = assemble_with_raw(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if !case.funcs.is_empty() {
        case.btf = Some(build_func_btf(&case)?);
    }
    Ok(case)
}

/// Assembles `text`, where a line `.raw CODE DST SRC OFF IMM` stands for one slot given by its
/// fields.
pub fn assemble_with_raw(text: &str) -> Result<Vec<RawInsn>, String> {
    let mut raws = std::collections::HashMap::new();
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix(".raw") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let num = |s: &str| -> Result<i64, String> {
                if let Some(h) = s.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).map_err(|e| e.to_string())
                } else {
                    s.parse::<i64>().map_err(|e| e.to_string())
                }
            };
            if f.len() != 5 {
                return Err(format!("line {}: .raw takes code dst src off imm", n + 1));
            }
            let insn = RawInsn::new(
                num(f[0])? as u8,
                num(f[1])? as u8,
                num(f[2])? as u8,
                num(f[3])? as i16,
                num(f[4])? as i32,
            );
            raws.insert(n + 1, insn);
            lines.push("r0 = r0".to_string());
        } else {
            lines.push(line.to_string());
        }
    }
    let text2 = lines.join("\n");
    let items = kfvm_isa::asm::assemble_lines(&text2, &NoSymbols).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (line, insn) in items {
        if let Some(r) = raws.get(&line) {
            out.push(*r);
        } else {
            let (a, b) = insn.encode();
            out.push(a);
            if let Some(b) = b {
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// The name of the context struct of a program type (what a `ctx` argument points to).
fn ctx_struct_name(prog_type: u32) -> &'static str {
    match prog_type {
        prog_type::XDP => "xdp_md",
        prog_type::KPROBE => "pt_regs",
        prog_type::SYSCALL | prog_type::TRACEPOINT => "ctx",
        _ => "__sk_buff",
    }
}

/// BTF for the `; func:` lines and the func_info records pointing at each subprogram.
fn build_func_btf(case: &Case) -> Result<FuncBtf, String> {
    use kfvm_btf::{BtfBuilder, FuncLinkage, IntEncoding};
    let mut b = BtfBuilder::new();
    let mut ints: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut ty = |b: &mut BtfBuilder, t: &str| -> Result<u32, String> {
        let mut int = |b: &mut BtfBuilder, name: &'static str, size: u32, enc: IntEncoding| {
            *ints.entry(name).or_insert_with(|| b.add_int(name, size, enc))
        };
        Ok(match t {
            "void" => 0,
            "int" => int(b, "int", 4, IntEncoding::SIGNED),
            "u64" => int(b, "unsigned long long", 8, IntEncoding::NONE),
            "enum" => b.add_enum("e", 4, false, &[("E0", 0)]),
            "ctx" => {
                let s = b.add_struct(ctx_struct_name(case.prog_type), 0, &[]);
                b.add_ptr(s)
            }
            "void*" => b.add_ptr(0),
            "int*" => {
                let i = int(b, "int", 4, IntEncoding::SIGNED);
                b.add_ptr(i)
            }
            s if s.starts_with("struct:") => {
                let ptr = s.ends_with('*');
                let f: Vec<&str> = s.trim_end_matches('*').split(':').collect();
                let size: u32 = f.get(2).and_then(|x| x.parse().ok()).ok_or(format!("bad type `{s}`"))?;
                let st = b.add_struct(f[1], size, &[]);
                if ptr {
                    b.add_ptr(st)
                } else {
                    st
                }
            }
            other => return Err(format!("unknown BTF type `{other}`")),
        })
    };
    let mut ids = Vec::new();
    for (name, linkage, ret, args) in &case.funcs {
        let r = ty(&mut b, ret)?;
        let mut params = Vec::new();
        let mut tags = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let (tag, a) = match a.split_once(':') {
                Some((t @ "nonnull", rest)) => (Some(t), rest),
                _ => (None, a.as_str()),
            };
            params.push((format!("a{i}"), ty(&mut b, a)?));
            if let Some(t) = tag {
                tags.push((format!("arg:{t}"), i as u32));
            }
        }
        let pr: Vec<(&str, u32)> = params.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        let proto = b.add_func_proto(r, &pr);
        let link = match linkage.as_str() {
            "static" => FuncLinkage::Static,
            "global" => FuncLinkage::Global,
            other => return Err(format!("unknown linkage `{other}`")),
        };
        let f = b.add_func(name, proto, link);
        for (t, i) in tags {
            b.add_decl_tag(&t, f, Some(i));
        }
        ids.push(f);
    }
    let bytes = b.finish().map_err(|e| e.to_string())?;
    // Subprogram starts: 0 and the targets of calls and callback addresses.
    let mut starts = vec![0u32];
    for (i, insn) in case.insns.iter().enumerate() {
        if (insn.code == 0x85 && insn.src() == 1) || (insn.code == 0x18 && insn.src() == 4) {
            starts.push((i as i64 + insn.imm as i64 + 1) as u32);
        }
    }
    starts.sort_unstable();
    starts.dedup();
    while starts.len() < ids.len() {
        starts.push(starts.last().copied().unwrap_or(0) + 1);
    }
    Ok((bytes, starts.into_iter().zip(ids).collect()))
}

impl Case {
    /// The options kfvm verifies the case with.
    pub fn options(&self, log_level: u32) -> CheckOptions {
        CheckOptions {
            prog_type: self.prog_type,
            sleepable: self.prog_type == prog_type::SYSCALL,
            test_state_freq: self.test_state_freq,
            log_level,
            log_size: kfvm_oracle::LOAD_WITH_LOG_SIZE,
            maps: self.maps.iter().map(|m| m.info.clone()).collect(),
            prog_btf: self.btf.as_ref().map(|(bytes, fi)| kfvm_verifier::env::ProgBtf {
                btf: std::sync::Arc::new(kfvm_btf::Btf::parse(bytes).expect("the case's BTF parses")),
                func_info: fi.clone(),
            }),
            ..Default::default()
        }
    }

    /// Loads the case into the live kernel.
    pub fn kernel_load(&self, log_level: u32) -> Result<kfvm_oracle::Loaded, String> {
        let mut fds = Vec::new();
        for m in &self.maps {
            let spec = kfvm_oracle::MapSpec {
                map_type: m.info.map_type,
                key_size: m.info.key_size,
                value_size: m.info.value_size,
                max_entries: m.info.max_entries,
                map_flags: m.info.map_flags,
                name: m.info.name.clone(),
                btf: None,
            };
            fds.push(kfvm_oracle::create_map(&spec).map_err(|e| format!("map create: {e}"))?);
        }
        use std::os::fd::AsRawFd;
        let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let flags = if self.prog_type == prog_type::SYSCALL { kfvm_oracle::F_SLEEPABLE } else { 0 }
            | if self.test_state_freq { 1 << 3 } else { 0 };
        let opts = kfvm_oracle::LoadOpts {
            prog_type: self.prog_type,
            flags,
            log_level,
            fd_array: &raw,
            prog_btf: self.btf.as_ref().map_or(&[][..], |b| &b.0),
            func_info: self.btf.as_ref().map_or(&[][..], |b| &b.1),
            ..Default::default()
        };
        Ok(kfvm_oracle::load_with(&self.insns, &opts))
    }
}

/// The log with what differs between two runs of the same verifier made uniform: map addresses
/// and the verification time.
pub fn normalize_log(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        if line.starts_with("verification time ") {
            out.push_str("verification time N usec\n");
            continue;
        }
        let mut l = String::new();
        let mut rest = line;
        while let Some(p) = rest.find("0xffff") {
            l.push_str(&rest[..p]);
            let tail = &rest[p..];
            let end = tail[2..].find(|c: char| !c.is_ascii_hexdigit()).map_or(tail.len(), |e| e + 2);
            if end == 18 && !tail.starts_with("0xffffffff") {
                l.push_str("0xMAP");
            } else {
                l.push_str(&tail[..end]);
            }
            rest = &tail[end..];
        }
        l.push_str(rest);
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// `processed N insns` of a log.
pub fn processed_of(log: &str) -> Option<u32> {
    let p = log.rfind("processed ")?;
    log[p + 10..].split_whitespace().next()?.parse().ok()
}
