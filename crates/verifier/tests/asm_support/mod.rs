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
            _ => {}
        }
    }
    case.accept = match verdict {
        Some(v) => v,
        None if !require_expect => true,
        None => return Err("no `; expect:` line".into()),
    };
    case.insns = assemble_with_raw(&text).map_err(|e| format!("{}: {e}", path.display()))?;
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

impl Case {
    /// The options kfvm verifies the case with.
    pub fn options(&self, log_level: u32) -> CheckOptions {
        CheckOptions {
            prog_type: self.prog_type,
            sleepable: self.prog_type == prog_type::SYSCALL,
            test_state_freq: self.test_state_freq,
            log_level,
            maps: self.maps.iter().map(|m| m.info.clone()).collect(),
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
